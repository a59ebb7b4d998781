#include "image/digest.hpp"

#include <openssl/sha.h>

namespace cell::image {

// libcrypto's SHA256_* calls, not EVP: EVP drags OpenSSL's provider and algorithm tables into
// the statically linked `cell` (332 KB of pointers ld.so relocates at every start, ~100 page
// faults and 0.2-0.3 ms per `cell run` that never hashes anything). Deprecated in OpenSSL 3 in
// favour of EVP, but kept and using the same assembly.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

struct Sha256::Ctx {
  SHA256_CTX sha;
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  SHA256_Init(&ctx_->sha);
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, std::size_t len) {
  SHA256_Update(&ctx_->sha, data, len);
}

std::string Sha256::finish() {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256_Final(out, &ctx_->sha);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "sha256:";
  for (unsigned char b : out) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

#pragma GCC diagnostic pop

std::string sha256_digest(std::string_view data) {
  Sha256 h;
  h.update(data.data(), data.size());
  return h.finish();
}

bool valid_digest(std::string_view digest, std::string& why) {
  const std::size_t colon = digest.find(':');
  if (colon == std::string_view::npos) {
    why = "'" + std::string(digest) + "' is not a digest (ALGORITHM:HEX)";
    return false;
  }
  if (digest.substr(0, colon) != "sha256") {
    why = "digest algorithm '" + std::string(digest.substr(0, colon)) +
          "' is not supported (sha256 only)";
    return false;
  }
  const std::string_view hex = digest.substr(colon + 1);
  bool ok = hex.size() == 64;
  for (char c : hex) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!ok) why = "'" + std::string(digest) + "' is not a sha256 digest (64 lowercase hex digits)";
  return ok;
}

}  // namespace cell::image
