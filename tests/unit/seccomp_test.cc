// Seccomp compilation against the real kernel: each test forks a child that loads the filter
// with the raw seccomp(2) call, as the sandbox's child does, and reports what its syscalls did.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <random>

#include "seccomp/internal.hpp"
#include "seccomp/seccomp.hpp"

namespace cell::seccomp {
namespace {

using K = SeccompAction::Kind;

SeccompAction act(K k, int e = 0) {
  return SeccompAction{k, e};
}

SeccompPolicy policy(SeccompAction def, std::vector<SeccompRule> rules = {}) {
  SeccompPolicy p;
  p.default_action = def;
  p.rules = std::move(rules);
  return p;
}

CompiledFilter compiled(const SeccompPolicy& p, bool notify = false) {
  auto r = compile(p, CompileOptions{notify});
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : CompiledFilter{};
}

int load(const CompiledFilter& f, unsigned flags = 0) {
  sock_fprog prog{static_cast<unsigned short>(f.program.size()),
                  const_cast<sock_filter*>(f.program.data())};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return static_cast<int>(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog));
}

struct Outcome {
  bool exited = false;
  int code = -1;
  int sig = 0;
};

Outcome wait_for(pid_t pid) {
  int st = 0;
  Outcome o;
  if (waitpid(pid, &st, 0) != pid) return o;
  o.exited = WIFEXITED(st);
  if (o.exited) o.code = WEXITSTATUS(st);
  if (WIFSIGNALED(st)) o.sig = WTERMSIG(st);
  return o;
}

// Runs `body` in a forked child under `f`; its return value is the exit code. 250 = the filter
// did not load.
Outcome run_under(const CompiledFilter& f, const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (load(f) < 0) _exit(250);
    _exit(body());
  }
  return wait_for(pid);
}

// errno of a failed call, 0 on success: an exit code the parent can compare.
int errno_of(long rc) {
  return rc < 0 ? errno : 0;
}

Outcome expect_exit(const Outcome& o, int code) {
  EXPECT_TRUE(o.exited) << "signal " << o.sig;
  EXPECT_EQ(o.code, code);
  return o;
}

void expect_sigsys(const Outcome& o) {
  EXPECT_FALSE(o.exited) << "exit code " << o.code;
  EXPECT_EQ(o.sig, SIGSYS);
}

TEST(SeccompCompile, ErrnoActionReturnsThatErrno) {
  auto f = compiled(policy(act(K::allow), {{act(K::errno_code, EACCES), {"getppid"}}}));
  expect_exit(run_under(f, [] { return errno_of(syscall(SYS_getppid)); }), EACCES);
}

TEST(SeccompCompile, KillProcessKillsWithSigsysAndOthersStillWork) {
  auto f = compiled(policy(act(K::allow), {{act(K::kill_process), {"getppid"}}}));
  expect_sigsys(run_under(f, [] { return static_cast<int>(syscall(SYS_getppid)) * 0 + 3; }));
  expect_exit(run_under(f, [] { return syscall(SYS_getpid) > 0 ? 7 : 1; }), 7);
}

TEST(SeccompCompile, LaterRuleForTheSameSyscallWins) {
  auto f = compiled(policy(act(K::allow), {{act(K::errno_code, EPERM), {"getppid", "getuid"}},
                                           {act(K::allow), {"getppid"}},
                                           {act(K::errno_code, EIO), {"getuid"}}}));
  expect_exit(run_under(f, [] { return errno_of(syscall(SYS_getppid)); }), 0);
  expect_exit(run_under(f, [] { return errno_of(syscall(SYS_getuid)); }), EIO);
}

TEST(SeccompCompile, RuleRepeatingTheDefaultIsDropped) {
  auto r = compile(policy(act(K::allow), {{act(K::allow), {"read", "write"}}}), {false});
  ASSERT_TRUE(r.ok()) << r.error().message;
}

