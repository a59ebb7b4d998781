// spawn_payload: the sandbox's pid 1 forks the payload and stays behind as its reaper.
// A payload running as pid 1 would ignore its own abort() (namespace init is protected from
// signals sent from inside), so cell keeps pid 1 and the payload is pid 2.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child/step.hpp"

namespace cell::child {

int clear_all_caps() noexcept;  // step_creds.cc

namespace {

std::int64_t to_ns(const struct timeval& tv) noexcept {
  return static_cast<std::int64_t>(tv.tv_sec) * 1000000000 + static_cast<std::int64_t>(tv.tv_usec) * 1000;
}

[[noreturn]] void reap(const ChildPlan& p, pid_t payload) noexcept {
  // Keep only the status pipe: the payload's exec must close the report pipe's last copy,
  // and stdout/stderr must reach EOF when the payload's side closes.
  ::close(p.report_fd);
  if (p.notify_sock >= 0) ::close(p.notify_sock);
  ::close(0);
  ::close(1);
  ::close(2);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // the payload may not ptrace or read /proc/1/mem
  clear_all_caps();

  ReaperRecord rec;
  rec.wait_status = -1;
  for (;;) {
    int status = 0;
    struct rusage ru {};
    const pid_t r = ::wait4(-1, &status, __WALL, &ru);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing left (cannot happen before the payload is reaped)
    }
    rec.user_ns += to_ns(ru.ru_utime);
    rec.sys_ns += to_ns(ru.ru_stime);
    if (ru.ru_maxrss > rec.maxrss_kb) rec.maxrss_kb = ru.ru_maxrss;
    if (r != payload) {
      ++rec.orphans_reaped;
      continue;
    }
    rec.wait_status = status;
    break;
  }
  ssize_t n;
  do n = ::write(p.status_fd, &rec, sizeof rec);
  while (n < 0 && errno == EINTR);
  // Our exit tears down the pid namespace: every process left in it gets SIGKILL.
  ::_exit(0);
}

}  // namespace

StepStatus spawn_payload(const ChildPlan& p) noexcept {
  const pid_t pid = ::_Fork();
  if (pid < 0) return failed();
  if (pid == 0) {
    ::close(p.status_fd);
    return ok();  // the payload continues with the payload steps
  }
  reap(p, pid);
}

}  // namespace cell::child
