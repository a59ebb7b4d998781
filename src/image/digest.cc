#include "image/digest.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace cell::image {

struct Sha256::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  // Allocation failure inside libcrypto: nothing sensible to return from a constructor.
  if (ctx_->md == nullptr || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1)
    throw std::bad_alloc();
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, std::size_t len) {
  EVP_DigestUpdate(ctx_->md, data, len);
}

std::string Sha256::finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_->md, out, &n);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "sha256:";
  for (unsigned i = 0; i < n; ++i) {
    s += kHex[out[i] >> 4];
    s += kHex[out[i] & 15];
  }
  return s;
}

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