TEST(SeccompCompile, UnknownNamesAreConfigErrors) {
  auto r = compile(policy(act(K::allow), {{act(K::kill_process), {"ptraec", "@nosuch"}}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::config);
  EXPECT_NE(r.error().message.find("did you mean 'ptrace'"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("'@nosuch': unknown syscall group"), std::string::npos);
}

TEST(SeccompCompile, ErrnoZeroWouldFakeSuccessAndIsRejected) {
  EXPECT_FALSE(compile(policy(act(K::errno_code, 0))).ok());
  EXPECT_FALSE(compile(policy(act(K::allow), {{act(K::errno_code, 5000), {"read"}}})).ok());
}

TEST(SeccompCompile, DisabledPolicyHasNoProgram) {
  SeccompPolicy p;
  p.enabled = false;
  auto r = compile(p);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->program.empty());
  EXPECT_FALSE(r->notify);
}

SeccompPolicy namespaces_denied(SeccompAction deny) {
  return policy(act(K::allow), {{deny, {"@namespaces"}}});
}

TEST(SeccompNamespaces, UnshareAndNamespaceClonesAreDeniedPlainForkWorks) {
  auto f = compiled(namespaces_denied(act(K::errno_code, EPERM)));
  expect_exit(run_under(f, [] { return errno_of(unshare(CLONE_NEWUSER)); }), EPERM);
  expect_exit(run_under(f, [] { return errno_of(unshare(CLONE_NEWNS)); }), EPERM);
  expect_exit(run_under(f, [] { return errno_of(syscall(SYS_setns, 0, 0)); }), EPERM);
  expect_exit(run_under(f,
                        [] {
                          return errno_of(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr,
                                                  nullptr, nullptr, 0));
                        }),
              EPERM);
  expect_exit(run_under(f,
                        [] {
                          const pid_t c = fork();
                          if (c == 0) _exit(42);
                          return c > 0 ? wait_for(c).code : 1;
                        }),
              42);
}

TEST(SeccompNamespaces, Clone3FailsWithEnosysWhateverTheDenyAction) {
  auto f = compiled(namespaces_denied(act(K::kill_process)));
  expect_exit(run_under(f,
                        [] {
                          clone_args args{};
                          args.exit_signal = SIGCHLD;
                          const long rc = syscall(SYS_clone3, &args, sizeof args);
                          if (rc == 0) _exit(0);
                          return errno_of(rc);
                        }),
              ENOSYS);
  expect_sigsys(run_under(f, [] { return errno_of(unshare(CLONE_NEWUSER)) + 100; }));
}

TEST(SeccompNamespaces, DefaultDenyPolicyStillForks) {
  // paranoid's shape: clone allowed whole, then narrowed by @namespaces.
  auto f = compiled(policy(act(K::errno_code, EPERM), {{act(K::allow), {"@default"}},
                                                       {act(K::kill_process), {"@namespaces"}}}));
  expect_exit(run_under(f,
                        [] {
                          const pid_t c = fork();
                          if (c == 0) _exit(42);
                          return c > 0 ? wait_for(c).code : 1;
                        }),
              42);
  expect_sigsys(run_under(f, [] {
    return errno_of(syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, nullptr, nullptr, nullptr, 0));
  }));
  // Not in @default: the default action answers.
  expect_exit(run_under(f, [] { return errno_of(syscall(SYS_ptrace, 0, 0, 0, 0)); }), EPERM);
}

TEST(SeccompPersonality, OnlyHarmlessPersonasPass) {
  auto f = compiled(policy(act(K::allow), {{act(K::errno_code, EPERM), {"@personality"}}}));
  expect_exit(run_under(f, [] { return errno_of(personality(0xffffffff)); }), 0);
  expect_exit(run_under(f, [] { return errno_of(personality(PER_LINUX32)); }), 0);
  expect_exit(run_under(f, [] { return errno_of(personality(ADDR_NO_RANDOMIZE)); }), EPERM);
  expect_exit(run_under(f, [] { return errno_of(personality(READ_IMPLIES_EXEC)); }), EPERM);
}

TEST(SeccompPersonality, AllowListPolicyAllowsTheQuery) {
  auto f = compiled(policy(act(K::errno_code, EACCES), {{act(K::allow), {"@default"}},
                                                        {act(K::kill_process), {"@personality"}}}));
  expect_exit(run_under(f, [] { return errno_of(personality(0xffffffff)); }), 0);
  expect_sigsys(run_under(f, [] { return errno_of(personality(ADDR_NO_RANDOMIZE)); }));
}

