// Reading a blob once: every byte is hashed (and optionally copied into the store) as
// libarchive decompresses and parses it, so a layer costs one pass over its bytes. A layer is
// read by two libarchive readers: one decompresses (gzip, zstd or nothing, from the content)
// and one parses tar from the decompressed bytes, which are hashed on the way: that digest is
// the layer's diff_id, checked against the image config.
#pragma once

#include <cell/error.hpp>

#include <atomic>
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
  // Reads fail with "import interrupted" once `*flag` is set.
  void cancel_on(const std::atomic<bool>* flag) { cancel_ = flag; }

  // A libarchive reader over the stream: tar (ustar, pax, GNU) raw or under gzip or zstd. It
  // must be destroyed before this stream.
  Result<ArchivePtr> open_tar();
  // Reads what the tar reader left (padding, a missing end-of-archive, what follows the
  // decompressed stream) and returns the digest of everything. Without `want_diff_id` (after
  // a failure) the rest is not decompressed.
  Result<std::string> finish(bool want_diff_id = true);
  // After finish(): the digest of the decompressed stream (the blob's digest when it is not
  // compressed); empty if decompression failed (decompress_failure() says why), more than
  // 64 MiB followed the tar stream, or no tar reader was opened.
  [[nodiscard]] const std::string& diff_id() const { return diff_id_; }
  [[nodiscard]] const std::string& decompress_failure() const { return plain_failure_; }
  // ARCHIVE_FILTER_* of the stream (after open_tar()).
  [[nodiscard]] int filter() const { return filter_; }
  // Reads the whole stream into memory (JSON documents), up to `limit` bytes.
  Result<std::string> read_all(std::size_t limit);

  // The problem that made the last read fail (libarchive only sees "-1").
  [[nodiscard]] const std::string& failure() const { return failure_; }
  [[nodiscard]] std::uint64_t bytes() const { return bytes_; }
  [[nodiscard]] const std::string& what() const { return what_; }

 private:
  static long read_callback(struct archive* a, void* self, const void** out);
  static long plain_callback(struct archive* a, void* self, const void** out);
  long next_chunk(const void** out);
  long next_plain(const void** out);
  Result<void> open_decompressor();

  UniqueFd in_;
  std::string what_;
  std::uint64_t max_bytes_;
  int copy_fd_ = -1;
  std::function<void(std::uint64_t)> progress_;
  Sha256 hash_;
  std::uint64_t bytes_ = 0;
  std::vector<char> buf_;
  std::string failure_;
  const std::atomic<bool>* cancel_ = nullptr;
  // The decompressing reader (libarchive's raw format under the gzip/zstd filters).
  ArchivePtr raw_;
  bool raw_eof_ = false;
  int filter_ = 0;
  Sha256 plain_hash_;
  std::vector<char> plain_buf_;
  std::string plain_failure_, diff_id_;
};

// Checks a blob's digest and size against its descriptor; one-line error naming the blob.
Result<void> check_blob(const std::string& what, const std::string& expected_digest,
                        std::int64_t expected_size, const std::string& actual_digest,
                        std::uint64_t actual_size);

}  // namespace cell::image
