#include "cli/result_file.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "base/errno_names.hpp"
#include "base/io.hpp"
#include "base/unique_fd.hpp"

namespace cell::cli {

namespace {

Error bad(const std::string& path, const std::string& why, int err = 0) {
  std::string message = "--result '" + path + "': " + why;
  if (err != 0) message += ": " + errno_describe(err);
  return Error::make(ErrorKind::usage, message, err);
}

// Something other than a regular file or a directory: written in place, never renamed over.
bool is_special(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

}  // namespace

Result<void> check_result_file(const std::string& path) {
  if (is_directory(path)) return bad(path, "is a directory");
  if (is_special(path)) {
    if (::access(path.c_str(), W_OK) != 0) return bad(path, "cannot be written", errno);
    return {};
  }
  std::string probe = path + ".tmpXXXXXX";  // next to it, like write_file_atomic's temp file
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    return bad(path, "cannot create a file in " + (dir.empty() ? std::string(".") : dir), errno);
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return {};
}

Result<void> write_result_file(const std::string& path, const std::string& json) {
  if (!is_special(path)) return write_file_atomic(path, json);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd.valid()) return bad(path, "cannot be opened", errno);
  if (write_full(fd.get(), json.data(), json.size()) != 0)
    return bad(path, "cannot be written", errno);
  return {};
}

}  // namespace cell::cli
