#include "image/disk_tree.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "base/unique_fd.hpp"
#include "image/cancel.hpp"
#include "image/safe_fs.hpp"

namespace cell::image {

namespace {

struct ReadFree {
  void operator()(struct archive* a) const noexcept { archive_read_free(a); }
};
struct WriteFree {
  void operator()(struct archive* a) const noexcept { archive_write_free(a); }
};
struct ResolverFree {
  void operator()(struct archive_entry_linkresolver* r) const noexcept {
    archive_entry_linkresolver_free(r);
  }
};
struct EntryFree {
  void operator()(struct archive_entry* e) const noexcept { archive_entry_free(e); }
};
using Reader = std::unique_ptr<struct archive, ReadFree>;
using Writer = std::unique_ptr<struct archive, WriteFree>;

Error archive_error(struct archive* a, const std::string& what) {
  const char* why = archive_error_string(a);
  return Error::make(ErrorKind::io, what + ": " + (why ? why : "failed"));
}

// Copies one entry (header and data) from the disk reader to a writer. Only the disk writer
// takes data blocks at offsets; a tar writer takes the bytes in order, holes as zeros.
Result<void> copy_entry(struct archive* in, struct archive* out, struct archive_entry* e,
                        const std::string& what, bool to_disk) {
  const int r = archive_write_header(out, e);
  if (r < ARCHIVE_WARN) return archive_error(out, what + " " + archive_entry_pathname(e));
  if (r != ARCHIVE_OK || archive_entry_size(e) == 0 || archive_entry_hardlink(e) != nullptr)
    return {};
  la_int64_t pos = 0;
  static const std::vector<char> zeros(1 << 16, '\0');
  for (;;) {
    const void* buf = nullptr;
    std::size_t len = 0;
    la_int64_t off = 0;
    const int rr = archive_read_data_block(in, &buf, &len, &off);
    if (rr == ARCHIVE_EOF) break;
    if (rr < ARCHIVE_WARN) return archive_error(in, what + " " + archive_entry_pathname(e));
    bool ok = true;
    if (to_disk) {
      ok = archive_write_data_block(out, buf, len, off) >= ARCHIVE_WARN;
    } else {
      for (; ok && pos < off;
           pos += static_cast<la_int64_t>(std::min<std::size_t>(zeros.size(), off - pos)))
        ok = archive_write_data(out, zeros.data(),
                                std::min<std::size_t>(zeros.size(), off - pos)) >= 0;
      ok = ok && archive_write_data(out, buf, len) >= 0;
      pos = off + static_cast<la_int64_t>(len);
    }
    if (!ok) return archive_error(out, what + " " + archive_entry_pathname(e));
  }
  return {};
}

// Walks `src` with the disk reader, renames each entry with `rename`, links hardlinks, and
// passes entries to `out`.
template <class Rename>
Result<void> walk_into(const std::string& src, struct archive* out, bool to_disk,
                       const std::string& what, Rename rename,
                       const std::atomic<bool>* cancel = nullptr) {
  Reader in(archive_read_disk_new());
  archive_read_disk_set_symlink_physical(in.get());
  archive_read_disk_set_behavior(in.get(), ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
  if (archive_read_disk_open(in.get(), src.c_str()) != ARCHIVE_OK)
    return archive_error(in.get(), what + " " + src);
  std::unique_ptr<struct archive_entry_linkresolver, ResolverFree> links(
      archive_entry_linkresolver_new());
  archive_entry_linkresolver_set_strategy(
      links.get(), to_disk ? ARCHIVE_FORMAT_TAR_USTAR : ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
  std::unique_ptr<struct archive_entry, EntryFree> entry(archive_entry_new());
  for (;;) {
    if (cancelled(cancel)) return interrupted();
    archive_entry_clear(entry.get());
    const int r = archive_read_next_header2(in.get(), entry.get());
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return archive_error(in.get(), what + " " + src);
    archive_read_disk_descend(in.get());
    const std::string path = archive_entry_pathname(entry.get());
    archive_entry_copy_pathname(entry.get(), rename(path.substr(src.size())).c_str());
    struct archive_entry* e = entry.get();
    struct archive_entry* spare = nullptr;
    archive_entry_linkify(links.get(), &e, &spare);
    if (e != nullptr) CELL_TRY(copy_entry(in.get(), out, e, what, to_disk));
    if (spare != nullptr) archive_entry_free(spare);
  }
  return {};
}

}  // namespace

Result<void> copy_tree(const std::string& src, const std::string& dest, bool privileged) {
  Writer out(archive_write_disk_new());
  int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
              ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS;
  if (privileged) flags |= ARCHIVE_EXTRACT_OWNER;
  archive_write_disk_set_options(out.get(), flags);
  CELL_TRY(walk_into(src, out.get(), true, "export",
                     [&](const std::string& rel) { return dest + rel; }));
  if (archive_write_close(out.get()) != ARCHIVE_OK)
    return archive_error(out.get(), "export " + dest);
  return {};
}

Result<void> tar_directory(const std::string& src, int out_fd, const std::atomic<bool>* cancel) {
  Writer out(archive_write_new());
  archive_write_set_format_pax_restricted(out.get());
  archive_write_add_filter_none(out.get());
  if (archive_write_open_fd(out.get(), out_fd) != ARCHIVE_OK)
    return archive_error(out.get(), "pack " + src);
  CELL_TRY(walk_into(
      src, out.get(), false, "pack",
      [](const std::string& rel) { return rel.empty() ? std::string("./") : "." + rel; }, cancel));
  if (archive_write_close(out.get()) != ARCHIVE_OK) return archive_error(out.get(), "pack " + src);
  return {};
}

namespace {

void add_bytes(int dir_fd, std::set<std::pair<dev_t, ino_t>>& seen, std::uint64_t& total,
               int depth) {
  std::vector<std::string> names;
  if (depth > 900 || !list_names(dir_fd, names).ok()) return;
  for (const std::string& n : names) {
    struct stat st {};
    if (::fstatat(dir_fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISREG(st.st_mode)) {
      if (st.st_nlink > 1 && !seen.insert({st.st_dev, st.st_ino}).second) continue;
      total += static_cast<std::uint64_t>(st.st_size);
    } else if (S_ISDIR(st.st_mode)) {
      UniqueFd sub(::openat(dir_fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub.valid()) add_bytes(sub.get(), seen, total, depth + 1);
    }
  }
}

}  // namespace

std::uint64_t tree_bytes(int dir_fd) {
  std::set<std::pair<dev_t, ino_t>> seen;
  std::uint64_t total = 0;
  UniqueFd fd(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.valid()) add_bytes(fd.get(), seen, total, 0);
  return total;
}

}  // namespace cell::image
