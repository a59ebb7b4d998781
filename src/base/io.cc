#include "base/io.hpp"

#include "base/errno_names.hpp"
#include "base/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

namespace cell {

ssize_t read_full(int fd, void* buf, std::size_t len) noexcept {
  auto* p = static_cast<char*>(buf);
  std::size_t done = 0;
  while (done < len) {
    const ssize_t n = ::read(fd, p + done, len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

int write_full(int fd, const void* buf, std::size_t len) noexcept {
  const auto* p = static_cast<const char*>(buf);
  while (len > 0) {
    const ssize_t n = ::write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= static_cast<std::size_t>(n);
  }
  return 0;
}

static Error io_error(const std::string& what, const std::string& path, int err) {
  return Error::make(ErrorKind::io, what + " " + path + ": " + errno_describe(err), err);
}

Result<std::string> read_file(const std::string& path, std::size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return io_error("cannot open", path, errno);
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot read", path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes)
      return Error::make(ErrorKind::io, path + " is larger than " + std::to_string(max_bytes) +
                                            " bytes");
  }
  return out;
}

Result<void> write_existing_file(const std::string& path, std::string_view data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd.valid()) return io_error("cannot open", path, errno);
  // One write(): /proc and cgroup files take the value in a single call.
  const ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) return io_error("cannot write '" + std::string(data) + "' to", path, errno);
  if (static_cast<std::size_t>(n) != data.size())
    return Error::make(ErrorKind::io, "short write to " + path);
  return {};
}

Result<void> write_file_atomic(const std::string& path, std::string_view data, unsigned mode) {
  std::random_device rd;
  const std::string tmp = path + ".tmp" + std::to_string(rd());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid()) return io_error("cannot create", tmp, errno);
  if (write_full(fd.get(), data.data(), data.size()) != 0 || ::fsync(fd.get()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return io_error("cannot write", tmp, err);
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return io_error("cannot rename into", path, err);
  }
  return {};
}

Result<void> make_dirs(const std::string& path, unsigned mode) {
  if (path.empty()) return {};
  std::string cur;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) return io_error("cannot create directory", cur, errno);
  }
  if (!is_directory(path)) return io_error("not a directory:", path, ENOTDIR);
  return {};
}

bool path_exists(const std::string& path) noexcept {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) noexcept {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace cell
