// Built-in syscall groups and "@group" expansion.
#include <seccomp.h>

#include <algorithm>
#include <set>
#include <string_view>

#include "base/strings.hpp"
#include "config/suggest.hpp"
#include "seccomp/internal.hpp"
#include "seccomp/seccomp.hpp"

namespace cell::seccomp {
namespace {

using Names = std::vector<std::string_view>;

struct GroupDef {
  std::string_view name;
  Names syscalls;
};

// What ordinary programs need: shells, coreutils, python3, gcc/g++, static and dynamic
// binaries, threads, pipes, sockets. Paranoid allows only these. Left out on purpose: every
// other built-in group's members, ptrace-like and admin calls, NUMA placement, fanotify,
// hostname changes, and syscalls newer than this libseccomp (they take the default action).
// Sockets stay in: the network namespace, not the filter, decides what they can reach.
// clone, clone3, personality and ioctl are here whole; the deny groups narrow them.
constexpr std::string_view kDefault[] = {
    // processes and threads
    "arch_prctl", "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "clone",
    "clone3", "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
    "getpid", "getppid", "gettid", "getpgid", "getpgrp", "setpgid", "getsid", "setsid", "kill",
    "tkill", "tgkill", "pidfd_open", "pidfd_send_signal", "prctl", "personality", "futex",
    "futex_waitv", "futex_wake", "futex_wait", "futex_requeue", "membarrier", "restart_syscall",
    "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_setparam",
    "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max", "sched_get_priority_min",
    "sched_rr_get_interval", "sched_getattr", "sched_setattr", "getpriority", "setpriority",
    "ioprio_get", "ioprio_set", "getcpu", "seccomp", "landlock_create_ruleset", "landlock_add_rule",
    "landlock_restrict_self", "get_mempolicy", "map_shadow_stack",
    // signals
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait",
    "rt_sigqueueinfo", "rt_tgsigqueueinfo", "rt_sigsuspend", "sigaltstack", "pause", "alarm",
    "signalfd", "signalfd4",
    // identity and limits
    "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "setuid",
    "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid",
    "capget", "capset", "getrlimit", "setrlimit", "prlimit64", "getrusage", "times", "umask",
    "uname", "sysinfo", "getrandom",
    // memory
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "process_madvise", "msync", "mincore",
    "mlock", "mlock2", "munlock", "mlockall", "munlockall", "memfd_create", "memfd_secret",
    "pkey_alloc", "pkey_free", "pkey_mprotect", "remap_file_pages",
    // files and descriptors
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
    "pwritev2", "open", "openat", "openat2", "creat", "close", "close_range", "lseek", "dup",
    "dup2", "dup3", "fcntl", "flock", "ioctl", "stat", "fstat", "lstat", "newfstatat", "statx",
    "statfs", "fstatfs", "access", "faccessat", "faccessat2", "getdents", "getdents64", "getcwd",
    "chdir", "fchdir", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "link",
    "linkat", "unlink", "unlinkat", "symlink", "symlinkat", "readlink", "readlinkat", "chmod",
    "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat", "truncate",
    "ftruncate", "fallocate", "fadvise64", "readahead", "fsync", "fdatasync", "sync", "syncfs",
    "sync_file_range", "utime", "utimes", "utimensat", "futimesat", "mknod", "mknodat", "sendfile",
    "splice", "tee", "vmsplice", "copy_file_range", "cachestat", "getxattr", "lgetxattr",
    "fgetxattr", "listxattr", "llistxattr", "flistxattr", "setxattr", "lsetxattr", "fsetxattr",
    "removexattr", "lremovexattr", "fremovexattr", "inotify_init", "inotify_init1",
    "inotify_add_watch", "inotify_rm_watch",
    // pipes, polling, timers, events
    "pipe", "pipe2", "select", "pselect6", "poll", "ppoll", "epoll_create", "epoll_create1",
    "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2",
    "timerfd_create", "timerfd_settime", "timerfd_gettime", "timer_create", "timer_settime",
    "timer_gettime", "timer_getoverrun", "timer_delete", "getitimer", "setitimer", "clock_gettime",
    "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
    // asynchronous I/O (the old interface; io_uring is its own group)
    "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
    // System V and POSIX IPC (private to the sandbox's IPC namespace)
    "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl", "msgget",
    "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive",
    "mq_notify", "mq_getsetattr",
    // sockets
    "socket", "socketpair", "connect", "accept", "accept4", "bind", "listen", "getsockname",
    "getpeername", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown",
    "setsockopt", "getsockopt"};

// Names marked "i386" exist only there; build_groups() drops them on x86_64.
constexpr std::string_view kObsolete[] = {
    "uselib", "_sysctl", "ustat", "sysfs", "nfsservctl", "create_module", "get_kernel_syms",
    "query_module", "afs_syscall", "getpmsg", "putpmsg", "security", "tuxcall", "vserver",
    "lookup_dcookie", "epoll_ctl_old", "epoll_wait_old",
    // i386
    "bdflush", "vm86", "vm86old", "break", "ftime", "gtty", "stty", "lock", "mpx", "prof", "profil",
    "ulimit", "idle"};

// Built once, by builtin_groups().
std::vector<GroupDef> group_defs() {
  return {
      {"default", Names(std::begin(kDefault), std::end(kDefault))},
      {"mount",
       {"mount", "umount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
        "open_tree", "mount_setattr"}},
      {"pivot_root", {"pivot_root"}},
      {"chroot", {"chroot"}},
      {"debug", {"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd"}},
      {"module", {"init_module", "finit_module", "delete_module"}},
      {"reboot", {"reboot", "kexec_load", "kexec_file_load"}},
      {"bpf", {"bpf"}},
      {"perf", {"perf_event_open"}},
      {"keyring", {"keyctl", "add_key", "request_key"}},
      {"userfaultfd", {"userfaultfd"}},
      {"swap", {"swapon", "swapoff"}},
      {"clock", {"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "stime"}},
      {"acct", {"acct"}},
      {"handles", {"open_by_handle_at", "name_to_handle_at"}},
      {"namespaces", {"unshare", "setns", "clone:newns", "clone3:enosys"}},
      {"personality", {"personality:change"}},
      {"tty_inject", {"ioctl:tiocsti"}},
      {"io_uring", {"io_uring_setup", "io_uring_enter", "io_uring_register"}},
      {"raw_io", {"iopl", "ioperm", "pciconfig_read", "pciconfig_write", "pciconfig_iobase"}},
      {"obsolete", Names(std::begin(kObsolete), std::end(kObsolete))},
      // i386 segment tricks; 64-bit programs (Wine and old JITs aside) never need them.
      {"ldt", {"modify_ldt", "set_thread_area", "get_thread_area"}},
      {"quota", {"quotactl", "quotactl_fd"}},
      {"syslog", {"syslog"}},
      {"fanotify", {"fanotify_init", "fanotify_mark"}},
      {"hostname", {"sethostname", "setdomainname"}},
      {"numa",
       {"mbind", "set_mempolicy", "set_mempolicy_home_node", "migrate_pages", "move_pages"}},
      {"vhangup", {"vhangup"}},
  };
}

// Built-in groups keep only what exists here: the same table serves kernels and libseccomp
// versions that lack some of the names.
bool keep_in_builtin(std::string_view name) {
  return find_variant(name) != nullptr || native_syscall_nr(name) >= 0;
}

std::map<std::string, std::vector<std::string>> build_groups() {
  std::map<std::string, std::vector<std::string>> out;
  for (const GroupDef& g : group_defs()) {
    std::vector<std::string>& list = out[std::string(g.name)];
    for (std::string_view s : g.syscalls)
      if (keep_in_builtin(s)) list.emplace_back(s);
  }
  return out;
}

std::vector<std::string> group_names(const std::map<std::string, std::vector<std::string>>& own) {
  std::vector<std::string> names;
  for (const auto& [name, list] : builtin_groups()) names.push_back(name);
  for (const auto& [name, list] : own)
    if (!builtin_groups().count(name)) names.push_back(name);
  return names;
}

// Depth-first expansion; `stack` holds the groups being expanded, to catch cycles.
class Expander {
 public:
  Expander(const std::map<std::string, std::vector<std::string>>& own,
           std::vector<std::string>& problems)
      : own_(own), problems_(problems) {}

  void name(const std::string& n) {
    if (!n.empty() && n[0] == '@')
      group(n);
    else
      syscall(n);
  }

  std::vector<std::string> take() { return std::move(out_); }

 private:
  void syscall(const std::string& n) {
    if (native_syscall_nr(n) >= 0 || find_variant(n) != nullptr) {
      add(n);
      return;
    }
    problems_.push_back("'" + n + "': " + why_not_syscall(n));
  }

  static std::string why_not_syscall(const std::string& n) {
    if (n.find(':') != std::string::npos) {
      std::vector<std::string> tokens;
      for (const Variant& v : variants()) tokens.emplace_back(v.token);
      return "unknown syscall variant (known: " + join(tokens, ", ") + ")";
    }
    // libseccomp knows some names only for other ABIs (i386's "stime"): negative pseudo numbers.
    if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, n.c_str()) != __NR_SCMP_ERROR)
      return "not a syscall on x86_64";
    return "unknown syscall" + config::did_you_mean(n, native_syscall_names());
  }

  void group(const std::string& n) {
    const std::string g = n.substr(1);
    if (std::find(stack_.begin(), stack_.end(), g) != stack_.end()) {
      problems_.push_back("'" + n + "': group includes itself (" + join(stack_, " -> ") + " -> " +
                          g + ")");
      return;
    }
    const std::vector<std::string>* members = lookup(g);
    if (members == nullptr) {
      const std::vector<std::string> known = group_names(own_);
      const std::string close = config::closest_match(g, known);
      problems_.push_back(
          "'" + n + "': unknown syscall group (" +
          (close.empty() ? "known: " + join(known, ", ") : "did you mean '@" + close + "'?") + ")");
      return;
    }
    stack_.push_back(g);
    for (const std::string& m : *members) name(m);
    stack_.pop_back();
  }

  const std::vector<std::string>* lookup(const std::string& g) const {
    // The policy's own groups may not redefine built-in ones (the profile reader says so), so
    // built-ins are found first.
    if (auto it = builtin_groups().find(g); it != builtin_groups().end()) return &it->second;
    if (auto it = own_.find(g); it != own_.end()) return &it->second;
    return nullptr;
  }

  void add(const std::string& s) {
    if (seen_.insert(s).second) out_.push_back(s);
  }

  const std::map<std::string, std::vector<std::string>>& own_;
  std::vector<std::string>& problems_;
  std::vector<std::string> stack_;
  std::vector<std::string> out_;
  std::set<std::string> seen_;
};

}  // namespace

const std::map<std::string, std::vector<std::string>>& builtin_groups() {
  static const std::map<std::string, std::vector<std::string>> kBuiltin = build_groups();
  return kBuiltin;
}

std::vector<std::string> expand(const std::vector<std::string>& names,
                                const std::map<std::string, std::vector<std::string>>& groups,
                                std::vector<std::string>& problems) {
  Expander e(groups, problems);
  for (const std::string& n : names) e.name(n);
  return e.take();
}

}  // namespace cell::seccomp
