#include "image/blob_stream.hpp"

#include <archive.h>
#include <unistd.h>

#include <cerrno>

#include "base/errno_names.hpp"
#include "base/io.hpp"

namespace cell::image {

namespace {
constexpr std::size_t kChunk = 1 << 20;
}

void ArchiveFree::operator()(struct archive* a) const noexcept {
  archive_read_free(a);
}

BlobStream::BlobStream(UniqueFd in, std::string what, std::uint64_t max_bytes)
    : in_(std::move(in)), what_(std::move(what)), max_bytes_(max_bytes), buf_(kChunk) {}

long BlobStream::read_callback(struct archive* /*a*/, void* self, const void** out) {
  return static_cast<BlobStream*>(self)->next_chunk(out);
}

long BlobStream::next_chunk(const void** out) {
  const ssize_t n = read_full(in_.get(), buf_.data(), buf_.size());
  if (n < 0) {
    failure_ = "read: " + errno_describe(errno);
    return -1;
  }
  bytes_ += static_cast<std::uint64_t>(n);
  if (bytes_ > max_bytes_) {
    failure_ = "larger than " + std::to_string(max_bytes_) + " bytes (ImageLimits.max_blob_bytes)";
    return -1;
  }
  hash_.update(buf_.data(), static_cast<std::size_t>(n));
  if (copy_fd_ >= 0 && n > 0 &&
      write_full(copy_fd_, buf_.data(), static_cast<std::size_t>(n)) != 0) {
    failure_ = "writing the store's copy: " + errno_describe(errno);
    return -1;
  }
  if (progress_) progress_(bytes_);
  *out = buf_.data();
  return n;
}

Result<ArchivePtr> BlobStream::open_tar() {
  ArchivePtr a(archive_read_new());
  if (!a) return Error::make(ErrorKind::internal, "archive_read_new failed");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open(a.get(), this, nullptr, &BlobStream::read_callback, nullptr) !=
      ARCHIVE_OK) {
    const char* why = archive_error_string(a.get());
    return Error::make(
        ErrorKind::io,
        what_ + ": " + (failure_.empty() ? (why ? why : "not a tar stream") : failure_));
  }
  return a;
}

Result<std::string> BlobStream::finish() {
  const void* chunk = nullptr;
  for (;;) {
    const long n = next_chunk(&chunk);
    if (n < 0) return Error::make(ErrorKind::io, what_ + ": " + failure_);
    if (n == 0) break;
  }
  return hash_.finish();
}

Result<std::string> BlobStream::read_all(std::size_t limit) {
  std::string out;
  const void* chunk = nullptr;
  for (;;) {
    const long n = next_chunk(&chunk);
    if (n < 0) return Error::make(ErrorKind::io, what_ + ": " + failure_);
    if (n == 0) break;
    out.append(static_cast<const char*>(chunk), static_cast<std::size_t>(n));
    if (out.size() > limit)
      return Error::make(ErrorKind::io, what_ + ": larger than " + std::to_string(limit) +
                                            " bytes (ImageLimits.max_json_bytes)");
  }
  return out;
}

Result<void> check_blob(const std::string& what, const std::string& expected_digest,
                        std::int64_t expected_size, const std::string& actual_digest,
                        std::uint64_t actual_size) {
  if (actual_digest != expected_digest)
    return Error::make(ErrorKind::io,
                       what + ": digest mismatch: content hashes to " + actual_digest);
  if (expected_size >= 0 && actual_size != static_cast<std::uint64_t>(expected_size))
    return Error::make(ErrorKind::io, what + ": size mismatch: " + std::to_string(actual_size) +
                                          " bytes, descriptor says " +
                                          std::to_string(expected_size));
  return {};
}

}  // namespace cell::image
