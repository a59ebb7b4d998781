#include "support/requirements.hpp"

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "support/sandbox.hpp"

namespace cell::test {

namespace {

// Tries unshare(CLONE_NEWUSER) in a throw-away child; "" if it works, else the errno text.
std::string userns_problem() {
  static const std::string problem = [] {
    const pid_t pid = ::fork();
    if (pid < 0) return std::string("fork: ") + std::strerror(errno);
    if (pid == 0) ::_exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : (errno & 0xff));
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::string();
    return std::string("unshare(CLONE_NEWUSER): ") +
           std::strerror(WIFEXITED(status) ? WEXITSTATUS(status) : EIO);
  }();
  return problem;
}

std::string why_not(Need n) {
  const uid_t uid = ::geteuid();
  switch (n) {
    case Need::root:
      return uid == 0 ? "" : "needs root (running as uid " + std::to_string(uid) + ")";
    case Need::rootless:
      return uid != 0 ? "" : "needs a non-root user (the rootless run covers it)";
    case Need::userns: {
      const std::string p = userns_problem();
      return p.empty() ? "" : "needs user namespaces for uid " + std::to_string(uid) + ": " + p;
    }
    case Need::sandbox: {
      if (std::string p = why_not(Need::userns); !p.empty()) return p;
      const Result<Runtime>& rt = test_runtime();
      return rt.ok() ? "" : "cell::Runtime::open failed: " + rt.error().what();
    }
    case Need::busybox:
      return ::access("/bin/busybox", X_OK) == 0 ? "" : "needs /bin/busybox (busybox-static)";
  }
  return "unknown requirement";
}

}  // namespace

std::string missing(std::initializer_list<Need> needs) {
  std::string out;
  for (Need n : needs)
    if (std::string why = why_not(n); !why.empty()) out += (out.empty() ? "" : "; ") + why;
  return out;
}

bool strict() {
  const char* v = std::getenv("CELL_TEST_STRICT");
  return v != nullptr && std::string(v) == "1";
}

Unmet unmet(std::initializer_list<Need> needs) {
  std::string mode, env;
  for (Need n : needs) {
    std::string why = why_not(n);
    if (why.empty()) continue;
    std::string& to = n == Need::root || n == Need::rootless ? mode : env;
    to += (to.empty() ? "" : "; ") + why;
  }
  Unmet u;
  if (!mode.empty())  // not this run's test: whatever else is missing, it would not run here
    u.skip = mode + (env.empty() ? "" : "; " + env);
  else if (!env.empty())
    (strict() ? u.fail : u.skip) = env;
  return u;
}

}  // namespace cell::test
