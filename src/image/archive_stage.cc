#include "image/archive_stage.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/errno_names.hpp"
#include "base/io.hpp"
#include "base/strings.hpp"
#include "image/blob_stream.hpp"
#include "image/cancel.hpp"
#include "image/digest.hpp"
#include "image/safe_fs.hpp"

namespace cell::image {

namespace {

constexpr int kMaxLinkHops = 40;

enum class Wanted { skip, text, blob };

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// What an image can refer to: the OCI layout files and blobs, docker-archive's manifest.json,
// digest-named configs and layers (legacy DIR/layer.tar, or HEX.tar).
Wanted wanted(const Components& c) {
  if (c.size() == 1) {
    if (c[0] == "oci-layout" || ends_with(c[0], ".json")) return Wanted::text;
    return ends_with(c[0], ".tar") ? Wanted::blob : Wanted::skip;
  }
  if (c.size() == 2 && c[1] == "layer.tar") return Wanted::blob;
  if (c.size() == 3 && c[0] == "blobs") return Wanted::blob;
  return Wanted::skip;
}

// "blobs/sha256/HEX" -> "sha256:HEX"; empty for other names.
std::string digest_named(const std::string& path) {
  if (!starts_with(path, "blobs/")) return {};
  const std::size_t slash = path.find('/', 6);
  if (slash == std::string::npos) return {};
  return path.substr(6, slash - 6) + ":" + path.substr(slash + 1);
}

Error archive_failed(struct archive* a, const std::string& what, const char* fallback) {
  const char* why = archive_error_string(a);
  return Error::make(ErrorKind::io, what + ": " + (why ? why : fallback));
}

// One pass over the outer tarball.
class Stager {
 public:
  Stager(struct archive* a, const std::string& what, const std::string& staging,
         const ImageLimits& limits, const std::atomic<bool>* cancel,
         const std::function<void(std::uint64_t, std::uint64_t)>& progress, std::uint64_t total)
      : a_(a),
        what_(what),
        staging_(staging),
        limits_(limits),
        cancel_(cancel),
        progress_(progress),
        total_(total) {}

  Result<StagedArchive> run();

 private:
  Result<void> member(struct archive_entry* e);
  Result<void> charge(std::uint64_t bytes, const std::string& mwhat);
  Result<std::string> read_text(std::size_t size, const std::string& mwhat);
  Result<std::string> stage_blob(const std::string& tmp, const std::string& mwhat);
  void report() const {
    if (progress_) progress_(static_cast<std::uint64_t>(archive_filter_bytes(a_, -1)), total_);
  }

