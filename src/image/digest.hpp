// SHA-256 digests (libcrypto) in the OCI "sha256:<64 hex>" form.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace cell::image {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t len);
  // "sha256:<hex>"; the hasher cannot be used afterwards.
  std::string finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string sha256_digest(std::string_view data);

// True for "sha256:" followed by 64 lowercase hex digits; `why` says what is wrong otherwise.
bool valid_digest(std::string_view digest, std::string& why);
// The hex part of a valid digest.
inline std::string digest_hex(std::string_view digest) {
  return std::string(digest.substr(7));
}
// "sha256:0123456789ab" for messages.
inline std::string short_digest(std::string_view digest) {
  return std::string(digest.substr(0, 19));
}

}  // namespace cell::image
