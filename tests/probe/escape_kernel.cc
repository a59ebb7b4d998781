// cell-probe commands aimed at what lies outside the sandbox's namespaces: other processes
// (signals, ptrace, pidfds), the host's network, the caller's terminal, kernel interfaces
// called with arguments that would work if allowed, other syscall ABIs, and resource bombs.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/userfaultfd.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "probe.hpp"

namespace cell_probe {
namespace {

long long number(const std::string& s) {
  return std::strtoll(s.c_str(), nullptr, 0);
}

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// --- other processes --------------------------------------------------------------------

// kill PID SIG (PID may be -1: everything the probe may signal).
void cmd_kill(const Args& a) {
  out("kill=%s", outcome(::kill(static_cast<pid_t>(number(a[0])), signal_number(a[1]))));
}

void cmd_ptrace(const Args& a) {
  const auto pid = static_cast<pid_t>(number(a[0]));
  const long rc = ::syscall(SYS_ptrace, PTRACE_ATTACH, pid, nullptr, nullptr);
  out("ptrace=%s", outcome(rc));
  if (rc == 0) ::syscall(SYS_ptrace, PTRACE_DETACH, pid, nullptr, nullptr);
}

void cmd_pidfd(const Args& a) {
  const long fd = ::syscall(SYS_pidfd_open, static_cast<pid_t>(number(a[0])), 0);
  out("pidfd=%s", outcome(fd));
  if (fd >= 0) ::close(static_cast<int>(fd));
}

// --- network ----------------------------------------------------------------------------

// Waits up to 2 s for a non-blocking connect; returns 0 or the errno.
int finish_connect(int s, int rc) {
  if (rc == 0) return 0;
  if (errno != EINPROGRESS) return errno;
  pollfd p{s, POLLOUT, 0};
  if (::poll(&p, 1, 2000) != 1) return ETIMEDOUT;
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
  return err;
}

// connect ADDR PORT: TCP to an IPv4 or IPv6 address.
void cmd_connect(const Args& a) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const auto port = htons(static_cast<uint16_t>(number(a[1])));
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (::inet_pton(AF_INET, a[0].c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = port;
    len = sizeof *v4;
  } else if (::inet_pton(AF_INET6, a[0].c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = port;
    len = sizeof *v6;
  } else {
    return out("connect=EINVAL");
  }
  const int s = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) return out("connect=%s", err_name(errno));
  const int err = finish_connect(s, ::connect(s, reinterpret_cast<sockaddr*>(&ss), len));
  out("connect=%s", err == 0 ? "ok" : err_name(err));
  ::close(s);
}

// connect-unix NAME: a stream Unix socket; "@NAME" is in the abstract namespace.
void cmd_connect_unix(const Args& a) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  const std::string& n = a[0];
  if (n.size() >= sizeof un.sun_path) return out("connect_unix=ENAMETOOLONG");
  std::memcpy(un.sun_path, n.data(), n.size());
  if (n[0] == '@') un.sun_path[0] = '\0';
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + n.size());
  const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return out("connect_unix=%s", err_name(errno));
  out("connect_unix=%s", outcome(::connect(s, reinterpret_cast<sockaddr*>(&un), len)));
  ::close(s);
}

// --- the caller's terminal --------------------------------------------------------------

// tiocsti TEXT: push TEXT into stdin's terminal input queue, one byte at a time, as if typed.
void cmd_tiocsti(const Args& a) {
  for (char c : a[0]) {
    if (::ioctl(0, TIOCSTI, &c) != 0) return out("tiocsti=%s", err_name(errno));
  }
  out("tiocsti=ok");
}

// --- kernel interfaces, with arguments that would do something if allowed ---------------

long attempt_bpf() {
  union bpf_attr attr {};
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  return ::syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
}

long attempt_perf() {
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.exclude_kernel = 1;
  return ::syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

long attempt_io_uring() {
  io_uring_params p{};
  return ::syscall(SYS_io_uring_setup, 4, &p);
}

// The current time, so that a clock call that wrongly succeeded would change next to nothing.
long attempt_clock_settime() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return ::syscall(SYS_clock_settime, CLOCK_REALTIME, &now);
}

