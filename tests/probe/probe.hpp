// What cell-probe's command files share: the command table entry and the output helpers.
#pragma once

#include <cerrno>
#include <cstddef>
#include <string>
#include <vector>

namespace cell_probe {

using Args = std::vector<std::string>;

struct Command {
  const char* name;
  int nargs;  // -1: all remaining arguments
  void (*run)(const Args&);
  const char* help;
};

// One `key=value` line (printf format), flushed: the next command may end the process.
void out(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// "EPERM", "ENOENT", ... ("E?" when unknown).
const char* err_name(int e);
// "ok" when `rc` is not negative, else the errno name.
// A signal by number or name ("9", "KILL", "SIGKILL"); SIGTERM when unknown.
int signal_number(const std::string& s);
// Call right after the syscall, before anything can change errno.
inline const char* outcome(long rc) {
  return rc >= 0 ? "ok" : err_name(errno);
}

// escape.cc and escape_kernel.cc: attempts to get out of the sandbox or at the host's kernel.
extern const Command kEscapeCommands[];
extern const std::size_t kEscapeCommandCount;
extern const Command kKernelCommands[];
extern const std::size_t kKernelCommandCount;
// privs.cc: owners, modes, dropping to a uid, mount options.
extern const Command kPrivCommands[];
extern const std::size_t kPrivCommandCount;

}  // namespace cell_probe
