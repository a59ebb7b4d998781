// The child world (src/child, run between clone3 and execve) may only make syscalls over the
// prepared plan: no heap, no locks, no stdio, no exceptions. Its object files' undefined
// symbols are checked against an allow-list of libc syscall wrappers and a few pure helpers;
// a new dependency fails here with its name, and must be justified before being added.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

// async-signal-safe syscall wrappers: fine after fork/clone in a threaded parent. Not here on
// purpose: setgroups, setresuid, setresgid, setuid and the rest of glibc's id setters, which
// signal and wait for every thread of the parent (__nptl_setxid) and so can hang after clone3;
// the child makes those calls through syscall().
const std::set<std::string> kSyscallWrappers = {
    "_Fork",       "_exit",         "access",  "chdir",      "chmod",       "chown",    "close",
    "close_range", "dup",           "dup2",    "dup3",       "execve",      "execveat", "faccessat",
    "fchdir",      "fchmod",        "fchown",  "fcntl",      "fcntl64",     "fstat",    "fstat64",
    "fstatat",     "fstatat64",     "getegid", "geteuid",    "getgid",      "getpid",   "getppid",
    "getuid",      "ioctl",         "kill",    "lseek",      "lstat",       "lstat64",  "mkdir",
    "mkdirat",     "mknod",         "mount",   "move_mount", "open_tree",   "fsopen",   "fsconfig",
    "fsmount",     "mount_setattr", "open",    "open64",     "openat",      "openat64", "pipe2",
    "poll",        "prctl",         "read",    "readlink",   "recvmsg",     "rmdir",    "sendmsg",
    "sethostname", "setdomainname", "setns",   "setrlimit",  "setrlimit64", "setsid",   "sigaction",
    "sigprocmask", "socket",        "stat",    "stat64",     "symlink",     "syscall",  "umask",
    "umount2",     "unlink",        "unshare", "wait4",      "waitpid",     "write",
};

// Pure helpers (no state, no allocation) and what the compiler emits on its own.
const std::set<std::string> kHelpers = {
    "__errno_location",
    "__stack_chk_fail",
    "memcmp",
    "memcpy",
    "memmove",
    "memset",
    "sigaddset",
    "sigemptyset",
    "sigfillset",
    "strcmp",
    "strlen",
    "strncmp",
    // _FORTIFY_SOURCE variants of the above
    "__memcpy_chk",
    "__memmove_chk",
    "__memset_chk",
    "__open_2",
    "__open64_2",
    "__read_chk",
};

std::vector<std::string> object_files() {
  std::vector<std::string> out;
  std::stringstream in(CELL_CHILD_OBJECTS);  // colon-separated, from $<TARGET_OBJECTS:cell_child>
  for (std::string f; std::getline(in, f, ':');)
    if (!f.empty()) out.push_back(f);
  return out;
}

// Symbol names from `nm -P` (POSIX format: "NAME TYPE [VALUE SIZE]") over every object.
std::set<std::string> nm(const std::string& option, std::string& problem) {
  std::set<std::string> names;
  for (const std::string& obj : object_files()) {
    const std::string cmd = std::string(CELL_NM) + " " + option + " -P '" + obj + "' 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
      problem = "cannot run " + cmd;
      return names;
    }
    char line[4096];
    while (std::fgets(line, sizeof line, p) != nullptr) {
      std::istringstream fields(line);
      std::string name, type;
      if (fields >> name >> type && type.size() == 1) names.insert(name);
    }
    if (const int rc = ::pclose(p); rc != 0) problem = cmd + " failed (" + std::to_string(rc) + ")";
  }
  return names;
}

TEST(ChildSymbols, ObjectsAreFound) {
  const std::vector<std::string> objs = object_files();
  ASSERT_GE(objs.size(), 5u) << "CELL_CHILD_OBJECTS: " << CELL_CHILD_OBJECTS;
  for (const std::string& o : objs) EXPECT_EQ(::access(o.c_str(), R_OK), 0) << o;
}

TEST(ChildSymbols, OnlyAllowListedExternalSymbols) {
  std::string problem;
  const std::set<std::string> undefined = nm("--undefined-only", problem);
  ASSERT_TRUE(problem.empty()) << problem;
  const std::set<std::string> defined = nm("--defined-only", problem);
  ASSERT_TRUE(problem.empty()) << problem;
  ASSERT_FALSE(undefined.empty()) << "nm saw no undefined symbols at all";
  std::vector<std::string> unexpected;
  for (const std::string& s : undefined) {
    if (defined.count(s) != 0) continue;                // one child file calling another
    const std::string base = s.substr(0, s.find('@'));  // versioned names: name@GLIBC_x
    if (kSyscallWrappers.count(base) == 0 && kHelpers.count(base) == 0) unexpected.push_back(s);
  }
  std::string list;
  for (const std::string& s : unexpected) list += "\n  " + s;
  EXPECT_TRUE(unexpected.empty())
      << "src/child uses symbols outside its allow-list (heap, stdio, locks, C++ runtime?):" << list
      << "\nIf one is a plain async-signal-safe syscall wrapper, add it to the list in "
      << __FILE__;
}

// The list is not a blank cheque: the things the child world must never touch are not on it.
TEST(ChildSymbols, AllowListExcludesTheUnsafe) {
  for (const char* s : {"malloc", "free", "calloc", "realloc", "_Znwm", "_ZdlPv", "__cxa_throw",
                        "__cxa_allocate_exception", "printf", "fprintf", "snprintf", "syslog",
                        "pthread_mutex_lock", "getpwnam", "getenv", "exit", "abort", "fork",
                        // glibc's id setters synchronise every thread of the process
                        "setgroups", "setresuid", "setresgid", "setuid", "setgid", "seteuid",
                        "setegid", "setreuid", "setregid"}) {
    EXPECT_EQ(kSyscallWrappers.count(s), 0u) << s;
    EXPECT_EQ(kHelpers.count(s), 0u) << s;
  }
}

}  // namespace
