#include "runtime/stdio.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/errno_names.hpp"

namespace cell::runtime {

namespace {

const char* kNames[3] = {"--stdin", "--stdout", "--stderr"};

Result<void> prepare_one(int i, const Stdio& s, PreparedStdio& out) {
  switch (s.mode) {
    case Stdio::Mode::inherit:
      out.child.fd[i] = i;
      return {};
    case Stdio::Mode::fd:
      if (s.fd < 0 || ::fcntl(s.fd, F_GETFD) < 0)
        return Error::make(ErrorKind::usage, std::string(kNames[i]) + ": fd " +
                                                 std::to_string(s.fd) + " is not open");
      out.child.fd[i] = s.fd;
      return {};
    case Stdio::Mode::null:
    case Stdio::Mode::file: {
      const std::string path = s.mode == Stdio::Mode::null ? "/dev/null" : s.path;
      const int flags = i == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC;
      const int fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NOCTTY, 0644);
      if (fd < 0)
        return Error::make(ErrorKind::usage,
                           std::string(kNames[i]) + " " + path + ": " + errno_describe(errno),
                           errno);
      out.child_owned[i].reset(fd);
      out.child.fd[i] = fd;
      return {};
    }
    case Stdio::Mode::capture: {
      if (i == 0) return Error::make(ErrorKind::usage, "--stdin cannot be captured");
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0)
        return Error::make(ErrorKind::internal,
                           "pipe for " + std::string(kNames[i]) + ": " + errno_describe(errno),
                           errno);
      out.capture_read[i].reset(p[0]);
      out.child_owned[i].reset(p[1]);
      out.child.fd[i] = p[1];
      return {};
    }
  }
  return {};
}

// A directory descriptor handed to the payload is a handle on the host's file system:
// fchdir(fd) and ".." walk out of the sandbox's root (the runc CVE-2024-21626 class).
Result<void> refuse_directory(int i, const Stdio& s, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) return {};
  std::string what = s.mode == Stdio::Mode::file ? s.path : "fd " + std::to_string(fd);
  if (s.mode == Stdio::Mode::inherit) what = "cell's own " + std::string(kNames[i] + 2);
  return Error::make(ErrorKind::usage, std::string(kNames[i]) + ": " + what +
                                           " is a directory; a directory descriptor would let the "
                                           "program leave the sandbox");
}

}  // namespace

Result<void> prepare_stdio(const RunSpec& spec, PreparedStdio& out) {
  const Stdio* all[3] = {&spec.stdin_, &spec.stdout_, &spec.stderr_};
  for (int i = 0; i < 3; ++i) {
    CELL_TRY(prepare_one(i, *all[i], out));
    CELL_TRY(refuse_directory(i, *all[i], out.child.fd[i]));
  }
  return {};
}

}  // namespace cell::runtime
