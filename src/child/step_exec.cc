// The last two payload steps: the seccomp filter, then execve.
#include <linux/seccomp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "base/sys.hpp"
#include "child/step.hpp"

namespace cell::child {

namespace {

// Hands the filter's notification listener to the supervisor, which names the syscall of a
// violation and stops the sandbox. The fd is in flight once sendmsg returns.
int send_fd(int sock, int fd) noexcept {
  char data = 'L';
  struct iovec iov {&data, 1};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  ::memset(control, 0, sizeof control);
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  ::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n;
  do n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == 1 ? 0 : -1;
}

}  // namespace

StepStatus load_seccomp(const ChildPlan& p) noexcept {
  if (p.seccomp == nullptr) return ok();
  const bool notify = p.notify_sock >= 0;
  const unsigned flags = notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  const int r = sys::seccomp(SECCOMP_SET_MODE_FILTER, flags, const_cast<sock_fprog*>(p.seccomp));
  if (r < 0) return failed();
  if (!notify) return ok();
  if (send_fd(p.notify_sock, r) != 0) return failed(-1, Step::send_seccomp_listener);
  ::close(r);
  ::close(p.notify_sock);
  return ok();
}

// Tries each PATH candidate like execvp: ENOENT moves on, EACCES is remembered.
StepStatus exec_payload(const ChildPlan& p) noexcept {
  int err = ENOENT;
  for (std::size_t i = 0; i < p.n_exec_paths; ++i) {
    ::execve(p.exec_paths[i], p.argv, p.envp);
    if (errno == EACCES) {
      err = EACCES;
    } else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE) {
      err = errno;
      break;
    }
  }
  errno = err;
  return failed();
}

}  // namespace cell::child