TEST(SeccompTty, TiocstiIsDeniedEvenWithHighBitsOtherIoctlsWork) {
  auto f = compiled(policy(act(K::allow), {{act(K::errno_code, EPERM), {"@tty_inject"}}}));
  auto body = [](unsigned long cmd) {
    return [cmd] {
      char c = 'x';
      return errno_of(syscall(SYS_ioctl, 0, cmd, &c));
    };
  };
  expect_exit(run_under(f, body(TIOCSTI)), EPERM);
  expect_exit(run_under(f, body(TIOCLINUX)), EPERM);
  // The kernel reads cmd as 32 bits; the filter must too.
  expect_exit(run_under(f, body((1ul << 32) | TIOCSTI)), EPERM);
  expect_exit(run_under(f,
                        [] {
                          int fds[2], n = 0;
                          if (pipe(fds) != 0) return 1;
                          return errno_of(ioctl(fds[0], FIONREAD, &n));
                        }),
              0);
}

TEST(SeccompTty, AllowListKeepsOrdinaryIoctls) {
  auto f = compiled(policy(act(K::kill_process), {{act(K::allow), {"@default"}},
                                                  {act(K::kill_process), {"@tty_inject"}}}));
  expect_exit(run_under(f,
                        [] {
                          int fds[2], n = 0;
                          if (pipe(fds) != 0) return 1;
                          return errno_of(ioctl(fds[0], FIONREAD, &n));
                        }),
              0);
  expect_sigsys(run_under(f, [] {
    char c = 'x';
    return errno_of(ioctl(0, TIOCSTI, &c)) + 100;
  }));
}

TEST(SeccompArch, X32SyscallsAreKilled) {
  auto f = compiled(policy(act(K::allow)));
  expect_exit(run_under(f, [] { return syscall(SYS_getpid) > 0 ? 5 : 1; }), 5);
  expect_sigsys(run_under(f, [] { return static_cast<int>(syscall(0x40000000 | 39) & 0) + 5; }));
}

long int80_getpid() {
  long rc = 20;  // getpid on i386
  asm volatile("int $0x80" : "+a"(rc) : : "memory");
  return rc;
}

TEST(SeccompArch, I386SyscallsAreKilled) {
  // Without IA32 emulation `int $0x80` faults before seccomp sees it.
  const pid_t probe = fork();
  if (probe == 0) {
    signal(SIGSEGV, SIG_DFL);  // not a sanitizer's report-and-abort handler: the fault must show
    _exit(int80_getpid() > 0 ? 0 : 1);
  }
  if (wait_for(probe).sig == SIGSEGV) GTEST_SKIP() << "no IA32 emulation in this kernel";
  auto f = compiled(policy(act(K::allow)));
  expect_sigsys(run_under(f, [] { return int80_getpid() > 0 ? 5 : 6; }));
}

// --- user notification -------------------------------------------------------------------

int send_fd(int sock, int fd) {
  char byte = 'L';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

int recv_fd(int sock) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (recvmsg(sock, &msg, 0) != 1) return -1;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (c == nullptr || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

// Forks a child that loads `f` with a listener, sends the listener over, closes its socket,
// then runs `body`. Returns the child's pid and the listener.
std::pair<pid_t, int> spawn_notified(const CompiledFilter& f, const std::function<void()>& body) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return {-1, -1};
  const pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    const int listener = load(f, SECCOMP_FILTER_FLAG_NEW_LISTENER);
    if (listener < 0 || send_fd(sv[1], listener) != 0) _exit(250);
    close(listener);
    close(sv[1]);
    body();
    _exit(0);
  }
  close(sv[1]);
  const int listener = recv_fd(sv[0]);
  close(sv[0]);
  return {pid, listener};
}

