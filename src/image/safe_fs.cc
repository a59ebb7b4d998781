#include "image/safe_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "base/errno_names.hpp"

namespace cell::image {

namespace {

constexpr int kMaxSymlinks = 40;      // the kernel's own limit (MAXSYMLINKS)
constexpr int kMaxRemoveDepth = 900;  // one fd per level; stays below RLIMIT_NOFILE's 1024

Error fs_error(const std::string& what, int err) {
  return Error::make(ErrorKind::io, what + ": " + errno_describe(err), err);
}

std::string fd_path(int fd) {
  char buf[PATH_MAX];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

Result<UniqueFd> ensure_dir_impl(const RootDir& root, const Components& comps, int& links_left);

// comps.back() could not be created because something is there: follow it if it is a symlink.
Result<UniqueFd> follow_existing(const RootDir& root, int parent_fd, const Components& comps,
                                 int& links_left) {
  const std::string& name = comps.back();
  struct stat st {};
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return fs_error("'" + join_components(comps) + "'", errno);
  if (!S_ISLNK(st.st_mode))
    return Error::make(ErrorKind::io, "'" + join_components(comps) + "' is not a directory",
                       ENOTDIR);
  if (--links_left < 0)
    return Error::make(ErrorKind::io,
                       "'" + join_components(comps) + "': too many levels of symlinks", ELOOP);
  char target[PATH_MAX];
  const ssize_t n = ::readlinkat(parent_fd, name.c_str(), target, sizeof target - 1);
  if (n < 0) return fs_error("readlink '" + join_components(comps) + "'", errno);
  // Relative targets start from the parent's real place, which symlinks may have moved.
  const std::string parent_real = fd_path(parent_fd);
  Components base;
  if (parent_real.size() > root.real.size() &&
      parent_real.compare(0, root.real.size(), root.real) == 0)
    base = resolve_components({}, std::string_view(parent_real).substr(root.real.size()));
  return ensure_dir_impl(
      root, resolve_components(base, std::string_view(target, static_cast<std::size_t>(n))),
      links_left);
}

Result<UniqueFd> ensure_dir_impl(const RootDir& root, const Components& comps, int& links_left) {
  const std::string rel = join_components(comps);
  const int fd = open_in_root(root.fd.get(), rel, O_PATH | O_DIRECTORY | O_CLOEXEC, kInRoot);
  if (fd >= 0) return UniqueFd(fd);
  if (errno != ENOENT) {
    if (errno == ENOTDIR)
      return Error::make(ErrorKind::io, "a component of '" + rel + "' is not a directory", ENOTDIR);
    return fs_error("'" + rel + "'", errno);
  }
  Components parent(comps.begin(), comps.end() - 1);
  Result<UniqueFd> pfd = ensure_dir_impl(root, parent, links_left);
  if (!pfd.ok()) return pfd;
  const std::string& name = comps.back();
  if (make_dir_at(pfd->get(), name, 0755) != 0) {
    if (errno != EEXIST) return fs_error("mkdir '" + rel + "'", errno);
    return follow_existing(root, pfd->get(), comps, links_left);
  }
  const int made =
      ::openat(pfd->get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (made < 0) return fs_error("open '" + rel + "'", errno);
  return UniqueFd(made);
}

}  // namespace

Components resolve_components(Components base, std::string_view target) {
  if (!target.empty() && target.front() == '/') base.clear();
  std::size_t start = 0;
  while (start <= target.size()) {
    std::size_t end = target.find('/', start);
    if (end == std::string_view::npos) end = target.size();
    const std::string_view c = target.substr(start, end - start);
    if (c == "..") {
      if (!base.empty()) base.pop_back();
    } else if (!c.empty() && c != ".") {
      base.emplace_back(c);
    }
    start = end + 1;
  }
  return base;
}

int open_in_root(int root_fd, const std::string& rel, int flags, std::uint64_t resolve,
                 unsigned mode) noexcept {
  struct open_how how {};
  how.flags = static_cast<std::uint64_t>(flags) | O_CLOEXEC;
  how.mode = mode;
  how.resolve = resolve;
  const char* path = rel.empty() ? "." : rel.c_str();
  long r;
  do {
    r = ::syscall(SYS_openat2, root_fd, path, &how, sizeof how);
  } while (r < 0 && (errno == EINTR || errno == EAGAIN));  // EAGAIN: a rename raced the lookup
  return static_cast<int>(r);
}

bool split_member_path(std::string_view path, Components& out, std::string& why) {
  out.clear();
  if (!path.empty() && path.front() == '/') {
    why = "absolute path";
    return false;
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view c = path.substr(start, end - start);
    if (c == "..") {
      why = "'..' component";
      return false;
    }
    if (!c.empty() && c != ".") out.emplace_back(c);
    start = end + 1;
  }
  return true;
}

std::string join_components(const Components& c, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < c.size() && i < n; ++i) {
    if (i) s += '/';
    s += c[i];
  }
  return s;
}

Result<RootDir> RootDir::open(const std::string& path) {
  RootDir r;
  r.fd.reset(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!r.fd.valid()) return fs_error("open " + path, errno);
  r.real = fd_path(r.fd.get());
  if (r.real.empty()) return fs_error("readlink of " + path, errno);
  return r;
}

Result<UniqueFd> ensure_dir(const RootDir& root, const Components& comps, std::size_t n) {
  int links_left = kMaxSymlinks;
  return ensure_dir_impl(
      root, Components(comps.begin(), comps.begin() + static_cast<long>(std::min(n, comps.size()))),
      links_left);
}

int make_dir_at(int dir_fd, const std::string& name, unsigned mode) noexcept {
  if (::mkdirat(dir_fd, name.c_str(), mode) != 0) return -1;
  return ::fchmodat(dir_fd, name.c_str(), mode, 0);
}

Result<void> list_names(int dir_fd, std::vector<std::string>& names) {
  const int dup = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* d = dup < 0 ? nullptr : ::fdopendir(dup);
  if (d == nullptr) {
    const int err = errno;
    if (dup >= 0) ::close(dup);
    return Error::make(ErrorKind::io, "read directory: " + errno_describe(err), err);
  }
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return Error::make(ErrorKind::io, "read directory: " + errno_describe(err), err);
  return {};
}

namespace {

// `rel` names the entry in messages, relative to where the removal started.
Result<void> remove_at_depth(int dir_fd, const std::string& name, const std::string& rel,
                             int depth) {
  if (::unlinkat(dir_fd, name.c_str(), 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR) return fs_error("unlink '" + rel + "'", errno);
  if (depth > kMaxRemoveDepth)
    return Error::make(ErrorKind::io, "'" + rel + "': tree too deep to remove", ELOOP);
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid() && errno == EACCES && ::fchmodat(dir_fd, name.c_str(), 0700, 0) == 0)
    fd.reset(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return errno == ENOENT ? Result<void>() : fs_error("open '" + rel + "'", errno);
  struct stat st {};
  // Without write permission on the directory its entries cannot go (rootless stores).
  if (::fstat(fd.get(), &st) == 0 && (st.st_mode & 0700) != 0700)
    ::fchmod(fd.get(), (st.st_mode & 07777) | 0700);
  std::vector<std::string> names;
  if (auto r = list_names(fd.get(), names); !r.ok())
    return fs_error("read directory '" + rel + "'", r.error().sys_errno);
  for (const std::string& n : names)
    CELL_TRY(remove_at_depth(fd.get(), n, rel + "/" + n, depth + 1));
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    return fs_error("rmdir '" + rel + "'", errno);
  return {};
}

}  // namespace

Result<void> remove_at(int dir_fd, const std::string& name) {
  return remove_at_depth(dir_fd, name, name, 0);
}

Result<void> remove_tree(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  const std::string parent =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  UniqueFd pfd(::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!pfd.valid()) return errno == ENOENT ? Result<void>() : fs_error("open " + parent, errno);
  auto r = remove_at(pfd.get(), base);
  if (!r.ok())
    return Error::make(r.error().kind, "remove " + path + ": " + r.error().message,
                       r.error().sys_errno);
  return {};
}

}  // namespace cell::image
