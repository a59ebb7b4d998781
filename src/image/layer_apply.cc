#include "image/layer_apply.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/errno_names.hpp"
#include "base/strings.hpp"
#include "image/cancel.hpp"

namespace cell::image {

namespace {

constexpr const char* kWhiteoutPrefix = ".wh.";
constexpr const char* kOpaqueMarker = ".wh..wh..opq";
constexpr const char* kAufsMetaPrefix = ".wh..wh.";  // .wh..wh.plnk, .wh..wh.aufs: ignored
constexpr std::size_t kWarnNames = 5;                // names listed in a warning
constexpr int kMaxDepth = 512;                       // directory levels below the root

// Mount points a run binds over; /tmp is world-writable like on any system.
struct MountPoint {
  const char* name;
  unsigned mode;
};
constexpr MountPoint kMountPoints[] = {
    {"proc", 0555}, {"dev", 0755}, {"sys", 0555}, {"tmp", 01777}, {"workspace", 0755}};

// Entry names as stored; libarchive converts pax UTF-8 names to the locale, and in the C
// locale it may only manage the UTF-8 form.
const char* entry_path(struct archive_entry* e) {
  const char* p = archive_entry_pathname(e);
  return p != nullptr ? p : archive_entry_pathname_utf8(e);
}
const char* entry_hardlink(struct archive_entry* e) {
  const char* p = archive_entry_hardlink(e);
  return p != nullptr ? p : archive_entry_hardlink_utf8(e);
}
const char* entry_symlink(struct archive_entry* e) {
  const char* p = archive_entry_symlink(e);
  return p != nullptr ? p : archive_entry_symlink_utf8(e);
}

int pwrite_full(int fd, const char* p, std::size_t len, off_t off) {
  while (len > 0) {
    const ssize_t n = ::pwrite(fd, p, len, off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    off += n;
    len -= static_cast<std::size_t>(n);
  }
  return 0;
}

std::string child_path(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "/" + name;
}

}  // namespace

LayerApplier::LayerApplier(const RootDir& root, const ImageLimits& limits, bool privileged)
    : root_(root), limits_(limits), privileged_(privileged) {}

Result<void> LayerApplier::apply(struct archive* a, const std::string& label) {
  in_layer_.clear();
  for (;;) {
    if (cancelled(cancel_)) return interrupted();
    struct archive_entry* e = nullptr;
    const int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) return {};
    if (r < ARCHIVE_WARN) {
      const char* why = archive_error_string(a);
      return Error::make(ErrorKind::io,
                         label + ": " + printable(why ? why : "unreadable tar stream"));
    }
    if (auto ar = apply_entry(a, e); !ar.ok()) {
      const char* p = entry_path(e);
      Error err = ar.error();
      err.message = printable(label + ": entry '" + (p ? p : "?") + "': " + err.message);
      return err;
    }
    if (stream_ended_) {  // the last entry had all its data but the stream stopped there
      stream_ended_ = false;
      return {};
    }
  }
}

Result<void> LayerApplier::apply_entry(struct archive* a, struct archive_entry* e) {
  if (++entries_ > limits_.max_entries)
    return Error::make(ErrorKind::io, "more than " + std::to_string(limits_.max_entries) +
                                          " entries (ImageLimits.max_entries)");
  const char* raw = entry_path(e);
  if (raw == nullptr) return Error::make(ErrorKind::io, "entry has no readable name");
  const std::string_view path = raw;
  if (path.size() > limits_.max_path_bytes)
    return Error::make(ErrorKind::io, "path longer than " + std::to_string(limits_.max_path_bytes) +
                                          " bytes (ImageLimits.max_path_bytes)");
  Components c;
  std::string why;
  if (!split_member_path(path, c, why)) return Error::make(ErrorKind::io, "refused: " + why);
  if (c.size() > kMaxDepth) return Error::make(ErrorKind::io, "more than 512 directory levels");
  const bool is_dir = archive_entry_filetype(e) == AE_IFDIR && entry_hardlink(e) == nullptr;
  if (c.empty()) {  // "./": the root's own metadata
    if (!is_dir) return Error::make(ErrorKind::io, "the image root must be a directory");
    Meta m{archive_entry_perm(e) & 07777u,
           static_cast<uid_t>(archive_entry_uid(e)),
           static_cast<gid_t>(archive_entry_gid(e)),
           {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
    dirs_[""] = m;
    return {};
  }
  const std::string& base = c.back();
  if (starts_with(base, kWhiteoutPrefix)) {
    const Components parent(c.begin(), c.end() - 1);
    if (base == kOpaqueMarker) return opaque(parent);
    if (starts_with(base, kAufsMetaPrefix)) return {};
    const std::string name = base.substr(4);
    if (name.empty() || name == "." || name == "..")
      return Error::make(ErrorKind::io, "refused: whiteout names '" + name + "'");
    return whiteout(parent, name);
  }
  note_in_layer(c);
  Result<UniqueFd> parent = ensure_dir(root_, c, c.size() - 1);
  if (!parent.ok()) return parent.error();
  return make_node(a, e, c, parent->get());
}

Result<void> LayerApplier::make_node(struct archive* a, struct archive_entry* e,
                                     const Components& c, int parent_fd) {
  const std::string& name = c.back();
  const std::string path = join_components(c);
  const Meta m{archive_entry_perm(e) & 07777u,
               static_cast<uid_t>(archive_entry_uid(e)),
               static_cast<gid_t>(archive_entry_gid(e)),
               {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
  const struct timespec times[2] = {m.mtime, m.mtime};
  if (entry_hardlink(e) != nullptr) return make_hardlink(e, parent_fd, name, path);
  const unsigned type = archive_entry_filetype(e);
  if (type == AE_IFREG) return write_file(a, e, parent_fd, name, path);
  if (type == AE_IFDIR) {
    Result<bool> kept = replace(parent_fd, name, path, true);
    if (!kept.ok()) return kept.error();
    if (!*kept && make_dir_at(parent_fd, name, 0755) != 0)
      return Error::make(ErrorKind::io, "mkdir: " + errno_describe(errno), errno);
    dirs_[path] = m;
    UniqueFd fd(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.valid()) set_xattrs(fd.get(), e);
    return {};
  }
  if (type == AE_IFLNK) {
    const char* target = entry_symlink(e);
    if (target == nullptr) return Error::make(ErrorKind::io, "symlink without a readable target");
    if (std::string_view(target).size() > limits_.max_path_bytes)
      return Error::make(ErrorKind::io, "symlink target longer than the path limit");
    CELL_TRY(replace(parent_fd, name, path, false));
    if (::symlinkat(target, parent_fd, name.c_str()) != 0)
      return Error::make(ErrorKind::io, "symlink: " + errno_describe(errno), errno);
    set_owner(parent_fd, name, m);
    ::utimensat(parent_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
    return {};
  }
  mode_t node = 0;
  if (type == AE_IFIFO)
    node = S_IFIFO;
  else if (type == AE_IFCHR)
    node = S_IFCHR;
  else if (type == AE_IFBLK)
    node = S_IFBLK;
  if (node == 0) {
    ++other_skipped_;
    return {};
  }
  if (node != S_IFIFO && !privileged_) {
    if (devices_skipped_.size() < kWarnNames) devices_skipped_.push_back(path);
    ++devices_skipped_count_;
    return {};
  }
  CELL_TRY(replace(parent_fd, name, path, false));
  const dev_t dev =
      node == S_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
  if (::mknodat(parent_fd, name.c_str(), node | 0600, dev) != 0) {
    if (errno != EPERM || node == S_IFIFO)
      return Error::make(ErrorKind::io, "mknod: " + errno_describe(errno), errno);
    // Root in a user namespace may not create devices either.
    if (devices_skipped_.size() < kWarnNames) devices_skipped_.push_back(path);
    ++devices_skipped_count_;
    return {};
  }
  set_owner(parent_fd, name, m);
  ::fchmodat(parent_fd, name.c_str(), m.mode, 0);
  ::utimensat(parent_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
  return {};
}

Result<void> LayerApplier::write_file(struct archive* a, struct archive_entry* e, int parent_fd,
                                      const std::string& name, const std::string& path) {
  const la_int64_t declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
  const std::uint64_t size = declared > 0 ? static_cast<std::uint64_t>(declared) : 0;
  bytes_ += size;
  if (bytes_ > limits_.max_unpacked_bytes)
    return Error::make(ErrorKind::io, "unpacked size exceeds " +
                                          std::to_string(limits_.max_unpacked_bytes) +
                                          " bytes (ImageLimits.max_unpacked_bytes)");
  CELL_TRY(replace(parent_fd, name, path, false));
  UniqueFd fd(::openat(parent_fd, name.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return Error::make(ErrorKind::io, "create: " + errno_describe(errno), errno);
  std::uint64_t received = 0;
  for (;;) {
    const void* buf = nullptr;
    std::size_t len = 0;
    la_int64_t off = 0;
    const int r = archive_read_data_block(a, &buf, &len, &off);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN && received == size && size > 0) {
      // umoci 0.4.7 ends some layers right after the last file's data, without the padding
      // and end-of-archive blocks: the file is complete, and nothing can follow.
      stream_ended_ = true;
      break;
    }
    if (r < ARCHIVE_WARN) {
      const char* why = archive_error_string(a);
      return Error::make(ErrorKind::io, std::string("reading data: ") + (why ? why : "unreadable"));
    }
    if (off < 0 || static_cast<std::uint64_t>(off) + len > size)
      return Error::make(ErrorKind::io, "data runs past the declared size");
    if (pwrite_full(fd.get(), static_cast<const char*>(buf), len, off) != 0)
      return Error::make(ErrorKind::io, "write: " + errno_describe(errno), errno);
    received = std::max<std::uint64_t>(received, static_cast<std::uint64_t>(off) + len);
  }
  // Sparse files end in a hole that no data block covers.
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
    return Error::make(ErrorKind::io, "truncate: " + errno_describe(errno), errno);
  const Meta m{archive_entry_perm(e) & 07777u,
               static_cast<uid_t>(archive_entry_uid(e)),
               static_cast<gid_t>(archive_entry_gid(e)),
               {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
  if (privileged_ && ::fchown(fd.get(), m.uid, m.gid) != 0) ++owners_failed_;
  ::fchmod(fd.get(), m.mode);  // after chown, which clears set-id bits
  set_xattrs(fd.get(), e);
  const struct timespec times[2] = {m.mtime, m.mtime};
  ::futimens(fd.get(), times);
  return {};
}

Result<void> LayerApplier::make_hardlink(struct archive_entry* e, int parent_fd,
                                         const std::string& name, const std::string& path) {
  const std::string_view target = entry_hardlink(e);
  Components tc;
  std::string why;
  if (target.size() > limits_.max_path_bytes || !split_member_path(target, tc, why))
    return Error::make(ErrorKind::io, "refused hardlink to '" + std::string(target) +
                                          "': " + (why.empty() ? "path too long" : why));
  if (tc.empty()) return Error::make(ErrorKind::io, "refused hardlink to the image root");
  // O_PATH|O_NOFOLLOW: a hardlink to a symlink links the symlink itself. Resolved in the root,
  // so no target outside the image can be reached.
  UniqueFd tfd(open_in_root(root_.fd.get(), join_components(tc), O_PATH | O_NOFOLLOW, kInRoot));
  if (!tfd.valid())
    return Error::make(ErrorKind::io,
                       "hardlink target '" + std::string(target) + "': " + errno_describe(errno),
                       errno);
  struct stat ts {
  }, cur{};
  if (::fstat(tfd.get(), &ts) != 0 || S_ISDIR(ts.st_mode))
    return Error::make(ErrorKind::io,
                       "refused hardlink to directory '" + std::string(target) + "'");
  if (::fstatat(parent_fd, name.c_str(), &cur, AT_SYMLINK_NOFOLLOW) == 0 &&
      cur.st_ino == ts.st_ino && cur.st_dev == ts.st_dev)
    return {};  // already that file
  CELL_TRY(replace(parent_fd, name, path, false));
  // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the /proc/self/fd link works for everyone.
  const std::string via = "/proc/self/fd/" + std::to_string(tfd.get());
  if (::linkat(AT_FDCWD, via.c_str(), parent_fd, name.c_str(), AT_SYMLINK_FOLLOW) != 0)
    return Error::make(ErrorKind::io,
                       "link to '" + std::string(target) + "': " + errno_describe(errno), errno);
  return {};
}

Result<bool> LayerApplier::replace(int parent_fd, const std::string& name, const std::string& path,
                                   bool dir) {
  struct stat st {};
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    return Error::make(ErrorKind::io, "stat: " + errno_describe(errno), errno);
  }
  if (dir && S_ISDIR(st.st_mode)) return true;
  CELL_TRY(remove_at(parent_fd, name));
  if (S_ISDIR(st.st_mode)) forget_dirs(path);
  return false;
}

Result<void> LayerApplier::whiteout(const Components& parent, const std::string& name) {
  const std::string path = child_path(join_components(parent), name);
  if (in_layer_.count(path) != 0) return {};  // a whiteout hides lower layers only
  // Not following symlinks: a whiteout under a path that is now a symlink (umoci writes those)
  // names nothing that exists, and must not delete where the symlink points.
  UniqueFd pfd(open_in_root(root_.fd.get(), join_components(parent), O_PATH | O_DIRECTORY,
                            kInRootNoSymlinks));
  if (!pfd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return {};
    return Error::make(ErrorKind::io, "whiteout: " + errno_describe(errno), errno);
  }
  CELL_TRY(remove_at(pfd.get(), name));
  forget_dirs(path);
  return {};
}

Result<void> LayerApplier::opaque(const Components& dir) {
  const std::string path = join_components(dir);
  UniqueFd fd(open_in_root(root_.fd.get(), path, O_RDONLY | O_DIRECTORY, kInRootNoSymlinks));
  if (!fd.valid()) {
    if (errno == ELOOP || errno == ENOTDIR)
      return {};  // under a symlink or a file: nothing to hide
    if (errno != ENOENT)
      return Error::make(ErrorKind::io, "opaque directory: " + errno_describe(errno), errno);
  }
  note_in_layer(dir);
  if (!fd.valid()) {  // nothing below it yet; the layer still has the (empty) directory
    Result<UniqueFd> made = ensure_dir(root_, dir, dir.size());
    return made.ok() ? Result<void>() : Result<void>(made.error());
  }
  return clear_lower(fd.get(), path, 0);
}

Result<void> LayerApplier::clear_lower(int dir_fd, const std::string& path, int depth) {
  if (depth > kMaxDepth) return Error::make(ErrorKind::io, "opaque directory too deep");
  std::vector<std::string> names;
  CELL_TRY(list_names(dir_fd, names));
  for (const std::string& n : names) {
    const std::string child = child_path(path, n);
    if (in_layer_.count(child) == 0) {
      CELL_TRY(remove_at(dir_fd, n));
      forget_dirs(child);
      continue;
    }
    // Written by this layer: keep it, but a directory may still hold lower layers' entries.
    UniqueFd sub(::openat(dir_fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (sub.valid()) CELL_TRY(clear_lower(sub.get(), child, depth + 1));
  }
  return {};
}

void LayerApplier::set_xattrs(int fd, struct archive_entry* e) {
  if (archive_entry_xattr_reset(e) == 0) return;
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    // user.* works for everyone; trusted.* and security.* need root (and a willing LSM).
    if (::fsetxattr(fd, name, value, size, 0) != 0) xattrs_skipped_.insert(name);
  }
}

void LayerApplier::set_owner(int parent_fd, const std::string& name, const Meta& m) {
  if (privileged_ && ::fchownat(parent_fd, name.c_str(), m.uid, m.gid, AT_SYMLINK_NOFOLLOW) != 0)
    ++owners_failed_;
}

void LayerApplier::note_in_layer(const Components& c) {
  for (std::size_t n = c.size(); n > 0; --n)
    if (!in_layer_.insert(join_components(c, n)).second) break;  // its parents are there too
}

void LayerApplier::forget_dirs(const std::string& path) {
  dirs_.erase(path);
  // "a/" sorts after "a-b" and "a.b": erase exactly the range of "a/..." keys.
  dirs_.erase(dirs_.lower_bound(path + "/"), dirs_.lower_bound(path + "0"));
}

Result<void> LayerApplier::finish() {
  for (const MountPoint& mp : kMountPoints) {
    struct stat st {};
    if (::fstatat(root_.fd.get(), mp.name, &st, AT_SYMLINK_NOFOLLOW) == 0) continue;
    if (make_dir_at(root_.fd.get(), mp.name, mp.mode) != 0)
      return Error::make(ErrorKind::io,
                         std::string("mount point /") + mp.name + ": " + errno_describe(errno),
                         errno);
  }
  // Deepest first, so a read-only parent is made read-only after its children.
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    const Meta& m = it->second;
    UniqueFd fd(
        open_in_root(root_.fd.get(), it->first, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, kInRoot));
    if (!fd.valid()) continue;  // replaced by something else since
    if (privileged_ && ::fchown(fd.get(), m.uid, m.gid) != 0) ++owners_failed_;
    ::fchmod(fd.get(), m.mode);
    const struct timespec times[2] = {m.mtime, m.mtime};
    ::futimens(fd.get(), times);
  }
  return {};
}

std::vector<std::string> LayerApplier::warnings() const {
  std::vector<std::string> w;
  if (devices_skipped_count_ > 0) {
    std::string s =
        "skipped " + std::to_string(devices_skipped_count_) +
        " device node(s) (creating them needs real root): " + join(devices_skipped_, ", ");
    if (devices_skipped_count_ > devices_skipped_.size()) s += ", ...";
    w.push_back(s);
  }
  if (!xattrs_skipped_.empty()) {
    std::vector<std::string> names(xattrs_skipped_.begin(), xattrs_skipped_.end());
    if (names.size() > kWarnNames) names.resize(kWarnNames);
    w.push_back("could not set extended attribute(s) " + join(names, ", ") +
                " (not permitted here)");
  }
  if (!privileged_)
    w.push_back("not root: files belong to the importing user (uid " + std::to_string(::geteuid()) +
                "); the image's owners are not kept");
  else if (owners_failed_ > 0)
    w.push_back("could not set the owner of " + std::to_string(owners_failed_) + " entries");
  if (other_skipped_ > 0)
    w.push_back("skipped " + std::to_string(other_skipped_) + " entries of unsupported types");
  for (std::string& s : w) s = printable(s);  // device and xattr names come from the layer
  return w;
}

}  // namespace cell::image