long attempt_adjtimex() {
  timex t{};
  if (::syscall(SYS_adjtimex, &t) < 0) return -1;  // read-only query: allowed to anyone
  t.modes = ADJ_TICK;                              // write the tick it already has
  return ::syscall(SYS_adjtimex, &t);
}

// Shocker (2014): open any inode of a file system by a forged handle (ext4's root: inode 2,
// generation 0) through a directory fd on it; needs CAP_DAC_READ_SEARCH.
long attempt_open_by_handle() {
  struct {
    file_handle h;
    unsigned int ino_gen[2];
  } fh{};
  fh.h.handle_bytes = sizeof fh.ino_gen;
  fh.h.handle_type = 1;  // FILEID_INO32_GEN
  fh.ino_gen[0] = 2;
  const int dir = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const long rc = ::syscall(SYS_open_by_handle_at, dir, &fh.h, O_RDONLY);
  const int err = errno;
  ::close(dir);
  errno = err;
  return rc;
}

long attempt(const std::string& n) {
  static char empty[1] = {0};
  if (n == "keyctl") return ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "cell-probe");
  if (n == "add_key")
    return ::syscall(SYS_add_key, "user", "cell-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING);
  if (n == "bpf") return attempt_bpf();
  if (n == "perf_event_open") return attempt_perf();
  if (n == "userfaultfd") return ::syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
  if (n == "io_uring_setup") return attempt_io_uring();
  if (n == "init_module") return ::syscall(SYS_init_module, empty, 1, empty);
  if (n == "finit_module") {
    const int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    return ::syscall(SYS_finit_module, fd, empty, 0);
  }
  if (n == "delete_module") return ::syscall(SYS_delete_module, "cell_probe_none", O_NONBLOCK);
  // Ctrl-Alt-Del off: in a child pid namespace even a privileged caller only gets EINVAL.
  if (n == "reboot")
    return ::syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF,
                     nullptr);
  if (n == "clock_settime") return attempt_clock_settime();
  if (n == "adjtimex") return attempt_adjtimex();
  if (n == "open_by_handle_at") return attempt_open_by_handle();
  if (n == "iopl") return ::syscall(SYS_iopl, 3);
  if (n == "ioperm") return ::syscall(SYS_ioperm, 0x80, 1, 1);
  if (n == "swapoff") return ::syscall(SYS_swapoff, "/cell-probe");
  if (n == "acct") return ::syscall(SYS_acct, "/tmp/cell-acct");
  errno = ENOSYS;
  return -2;
}

void cmd_attempt(const Args& a) {
  errno = 0;
  const long r = attempt(a[0]);
  if (r == -2) return out("attempt=%s unknown", a[0].c_str());
  out("attempt=%s ret=%ld errno=%s", a[0].c_str(), r, r < 0 ? err_name(errno) : "0");
  static const char* const kReturnsFd[] = {"bpf", "perf_event_open", "userfaultfd",
                                           "io_uring_setup", "open_by_handle_at"};
  for (const char* n : kReturnsFd)
    if (r > 2 && a[0] == n) ::close(static_cast<int>(r));
}

// --- other ABIs -------------------------------------------------------------------------

struct AbiCall {
  const char* name;
  long i386_nr, x32_nr;  // x32 numbers without the 0x40000000 bit
};
constexpr AbiCall kAbiCalls[] = {
    {"getpid", 20, 39},  {"mount", 21, 165},    {"ptrace", 26, 521},  {"reboot", 88, 169},
    {"chroot", 61, 161}, {"unshare", 310, 272}, {"keyctl", 288, 250},
};

const AbiCall* abi_call(const std::string& n) {
  for (const AbiCall& c : kAbiCalls)
    if (n == c.name) return &c;
  return nullptr;
}

// The i386 entry (int 0x80) from a 64-bit process: 32-bit arguments, all zero (harmless).
long i386_syscall(long nr) {
  long ret;
  asm volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(0L), "c"(0L), "d"(0L) : "memory");
  return ret;
}

void cmd_i386(const Args& a) {
  const AbiCall* c = abi_call(a[0]);
  if (c == nullptr) return out("i386=%s unknown", a[0].c_str());
  const long r = i386_syscall(c->i386_nr);
  out("i386=%s ret=%ld errno=%s", c->name, r < 0 ? -1 : r,
      r < 0 ? err_name(static_cast<int>(-r)) : "0");
}