TEST(SeccompNotify, KillBecomesANotificationTheSupervisorCanName) {
  auto f = compiled(policy(act(K::allow), {{act(K::kill_process), {"getppid"}}}), true);
  ASSERT_TRUE(f.notify);
  auto [pid, listener] = spawn_notified(f, [] { syscall(SYS_getppid); });
  ASSERT_GT(pid, 0);
  ASSERT_GE(listener, 0);
  seccomp_notif req{};
  ASSERT_EQ(ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req), 0) << std::strerror(errno);
  EXPECT_EQ(req.data.nr, SYS_getppid);
  EXPECT_EQ(req.data.arch, AUDIT_ARCH_X86_64);
  EXPECT_EQ(syscall_name(req.data.nr, req.data.arch), "getppid");
  EXPECT_EQ(arch_name(req.data.arch, req.data.nr), "x86_64");
  EXPECT_EQ(static_cast<pid_t>(req.pid), pid);
  kill(pid, SIGKILL);
  EXPECT_EQ(wait_for(pid).sig, SIGKILL);
  close(listener);
}

TEST(SeccompNotify, X32UnderNotifyIsReportedAsX32) {
  auto f = compiled(policy(act(K::allow)), true);
  auto [pid, listener] = spawn_notified(f, [] { syscall(0x40000000 | 39); });
  ASSERT_GE(listener, 0);
  seccomp_notif req{};
  ASSERT_EQ(ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req), 0) << std::strerror(errno);
  EXPECT_EQ(arch_name(req.data.arch, req.data.nr), "x32");
  EXPECT_EQ(syscall_name(req.data.nr, req.data.arch), "getpid");
  kill(pid, SIGKILL);
  wait_for(pid);
  close(listener);
}

TEST(SeccompNotify, SelfSyscallsStayPlainKills) {
  // The child closes fds after handing the listener over: a notification there would wait
  // for a supervisor that may not be listening yet.
  auto f = compiled(policy(act(K::allow), {{act(K::kill_process), {"close", "getppid"}}}), true);
  ASSERT_TRUE(f.notify);
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    const int listener = load(f, SECCOMP_FILTER_FLAG_NEW_LISTENER);
    if (listener < 0 || send_fd(sv[1], listener) != 0) _exit(250);
    close(listener);  // killed here, SIGSYS, no notification
    _exit(0);
  }
  close(sv[1]);
  const int listener = recv_fd(sv[0]);
  EXPECT_GE(listener, 0);
  expect_sigsys(wait_for(pid));
  close(listener);
  close(sv[0]);
}

TEST(SeccompNotify, PolicyKillingSendmsgCompilesWithoutNotify) {
  auto f = compiled(policy(act(K::allow), {{act(K::kill_process), {"sendmsg"}}}), true);
  EXPECT_FALSE(f.notify);
  expect_sigsys(run_under(f, [] { return errno_of(sendmsg(-1, nullptr, 0)) + 100; }));
}

TEST(SeccompNotify, KillDefaultIsNotifiedButExitStillWorks) {
  auto f = compiled(policy(act(K::kill_process), {{act(K::allow), {"@default"}}}), true);
  ASSERT_TRUE(f.notify);
  auto [pid, listener] = spawn_notified(f, [] { syscall(SYS_ptrace, 0, 0, 0, 0); });
  ASSERT_GE(listener, 0);
  seccomp_notif req{};
  ASSERT_EQ(ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req), 0) << std::strerror(errno);
  EXPECT_EQ(syscall_name(req.data.nr, req.data.arch), "ptrace");
  kill(pid, SIGKILL);
  wait_for(pid);
  close(listener);
}

// --- groups and expansion ----------------------------------------------------------------

