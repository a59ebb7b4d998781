// Raw syscall wrappers glibc 2.36 lacks. Inline and allocation-free: the child uses them too.
#pragma once

#include <linux/sched.h>  // struct clone_args
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace cell::sys {

inline long clone3(struct clone_args* args) noexcept {
  return ::syscall(SYS_clone3, args, sizeof(struct clone_args));
}
inline int pidfd_open(pid_t pid, unsigned flags = 0) noexcept {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
}
inline int pidfd_send_signal(int pidfd, int sig) noexcept {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}
inline int pivot_root(const char* new_root, const char* put_old) noexcept {
  return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
}
inline int seccomp(unsigned op, unsigned flags, void* args) noexcept {
  return static_cast<int>(::syscall(SYS_seccomp, op, flags, args));
}
inline int close_range(unsigned first, unsigned last, unsigned flags) noexcept {
  return static_cast<int>(::syscall(SYS_close_range, first, last, flags));
}

}  // namespace cell::sys