void cmd_x32(const Args& a) {
  const AbiCall* c = abi_call(a[0]);
  if (c == nullptr) return out("x32=%s unknown", a[0].c_str());
  errno = 0;
  const long r = ::syscall(c->x32_nr | 0x40000000L, 0, 0, 0, 0);
  out("x32=%s ret=%ld errno=%s", c->name, r, r < 0 ? err_name(errno) : "0");
}

// --- bombs ------------------------------------------------------------------------------

// forkbomb MAX: fork children that wait forever until fork fails or MAX are running.
void cmd_forkbomb(const Args& a) {
  const long long max = number(a[0]);
  long long n = 0;
  int err = 0;
  while (n < max) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      for (;;) ::pause();
    }
    if (pid < 0) {
      err = errno;
      break;
    }
    ++n;
  }
  out("forked=%lld\nfork=%s", n, err ? err_name(err) : "ok");
}

// forkbomb-forever: every process forks again, forever; failures back off for 1 ms.
[[noreturn]] void cmd_forkbomb_forever(const Args&) {
  for (;;)
    if (::fork() < 0) sleep_ms(1);
}

// fork-memhog N BYTES: N children each touch BYTES, hold them a moment, exit; how each ended.
void cmd_fork_memhog(const Args& a) {
  const long long n = number(a[0]);
  const auto bytes = static_cast<size_t>(number(a[1]));
  std::vector<pid_t> kids;
  for (long long i = 0; i < n; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) ::_exit(12);
      for (size_t off = 0; off < bytes; off += 4096) static_cast<volatile char*>(p)[off] = 1;
      sleep_ms(500);
      ::_exit(0);
    }
    if (pid > 0) kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int st = 0;
    ::waitpid(k, &st, 0);
    if (WIFEXITED(st))
      out("hog=exit:%d", WEXITSTATUS(st));
    else
      out("hog=signal:%d", WTERMSIG(st));
  }
}

// daemonize: leave a grandchild in its own session that outlives the payload, sleeping.
void cmd_daemonize(const Args&) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return out("daemon=%s", err_name(errno));
  const pid_t child = ::fork();
  if (child == 0) {
    ::setsid();
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
      ::close(p[0]);
      ::close(p[1]);
      for (;;) ::pause();
    }
    (void)!::write(p[1], &grandchild, sizeof grandchild);
    ::_exit(0);
  }
  ::close(p[1]);
  ::waitpid(child, nullptr, 0);
  pid_t daemon = -1;
  (void)!::read(p[0], &daemon, sizeof daemon);
  ::close(p[0]);
  out("daemon=%d", daemon);
}

}  // namespace

extern const Command kKernelCommands[] = {
    {"kill", 2, cmd_kill, "PID SIG: send a signal (PID -1: everyone we may)"},
    {"ptrace", 1, cmd_ptrace, "PID: PTRACE_ATTACH, raw"},
    {"pidfd", 1, cmd_pidfd, "PID: pidfd_open"},
    {"connect", 2, cmd_connect, "ADDR PORT: TCP connect (IPv4/IPv6), 2 s timeout"},
    {"connect-unix", 1, cmd_connect_unix, "PATH|@NAME: Unix stream socket"},
    {"tiocsti", 1, cmd_tiocsti, "TEXT: inject into stdin's terminal"},
    {"attempt", 1, cmd_attempt, "NAME: a denied syscall with arguments that would work"},
    {"i386", 1, cmd_i386, "NAME: the syscall through int 0x80"},
    {"x32", 1, cmd_x32, "NAME: the syscall through the x32 ABI"},
    {"forkbomb", 1, cmd_forkbomb, "MAX: fork waiting children until fork fails"},
    {"forkbomb-forever", 0, cmd_forkbomb_forever, "every process forks, forever"},
    {"fork-memhog", 2, cmd_fork_memhog, "N BYTES: N children touch BYTES each"},
    {"daemonize", 0, cmd_daemonize, "leave a sleeping grandchild in its own session"},
};
extern const std::size_t kKernelCommandCount = sizeof kKernelCommands / sizeof kKernelCommands[0];

}  // namespace cell_probe
