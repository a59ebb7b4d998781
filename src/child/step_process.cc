// Child steps about the process itself and its namespaces.
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "child/step.hpp"

namespace cell::child {

// cgroup v1: the parent opened each leaf's `tasks` file; "0" moves the writing thread. A
// thread moving itself skips the global threadgroup rwsem that moving a process by pid takes,
// whose write side waits for an RCU grace period (5-20 ms on a quiet host). Until the go byte
// this process only runs these steps, so it is in every leaf before the program can start.
StepStatus join_cgroup(const ChildPlan& p) noexcept {
  for (unsigned i = 0; i < p.n_join_fds; ++i) {
    ssize_t n;
    do n = ::write(p.join_fds[i], "0", 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) return failed(static_cast<std::int32_t>(i));
    ::close(p.join_fds[i]);
  }
  return ok();
}

// CLONE_CLEAR_SIGHAND resets handlers but keeps SIG_IGN, and ignored signals survive execve:
// a server that ignores SIGPIPE would hand that to the payload. Reset every one explicitly.
StepStatus reset_signals(const ChildPlan&) noexcept {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::sigaction(sig, &dfl, nullptr);  // glibc refuses its two internal signals: harmless
  }
  sigset_t none;
  ::sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) return failed();
  return ok();
}

// Until here the go pipe stands in for it: the parent holds its write end for the whole run,
// so EOF (POLLHUP) means cell is gone.
StepStatus wait_for_parent(const ChildPlan& p) noexcept {
  ::close(p.go_parent_fd);  // our inherited copy would keep EOF from ever coming
  char go = 0;
  ssize_t n;
  do n = ::read(p.go_fd, &go, 1);
  while (n < 0 && errno == EINTR);
  if (n == 0 || go != 'G') ::_exit(kSetupFailedExit);  // parent gone or gave up: nobody to tell
  if (n < 0) return failed();
  return ok();
}

// Fires when the thread that cloned us exits (the kernel then kills the whole pid namespace).
// Set after become_ns_root: any change of effective ids clears it. A parent that died before
// the prctl is caught by the go pipe's hang-up.
StepStatus set_parent_death_signal(const ChildPlan& p) noexcept {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return failed();
  struct pollfd go {};
  go.fd = p.go_fd;
  go.events = POLLIN;
  if (::poll(&go, 1, 0) > 0 && (go.revents & (POLLHUP | POLLERR)) != 0) ::_exit(kSetupFailedExit);
  ::close(p.go_fd);
  return ok();
}

// With a ranged map the clone's own ids (host root's) are unmapped inside: switch to the
// namespace's root so files we create (mount points, /etc/passwd) have a mapped owner.
StepStatus become_ns_root(const ChildPlan& p) noexcept {
  if (!p.become_root) return ok();
  if (p.setgroups_allowed && set_no_groups() != 0 &&
      !(errno == EPERM && p.setgroups_may_be_denied))
    return failed();
  if (set_all_gids(p.setup_gid) != 0) return failed();
  if (set_all_uids(p.setup_uid) != 0) return failed();
  return ok();
}

StepStatus set_hostname(const ChildPlan& p) noexcept {
  if (p.hostname == nullptr) return ok();
  if (::sethostname(p.hostname, ::strlen(p.hostname)) != 0) return failed();
  return ok();
}

StepStatus bring_up_loopback(const ChildPlan& p) noexcept {
  if (!p.loopback_up) return ok();
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return failed();
  struct ifreq ifr {};
  ::memcpy(ifr.ifr_name, "lo", 3);
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
    const StepStatus st = failed();
    ::close(s);
    return st;
  }
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
    const StepStatus st = failed();
    ::close(s);
    return st;
  }
  ::close(s);
  return ok();
}

}  // namespace cell::child
