#include "image/blob_stream.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <cerrno>

#include "base/errno_names.hpp"
#include "base/io.hpp"
#include "image/cancel.hpp"

namespace cell::image {

namespace {
constexpr std::size_t kChunk = 1 << 20;
// Decompressed bytes after the tar stream's end that finish() still hashes (tar writers pad to
// a record of 10 KiB or so): more is a decompression bomb hiding behind the end-of-archive.
constexpr std::uint64_t kMaxTrailing = 64 << 20;
}  // namespace

void ArchiveFree::operator()(struct archive* a) const noexcept {
  archive_read_free(a);
}

BlobStream::BlobStream(UniqueFd in, std::string what, std::uint64_t max_bytes)
    : in_(std::move(in)), what_(std::move(what)), max_bytes_(max_bytes), buf_(kChunk) {}

long BlobStream::read_callback(struct archive* /*a*/, void* self, const void** out) {
  return static_cast<BlobStream*>(self)->next_chunk(out);
}

long BlobStream::plain_callback(struct archive* /*a*/, void* self, const void** out) {
  return static_cast<BlobStream*>(self)->next_plain(out);
}

long BlobStream::next_chunk(const void** out) {
  if (cancelled(cancel_)) {
    failure_ = interrupted().message;
    return -1;
  }
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

// Decompressed bytes for the tar reader, hashed on the way (unless there is no compression:
// then they are the blob's bytes, already hashed).
long BlobStream::next_plain(const void** out) {
  if (raw_eof_) return 0;
  const la_ssize_t n = archive_read_data(raw_.get(), plain_buf_.data(), plain_buf_.size());
  if (n < 0) {
    const char* why = archive_error_string(raw_.get());
    if (plain_failure_.empty()) plain_failure_ = why ? why : "decompression failed";
    return -1;
  }
  if (n == 0) raw_eof_ = true;
  if (filter_ != ARCHIVE_FILTER_NONE)
    plain_hash_.update(plain_buf_.data(), static_cast<std::size_t>(n));
  *out = plain_buf_.data();
  return static_cast<long>(n);
}

Result<void> BlobStream::open_decompressor() {
  raw_.reset(archive_read_new());
  if (!raw_) return Error::make(ErrorKind::internal, "archive_read_new failed");
  archive_read_support_filter_gzip(raw_.get());
  archive_read_support_filter_zstd(raw_.get());
  archive_read_support_format_raw(raw_.get());
  archive_read_support_format_empty(raw_.get());
  struct archive_entry* e = nullptr;
  int r = archive_read_open(raw_.get(), this, nullptr, &BlobStream::read_callback, nullptr);
  if (r == ARCHIVE_OK) r = archive_read_next_header(raw_.get(), &e);
  if (r == ARCHIVE_EOF) {
    raw_eof_ = true;  // nothing at all
  } else if (r != ARCHIVE_OK) {
    const char* why = archive_error_string(raw_.get());
    return Error::make(
        ErrorKind::io,
        what_ + ": " + (failure_.empty() ? (why ? why : "not a tar stream") : failure_));
  }
  filter_ = archive_filter_code(raw_.get(), 0);
  plain_buf_.resize(kChunk);
  return {};
}

Result<ArchivePtr> BlobStream::open_tar() {
  CELL_TRY(open_decompressor());
  ArchivePtr a(archive_read_new());
  if (!a) return Error::make(ErrorKind::internal, "archive_read_new failed");
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open(a.get(), this, nullptr, &BlobStream::plain_callback, nullptr) !=
      ARCHIVE_OK) {
    const char* why = archive_error_string(a.get());
    const std::string& cause = !failure_.empty() ? failure_ : plain_failure_;
    return Error::make(ErrorKind::io,
                       what_ + ": " + (cause.empty() ? (why ? why : "not a tar stream") : cause));
  }
  return a;
}

Result<std::string> BlobStream::finish(bool want_diff_id) {
  if (raw_ && want_diff_id) {  // the decompressed stream to its end, for the diff_id
    const void* chunk = nullptr;
    std::uint64_t trailing = 0;
    for (long n = 1; plain_failure_.empty() && failure_.empty() && n > 0;) {
      n = next_plain(&chunk);
      trailing += n > 0 ? static_cast<std::uint64_t>(n) : 0;
      if (trailing > kMaxTrailing)
        plain_failure_ = "more than " + std::to_string(kMaxTrailing >> 20) +
                         " MiB of data after the end of the tar stream";
    }
    if (plain_failure_.empty() && failure_.empty() && filter_ != ARCHIVE_FILTER_NONE)
      diff_id_ = plain_hash_.finish();
  }
  const void* chunk = nullptr;
  for (;;) {
    const long n = next_chunk(&chunk);
    if (n < 0) return Error::make(ErrorKind::io, what_ + ": " + failure_);
    if (n == 0) break;
  }
  std::string digest = hash_.finish();
  if (raw_ && want_diff_id && filter_ == ARCHIVE_FILTER_NONE && plain_failure_.empty())
    diff_id_ = digest;
  return digest;
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
