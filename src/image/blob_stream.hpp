// Reading a blob once: every byte is hashed (and optionally copied into the store) as
// libarchive decompresses and parses it, so a layer costs one pass over its bytes.
#pragma once

#include <cell/error.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "image/digest.hpp"

struct archive;

namespace cell::image {

struct ArchiveFree {
  void operator()(struct archive* a) const noexcept;
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveFree>;

class BlobStream {
 public:
  // `what` names the blob in errors; reading more than `max_bytes` fails.
  BlobStream(UniqueFd in, std::string what, std::uint64_t max_bytes);

  // Also write every byte read to `fd` (a temporary file in the store).
  void copy_to(int fd) { copy_fd_ = fd; }
  // Called with the number of bytes read so far, after each chunk.
  void on_progress(std::function<void(std::uint64_t)> f) { progress_ = std::move(f); }

  // A libarchive reader over the stream: tar (ustar, pax, GNU) raw or under gzip or zstd.
  Result<ArchivePtr> open_tar();
  // Reads what the archive reader left (padding, a missing end-of-archive) and returns the
  // digest of everything.
  Result<std::string> finish();
  // Reads the whole stream into memory (JSON documents), up to `limit` bytes.
  Result<std::string> read_all(std::size_t limit);

  // The problem that made the last read fail (libarchive only sees "-1").
  [[nodiscard]] const std::string& failure() const { return failure_; }
  [[nodiscard]] std::uint64_t bytes() const { return bytes_; }
  [[nodiscard]] const std::string& what() const { return what_; }

 private:
  static long read_callback(struct archive* a, void* self, const void** out);
  long next_chunk(const void** out);

  UniqueFd in_;
  std::string what_;
  std::uint64_t max_bytes_;
  int copy_fd_ = -1;
  std::function<void(std::uint64_t)> progress_;
  Sha256 hash_;
  std::uint64_t bytes_ = 0;
  std::vector<char> buf_;
  std::string failure_;
};

// Checks a blob's digest and size against its descriptor; one-line error naming the blob.
Result<void> check_blob(const std::string& what, const std::string& expected_digest,
                        std::int64_t expected_size, const std::string& actual_digest,
                        std::uint64_t actual_size);

}  // namespace cell::image