TEST(SeccompGroups, BuiltinGroupsExistAndSkipForeignNames) {
  const auto& g = builtin_groups();
  for (const char* name :
       {"default", "mount",      "pivot_root",  "chroot",      "debug",    "module", "reboot",
        "bpf",     "perf",       "keyring",     "userfaultfd", "swap",     "clock",  "acct",
        "handles", "namespaces", "personality", "tty_inject",  "io_uring", "raw_io", "obsolete"})
    EXPECT_TRUE(g.count(name)) << name;
  auto has = [&](const char* group, const char* s) {
    const auto& l = g.at(group);
    return std::find(l.begin(), l.end(), s) != l.end();
  };
  EXPECT_TRUE(has("mount", "umount2"));
  EXPECT_FALSE(has("mount", "umount"));  // i386 only
  EXPECT_FALSE(has("clock", "stime"));
  EXPECT_TRUE(has("clock", "clock_settime"));
  EXPECT_TRUE(has("namespaces", "clone:newns"));
  EXPECT_TRUE(has("default", "execve"));
  EXPECT_FALSE(has("default", "ptrace"));
}

TEST(SeccompGroups, ExpandsNestedProfileGroups) {
  std::vector<std::string> problems;
  const std::map<std::string, std::vector<std::string>> own = {{"io", {"read", "write"}},
                                                               {"mine", {"@io", "@bpf", "read"}}};
  auto out = expand({"@mine", "getpid"}, own, problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(out, (std::vector<std::string>{"read", "write", "bpf", "getpid"}));
}

TEST(SeccompGroups, ReportsUnknownNamesWithSuggestions) {
  std::vector<std::string> problems;
  expand({"ptraec", "@nosuch", "@mout", "stime", "clone:bogus"}, {}, problems);
  ASSERT_EQ(problems.size(), 5u);
  EXPECT_EQ(problems[0], "'ptraec': unknown syscall (did you mean 'ptrace'?)");
  EXPECT_EQ(problems[1].rfind("'@nosuch': unknown syscall group (known: acct, bpf, ", 0), 0u)
      << problems[1];
  EXPECT_EQ(problems[2], "'@mout': unknown syscall group (did you mean '@mount'?)");
  EXPECT_EQ(problems[3], "'stime': not a syscall on x86_64");
  EXPECT_NE(problems[4].find("unknown syscall variant"), std::string::npos);
}

TEST(SeccompGroups, DetectsCycles) {
  std::vector<std::string> problems;
  const std::map<std::string, std::vector<std::string>> own = {{"a", {"@b"}}, {"b", {"@a"}}};
  expand({"@a"}, own, problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "'@a': group includes itself (a -> b -> a)");
}

TEST(SeccompNames, SyscallAndArchNames) {
  EXPECT_EQ(syscall_name(101, AUDIT_ARCH_X86_64), "ptrace");
  EXPECT_EQ(syscall_name(20, AUDIT_ARCH_I386), "getpid");
  EXPECT_EQ(syscall_name(0x40000000 | 39, AUDIT_ARCH_X86_64), "getpid");
  EXPECT_EQ(syscall_name(9999, AUDIT_ARCH_X86_64), "");
  EXPECT_EQ(syscall_name(1, 0x1234), "");
  EXPECT_EQ(arch_name(AUDIT_ARCH_X86_64, 1), "x86_64");
  EXPECT_EQ(arch_name(AUDIT_ARCH_X86_64, 0x40000001), "x32");
  EXPECT_EQ(arch_name(AUDIT_ARCH_I386, 1), "i386");
  EXPECT_EQ(arch_name(AUDIT_ARCH_AARCH64, 1), "unknown");
}

TEST(SeccompCover, CoversEverythingButTheExcludedValues) {
  const std::vector<std::uint32_t> excluded = {0, 8, 0x20000, 0x20008, 0xffffffff};
  const auto tests = cover_all_but(excluded);
  auto covered = [&](std::uint32_t v) {
    for (const MaskedEq& t : tests)
      if ((v & t.mask) == t.datum) return true;
    return false;
  };
  for (std::uint32_t v : excluded) EXPECT_FALSE(covered(v)) << v;
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const std::uint32_t v = rng() >> (rng() % 32);
    const bool is_excluded = std::find(excluded.begin(), excluded.end(), v) != excluded.end();
    ASSERT_EQ(covered(v), !is_excluded) << v;
  }
  for (std::uint32_t v : {1u, 7u, 9u, 0x20001u, 0x20009u, 0xfffffffeu, 0x80000000u})
    EXPECT_TRUE(covered(v)) << v;
}

}  // namespace
}  // namespace cell::seccomp
