// Denied-syscall attempts for cell-probe: one line each, raw syscall(2), harmless arguments.
#include "syscalls.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace cell_probe {

long try_syscall(const std::string& name) {
  static char nothing[1] = {0};
  if (name == "ptrace") return ::syscall(SYS_ptrace, -1L, 0, 0, 0);
  if (name == "mount") return ::syscall(SYS_mount, "none", "/nonexistent", "tmpfs", 0, nullptr);
  if (name == "umount2") return ::syscall(SYS_umount2, "/nonexistent", 0);
  if (name == "pivot_root") return ::syscall(SYS_pivot_root, "/nonexistent", "/nonexistent");
  if (name == "chroot") return ::syscall(SYS_chroot, "/nonexistent");
  if (name == "unshare") return ::syscall(SYS_unshare, CLONE_NEWUSER);
  if (name == "setns") return ::syscall(SYS_setns, -1, 0);
  if (name == "keyctl") return ::syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0);
  if (name == "add_key") return ::syscall(SYS_add_key, nullptr, nullptr, nullptr, 0, 0);
  if (name == "bpf") return ::syscall(SYS_bpf, -1, nullptr, 0);
  if (name == "perf_event_open") return ::syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0);
  if (name == "userfaultfd") return ::syscall(SYS_userfaultfd, 0);
  if (name == "io_uring_setup") return ::syscall(SYS_io_uring_setup, 0, nullptr);
  if (name == "reboot") return ::syscall(SYS_reboot, 0, 0, 0, nullptr);
  if (name == "kexec_load") return ::syscall(SYS_kexec_load, 0, 0, nullptr, 0);
  if (name == "init_module") return ::syscall(SYS_init_module, nullptr, 0, nothing);
  if (name == "finit_module") return ::syscall(SYS_finit_module, -1, nothing, 0);
  if (name == "delete_module") return ::syscall(SYS_delete_module, "cell_probe_none", O_NONBLOCK);
  if (name == "kexec_file_load") return ::syscall(SYS_kexec_file_load, -1, -1, 0, nothing, 0);
  if (name == "request_key") return ::syscall(SYS_request_key, "user", "cell-probe", nullptr, 0);
  if (name == "swapoff") return ::syscall(SYS_swapoff, "/nonexistent");
  if (name == "adjtimex") {
    timex t{};  // modes 0: a read-only query
    return ::syscall(SYS_adjtimex, &t);
  }
  if (name == "io_uring_enter") return ::syscall(SYS_io_uring_enter, -1, 0, 0, 0, nullptr, 0);
  if (name == "swapon") return ::syscall(SYS_swapon, "/nonexistent", 0);
  if (name == "clock_settime") return ::syscall(SYS_clock_settime, CLOCK_REALTIME, nullptr);
  if (name == "settimeofday") return ::syscall(SYS_settimeofday, nullptr, nullptr);
  if (name == "acct") return ::syscall(SYS_acct, nullptr);
  if (name == "open_by_handle_at") return ::syscall(SYS_open_by_handle_at, -1, nullptr, 0);
  if (name == "process_vm_readv")
    return ::syscall(SYS_process_vm_readv, 1, nullptr, 0, nullptr, 0, 0);
  if (name == "iopl") return ::syscall(SYS_iopl, 0);
  if (name == "syslog") return ::syscall(SYS_syslog, 10 /* SIZE_BUFFER */, nullptr, 0);
  if (name == "modify_ldt") return ::syscall(SYS_modify_ldt, 0, nullptr, 0);
  if (name == "personality") return ::syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */);
  if (name == "tiocsti") return ::syscall(SYS_ioctl, 0, TIOCSTI, nothing);
  if (name == "clone3") return ::syscall(SYS_clone3, nullptr, 0);
  if (name == "clone_newns") {
    const long r = ::syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, nullptr, nullptr, nullptr, 0);
    if (r == 0) ::_exit(0);
    if (r > 0) ::waitpid(static_cast<pid_t>(r), nullptr, 0);
    return r;
  }
  if (name == "getpid") return ::syscall(SYS_getpid);
  if (name == "getppid") return ::syscall(SYS_getppid);
  errno = ENOSYS;
  return -2;
}

}  // namespace cell_probe
