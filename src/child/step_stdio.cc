// Child steps for file descriptors: the payload gets 0-2 and nothing else of the host's
// (runc CVE-2024-21626 leaked a host directory fd into the container).
#include <fcntl.h>
#include <linux/close_range.h>
#include <unistd.h>

#include "base/sys.hpp"
#include "child/step.hpp"

namespace cell::child {

// Moves the sources above 2 first, so a source that is itself 0, 1 or 2 is not clobbered.
StepStatus setup_stdio(const ChildPlan& p) noexcept {
  int tmp[3];
  for (int i = 0; i < 3; ++i) {
    tmp[i] = ::fcntl(p.stdio[i], F_DUPFD_CLOEXEC, 3);
    if (tmp[i] < 0) return failed(i);
  }
  for (int i = 0; i < 3; ++i) {
    if (::dup3(tmp[i], i, 0) < 0) return failed(i);
    ::close(tmp[i]);
  }
  return ok();
}

// Closes everything above 2 except the pipes to the parent (all CLOEXEC).
StepStatus close_fds(const ChildPlan& p) noexcept {
  int keep[3] = {p.report_fd, p.status_fd, p.notify_sock};
  // sort the three (insertion sort; -1 sorts first and is skipped)
  for (int i = 1; i < 3; ++i)
    for (int j = i; j > 0 && keep[j - 1] > keep[j]; --j) {
      const int t = keep[j];
      keep[j] = keep[j - 1];
      keep[j - 1] = t;
    }
  unsigned next = 3;
  for (int fd : keep) {
    if (fd < 3) continue;
    if (static_cast<unsigned>(fd) > next &&
        sys::close_range(next, static_cast<unsigned>(fd) - 1, 0) != 0)
      return failed();
    next = static_cast<unsigned>(fd) + 1;
  }
  if (sys::close_range(next, ~0U, 0) != 0) return failed();
  return ok();
}

}  // namespace cell::child
