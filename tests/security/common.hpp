// Shared by the escape, bomb and fault tests: things on the host for a sandbox to aim at
// (a process, listeners, secret files), scans of the host afterwards, and expectations for a
// run that tried something it must not be able to do.
//
// Each escape test runs cell-probe with the standard profile (unless it says otherwise), as
// root and, through as-user.sh, rootless; where the filter is the first wall, a second run
// with `seccomp: off` checks that the kernel (no capabilities, namespaces, read-only mounts)
// still holds on its own.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "support/requirements.hpp"
#include "support/sandbox.hpp"
#include "support/temp_dir.hpp"

namespace cell::test::sec {

// The standard profile with its filter switched off: what the kernel alone allows.
void no_filter(RunSpec& s);

// A process on the host for the sandbox to aim at (a forked child waiting in pause()).
class HostProcess {
 public:
  HostProcess();
  ~HostProcess();
  HostProcess(const HostProcess&) = delete;
  HostProcess& operator=(const HostProcess&) = delete;
  [[nodiscard]] pid_t pid() const { return pid_; }
  // Still running, not stopped or traced, and no signal arrived.
  [[nodiscard]] bool untouched() const;

 private:
  pid_t pid_ = -1;
  int report_ = -1;  // the child writes the number of any signal it receives here
};

// A listening TCP socket on the host's loopback (127.0.0.1, an ephemeral port).
class HostListener {
 public:
  HostListener();
  ~HostListener();
  HostListener(const HostListener&) = delete;
  HostListener& operator=(const HostListener&) = delete;
  [[nodiscard]] std::uint16_t port() const { return port_; }
  // Whether a connection is waiting (accepts it without blocking).
  [[nodiscard]] bool someone_connected() const;

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// A listening Unix socket in the abstract namespace ("@cell-sec-PID-N"), per network namespace.
class AbstractListener {
 public:
  AbstractListener();
  ~AbstractListener();
  AbstractListener(const AbstractListener&) = delete;
  AbstractListener& operator=(const AbstractListener&) = delete;
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] bool someone_connected() const;

 private:
  int fd_ = -1;
  std::string name_;
};

// A world-readable directory on the host holding `secret` (a file only the host has), for
// "is it visible from inside" checks.
struct HostSecret {
  TempDir dir{"cell-sec-secret"};
  std::string path;  // dir/secret
  HostSecret();
};

// Host processes whose command line contains `token` (a unique word the probe was given).
std::vector<pid_t> processes_with(const std::string& token);
// A word nobody else uses: "cellsec<pid>x<n><what>".
std::string unique_token(const std::string& what);
// Lines of /proc/self/mountinfo.
std::size_t mount_count();
// The host's hostname.
std::string host_name();
// A file's content, "" if unreadable.
std::string slurp(const std::string& path);

// One "NAME ret=R errno=E" fact (`syscall`, `attempt`, `i386`, `x32`).
struct Call {
  bool found = false;
  long ret = 0;
  std::string err;
};
Call call_fact(const Facts& f, const std::string& key, const std::string& name);

// The run ended as a seccomp violation naming `syscall` (and `arch`), and the probe printed
// nothing after `before` (its last words).
void expect_violation(const ProbeRun& r, const std::string& syscall,
                      const std::string& arch = "x86_64");
// The call did not succeed, and failed with one of `errnos`.
void expect_refused(const Call& c, const std::set<std::string>& errnos, const std::string& what);

// Whether the sandbox user maps to the caller (rootless) or to a range (root).
inline bool rootless() {
  return ::geteuid() != 0;
}

}  // namespace cell::test::sec
