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
#include "image/digest.hpp"
#include "image/safe_fs.hpp"

namespace cell::image {

namespace {

constexpr int kMaxLinkHops = 40;

bool is_text_member(const std::string& path) {
  return path == "oci-layout" || path == "repositories" ||
         (path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0);
}

// "blobs/sha256/HEX" -> "sha256:HEX"; empty for other names.
std::string digest_named(const std::string& path) {
  if (!starts_with(path, "blobs/")) return {};
  const std::size_t slash = path.find('/', 6);
  if (slash == std::string::npos) return {};
  return path.substr(6, slash - 6) + ":" + path.substr(slash + 1);
}

Result<std::string> read_text(struct archive* a, std::size_t size, const std::string& what) {
  std::string text(size, '\0');
  const la_ssize_t n = archive_read_data(a, text.data(), size);
  if (n < 0 || static_cast<std::size_t>(n) != size) {
    const char* why = archive_error_string(a);
    return Error::make(ErrorKind::io, what + ": " + (why ? why : "short read"));
  }
  return text;
}

Result<std::string> stage_member(struct archive* a, const std::string& tmp,
                                 const std::string& what) {
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid())
    return Error::make(ErrorKind::io, "create " + tmp + ": " + errno_describe(errno), errno);
  Sha256 hash;
  std::vector<char> buf(1 << 20);
  for (;;) {
    const la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
    if (n < 0) {
      const char* why = archive_error_string(a);
      return Error::make(ErrorKind::io, what + ": " + (why ? why : "unreadable"));
    }
    if (n == 0) break;
    hash.update(buf.data(), static_cast<std::size_t>(n));
    if (write_full(fd.get(), buf.data(), static_cast<std::size_t>(n)) != 0)
      return Error::make(ErrorKind::io, "write " + tmp + ": " + errno_describe(errno), errno);
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
    const ImageLimits& limits, const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    return Error::make(ErrorKind::io, what + ": " + errno_describe(errno), errno);
  ArchivePtr a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 20) != ARCHIVE_OK) {
    const char* why = archive_error_string(a.get());
    return Error::make(ErrorKind::io, what + ": " + (why ? why : "not a tar archive"));
  }
  StagedArchive out;
  std::uint64_t entries = 0;
  for (;;) {
    struct archive_entry* e = nullptr;
    const int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      const char* why = archive_error_string(a.get());
      return Error::make(ErrorKind::io, what + ": " + (why ? why : "unreadable tar archive"));
    }
    if (++entries > limits.max_entries)
      return Error::make(ErrorKind::io,
                         what + ": more than " + std::to_string(limits.max_entries) + " members");
    const char* raw = archive_entry_pathname(e);
    Components c;
    std::string why;
    if (raw == nullptr || !split_member_path(raw, c, why) || c.empty()) {
      if (raw != nullptr && c.empty() && why.empty()) continue;  // "./"
      return Error::make(ErrorKind::io,
                         what + ": member '" + printable(raw ? raw : "?") + "': refused: " + why);
    }
    const std::string path = join_components(c);
    const std::string mwhat = what + ": member '" + printable(path) + "'";
    if (const char* hl = archive_entry_hardlink(e)) {
      Components t;
      if (!split_member_path(hl, t, why))
        return Error::make(ErrorKind::io, mwhat + ": refused link: " + why);
      out.links[path] = join_components(t);
      continue;
    }
    const unsigned type = archive_entry_filetype(e);
    if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(e);
      const Components parent(c.begin(), c.end() - 1);
      out.links[path] = join_components(resolve_components(parent, target ? target : ""));
      continue;
    }
    if (type != AE_IFREG) continue;
    const std::uint64_t size =
        static_cast<std::uint64_t>(std::max<la_int64_t>(0, archive_entry_size(e)));
    if (is_text_member(path) && size <= limits.max_json_bytes) {
      Result<std::string> text = read_text(a.get(), size, mwhat);
      if (!text.ok()) return text.error();
      out.texts[path] = std::move(*text);
      continue;
    }
    if (size > limits.max_blob_bytes)
      return Error::make(ErrorKind::io, mwhat + ": larger than " +
                                            std::to_string(limits.max_blob_bytes) +
                                            " bytes (ImageLimits.max_blob_bytes)");
    const std::string tmp = staging + "/member-" + std::to_string(entries);
    Result<std::string> digest = stage_member(a.get(), tmp, mwhat);
    if (!digest.ok()) return digest.error();
    if (const std::string named = digest_named(path); !named.empty() && named != *digest) {
      std::string dwhy;
      if (!valid_digest(named, dwhy)) return Error::make(ErrorKind::io, mwhat + ": " + dwhy);
      return Error::make(ErrorKind::io, what + ": blob " + named +
                                            ": digest mismatch: content hashes to " + *digest);
    }
    CELL_TRY(move_blob(tmp, staging, *digest));
    out.blobs[path] = *digest;
    if (progress)
      progress(static_cast<std::uint64_t>(archive_filter_bytes(a.get(), -1)),
               static_cast<std::uint64_t>(st.st_size));
  }
  return out;
}

}  // namespace cell::image