  struct archive* a_;
  const std::string& what_;
  const std::string& staging_;
  const ImageLimits& limits_;
  const std::atomic<bool>* cancel_;
  const std::function<void(std::uint64_t, std::uint64_t)>& progress_;
  std::uint64_t total_;
  std::uint64_t entries_ = 0, staged_bytes_ = 0;
  StagedArchive out_;
};

Result<StagedArchive> Stager::run() {
  for (;;) {
    if (cancelled(cancel_)) return interrupted();
    struct archive_entry* e = nullptr;
    const int r = archive_read_next_header(a_, &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return archive_failed(a_, what_, "unreadable tar archive");
    if (++entries_ > limits_.max_entries)
      return Error::make(ErrorKind::io, what_ + ": more than " +
                                            std::to_string(limits_.max_entries) +
                                            " members (ImageLimits.max_entries)");
    CELL_TRY(member(e));
  }
  return std::move(out_);
}

Result<void> Stager::member(struct archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  Components c;
  std::string why;
  if (raw == nullptr || !split_member_path(raw, c, why) || c.empty()) {
    if (raw != nullptr && c.empty() && why.empty()) return {};  // "./"
    return Error::make(ErrorKind::io,
                       what_ + ": member '" + printable(raw ? raw : "?") + "': refused: " + why);
  }
  const std::string path = join_components(c);
  const std::string mwhat = what_ + ": member '" + printable(path) + "'";
  if (const char* hl = archive_entry_hardlink(e)) {
    Components t;
    if (!split_member_path(hl, t, why))
      return Error::make(ErrorKind::io, mwhat + ": refused link: " + why);
    if (wanted(c) != Wanted::skip) out_.links[path] = join_components(t);
    return {};
  }
  const unsigned type = archive_entry_filetype(e);
  if (type == AE_IFLNK) {
    const char* target = archive_entry_symlink(e);
    const Components parent(c.begin(), c.end() - 1);
    if (wanted(c) != Wanted::skip)
      out_.links[path] = join_components(resolve_components(parent, target ? target : ""));
    return {};
  }
  const Wanted w = wanted(c);
  if (type != AE_IFREG || w == Wanted::skip) return {};  // never read: nothing refers to it
  const std::uint64_t size =
      static_cast<std::uint64_t>(std::max<la_int64_t>(0, archive_entry_size(e)));
  if (w == Wanted::text) {
    if (size > limits_.max_json_bytes)
      return Error::make(ErrorKind::io, mwhat + ": larger than " +
                                            std::to_string(limits_.max_json_bytes) +
                                            " bytes (ImageLimits.max_json_bytes)");
    CELL_TRY(charge(size, mwhat));
    Result<std::string> text = read_text(size, mwhat);
    if (!text.ok()) return text.error();
    out_.texts[path] = std::move(*text);
    return {};
  }
  if (size > limits_.max_blob_bytes)
    return Error::make(ErrorKind::io, mwhat + ": larger than " +
                                          std::to_string(limits_.max_blob_bytes) +
                                          " bytes (ImageLimits.max_blob_bytes)");
  CELL_TRY(charge(size, mwhat));
  const std::string tmp = staging_ + "/member-" + std::to_string(entries_);
  Result<std::string> digest = stage_blob(tmp, mwhat);
  if (!digest.ok()) {
    ::unlink(tmp.c_str());
    return digest.error();
  }
  if (const std::string named = digest_named(path); !named.empty() && named != *digest) {
    ::unlink(tmp.c_str());
    std::string dwhy;
    if (!valid_digest(named, dwhy)) return Error::make(ErrorKind::io, mwhat + ": " + dwhy);
    return Error::make(ErrorKind::io, what_ + ": blob " + named +
                                          ": digest mismatch: content hashes to " + *digest);
  }
  CELL_TRY(move_blob(tmp, staging_, *digest));
  out_.blobs[path] = *digest;
  out_.sizes[*digest] = size;
  report();
  return {};
}

// Counts a member's declared size against ImageLimits.max_staged_bytes.
Result<void> Stager::charge(std::uint64_t bytes, const std::string& mwhat) {
  staged_bytes_ += bytes;
  if (staged_bytes_ > limits_.max_staged_bytes)
    return Error::make(ErrorKind::io, mwhat + ": the archive's members add up to more than " +
                                          std::to_string(limits_.max_staged_bytes) +
                                          " bytes (ImageLimits.max_staged_bytes)");
  return {};
}

Result<std::string> Stager::read_text(std::size_t size, const std::string& mwhat) {
  std::string text(size, '\0');
  const la_ssize_t n = archive_read_data(a_, text.data(), size);
  if (n < 0 || static_cast<std::size_t>(n) != size) return archive_failed(a_, mwhat, "short read");
  return text;
}

// Copies the current member to `tmp`, hashing it; reads no more than the member declares.
Result<std::string> Stager::stage_blob(const std::string& tmp, const std::string& mwhat) {
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid())
    return Error::make(ErrorKind::io, "create " + tmp + ": " + errno_describe(errno), errno);
  Sha256 hash;
  std::vector<char> buf(1 << 20);
  for (;;) {
    if (cancelled(cancel_)) return interrupted();
    const la_ssize_t n = archive_read_data(a_, buf.data(), buf.size());
    if (n < 0) return archive_failed(a_, mwhat, "unreadable");
    if (n == 0) break;
    hash.update(buf.data(), static_cast<std::size_t>(n));
    if (write_full(fd.get(), buf.data(), static_cast<std::size_t>(n)) != 0)
      return Error::make(ErrorKind::io, "write " + tmp + ": " + errno_describe(errno), errno);
    report();
  }
  return hash.finish();
}

}  // namespace

std::string StagedArchive::resolve(const std::string& path) const {
  Components c;
  std::string why;
  if (!split_member_path(path, c, why)) return {};
  std::string p = join_components(c);
  for (int hop = 0; hop < kMaxLinkHops; ++hop) {
    const auto it = links.find(p);
    if (it == links.end()) return blobs.count(p) != 0 || texts.count(p) != 0 ? p : std::string();
    p = it->second;
  }
  return {};
}

Result<void> move_blob(const std::string& tmp, const std::string& dir, const std::string& digest) {
  ::chmod(tmp.c_str(), 0444);
  if (::rename(tmp.c_str(), (dir + "/" + digest_hex(digest)).c_str()) != 0)
    return Error::make(ErrorKind::io,
                       "blob " + digest + ": rename into " + dir + ": " + errno_describe(errno),
                       errno);
  return {};
}

Result<StagedArchive> stage_archive(
    const std::string& file, const std::string& what, const std::string& staging,
    const ImageLimits& limits, const std::atomic<bool>* cancel,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    return Error::make(ErrorKind::io, what + ": " + errno_describe(errno), errno);
  ArchivePtr a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 20) != ARCHIVE_OK)
    return archive_failed(a.get(), what, "not a tar archive");
  Stager stager(a.get(), what, staging, limits, cancel, progress,
                static_cast<std::uint64_t>(st.st_size));
  return stager.run();
}

}  // namespace cell::image
