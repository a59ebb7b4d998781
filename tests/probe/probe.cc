// cell-probe: a static binary that looks at the sandbox from inside and prints what it sees.
//
//   cell-probe COMMAND [ARGS...] [COMMAND [ARGS...]]...
//
// Commands run in order, so one sandbox run can check several things. Output is one
// `key=value` line per fact (keys may repeat); errors are errno names (EROFS, ENOENT, ...).
// A failing check never changes the exit code: the tests read the facts and decide. Only
// exit/abort/raise/spin/... end the process the way their name says. No NSS, no heap-heavy
// libraries: the probe must run in an empty rootfs, under the strictest profile.
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "probe.hpp"
#include "syscalls.hpp"

extern char** environ;

namespace cell_probe {

void out(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vprintf(fmt, ap);
  va_end(ap);
  std::fputc('\n', stdout);
  std::fflush(stdout);  // the next command may end the process
}

const char* err_name(int e) {
  const char* n = strerrorname_np(e);
  return n != nullptr ? n : "E?";
}

int signal_number(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos)
    return std::atoi(s.c_str());
  const std::string name = s.rfind("SIG", 0) == 0 ? s.substr(3) : s;
  for (int sig = 1; sig < NSIG; ++sig)
    if (const char* abbrev = sigabbrev_np(sig); abbrev != nullptr && name == abbrev) return sig;
  return SIGTERM;
}

}  // namespace cell_probe

namespace {

using cell_probe::Args;
using cell_probe::Command;
using cell_probe::err_name;
using cell_probe::out;

std::string read_file(const std::string& path, bool* ok = nullptr) {
  std::string s;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ok != nullptr) *ok = fd >= 0;
  if (fd < 0) return s;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return s;
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    v.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return v;
}

// Collapses runs of blanks to one space and trims: "  0   1000   1" -> "0 1000 1".
std::string squeeze(const std::string& s) {
  std::string r;
  for (char c : s) {
    const bool blank = c == ' ' || c == '\t';
    if (blank && (r.empty() || r.back() == ' ')) continue;
    r += blank ? ' ' : c;
  }
  while (!r.empty() && r.back() == ' ') r.pop_back();
  return r;
}

long long number(const std::string& s) {
  return std::strtoll(s.c_str(), nullptr, 0);
}

std::vector<std::string> list_dir(const std::string& path, int* err) {
  std::vector<std::string> names;
  DIR* d = ::opendir(path.c_str());
  *err = d == nullptr ? errno : 0;
  if (d == nullptr) return names;
  while (const dirent* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
      names.emplace_back(e->d_name);
  ::closedir(d);
  return names;
}

bool is_number(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// --- identity and privilege -------------------------------------------------------------

void cmd_ids(const Args&) {
  uid_t r, e, s;
  gid_t gr, ge, gs;
  ::getresuid(&r, &e, &s);
  ::getresgid(&gr, &ge, &gs);
  out("uid=%u\neuid=%u\nsuid=%u\ngid=%u\negid=%u\nsgid=%u", r, e, s, gr, ge, gs);
  gid_t groups[256];
  const int n = ::getgroups(256, groups);
  std::string g;
  for (int i = 0; i < n; ++i) g += (i ? "," : "") + std::to_string(groups[i]);
  out("groups=%s", g.c_str());
  for (const char* map : {"uid_map", "gid_map"})
    for (const std::string& l : lines(read_file(std::string("/proc/self/") + map)))
      out("%s=%s", map, squeeze(l).c_str());
  out("setgroups=%s", squeeze(lines(read_file("/proc/self/setgroups")).front()).c_str());
}

// Capabilities, no_new_privs, seccomp mode and signal dispositions, from /proc/self/status.
void cmd_status(const Args&) {
  static const char* const kKeys[] = {"CapInh",     "CapPrm",  "CapEff", "CapBnd", "CapAmb",
                                      "NoNewPrivs", "Seccomp", "SigIgn", "SigBlk", "NSpid"};
  for (const std::string& l : lines(read_file("/proc/self/status"))) {
    const size_t colon = l.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = l.substr(0, colon);
    for (const char* k : kKeys)
      if (key == k) out("%s=%s", k, squeeze(l.substr(colon + 1)).c_str());
  }
}

void cmd_rlimits(const Args&) {
  static const struct {
    const char* name;
    int resource;
  } kLimits[] = {{"core", RLIMIT_CORE},   {"fsize", RLIMIT_FSIZE}, {"nofile", RLIMIT_NOFILE},
                 {"stack", RLIMIT_STACK}, {"cpu", RLIMIT_CPU},     {"as", RLIMIT_AS},
                 {"nproc", RLIMIT_NPROC}};
  auto text = [](rlim_t v) {
    return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v);
  };
  for (const auto& l : kLimits) {
    rlimit r{};
    ::getrlimit(static_cast<__rlimit_resource>(l.resource), &r);
    out("rlimit_%s=%s:%s", l.name, text(r.rlim_cur).c_str(), text(r.rlim_max).c_str());
  }
}

// --- the world around -------------------------------------------------------------------

void cmd_pids(const Args&) {
  int err;
  int count = 0;
  for (const std::string& n : list_dir("/proc", &err))
    if (is_number(n)) {
      out("pid=%s", n.c_str());
      ++count;
    }
  out("pids=%d", count);
}

void cmd_zombies(const Args&) {
  int err, count = 0;
  for (const std::string& n : list_dir("/proc", &err)) {
    if (!is_number(n)) continue;
    const std::string st = read_file("/proc/" + n + "/stat");
    const size_t paren = st.rfind(')');
    if (paren != std::string::npos && paren + 2 < st.size() && st[paren + 2] == 'Z') ++count;
  }
  out("zombies=%d", count);
}

void cmd_hostname(const Args&) {
  utsname u{};
  ::uname(&u);
  out("hostname=%s\ndomainname=%s", u.nodename, u.domainname);
}

// Every interface of the network namespace (/proc/net/dev) and whether it is up.
void cmd_netifs(const Args&) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int count = 0;
  for (const std::string& l : lines(read_file("/proc/net/dev"))) {
    const size_t colon = l.find(':');
    if (colon == std::string::npos) continue;
    const std::string name = squeeze(l.substr(0, colon));
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name.c_str());
    const bool up = s >= 0 && ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
    out("if=%s up=%d", name.c_str(), up ? 1 : 0);
    ++count;
  }
  out("netifs=%d", count);
  if (s >= 0) ::close(s);
}

void cmd_mounts(const Args&) {
  // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
  for (const std::string& l : lines(read_file("/proc/self/mountinfo"))) {
    std::vector<std::string> f;
    size_t start = 0;
    while (start <= l.size()) {
      size_t end = l.find(' ', start);
      if (end == std::string::npos) end = l.size();
      f.push_back(l.substr(start, end - start));
      start = end + 1;
    }
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 6 || dash + 1 >= f.size()) continue;
    const std::string mode = f[5].substr(0, 2);
    out("mount=%s %s %s", f[4].c_str(), f[dash + 1].c_str(), mode.c_str());
  }
}

void cmd_fds(const Args&) {
  const int dfd = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return out("fds=%s", err_name(errno));
  DIR* d = ::fdopendir(dfd);
  int count = 0;
  while (const dirent* e = ::readdir(d)) {
    if (!is_number(e->d_name) || std::atoi(e->d_name) == dfd) continue;
    char target[4096] = {};
    const ssize_t n = ::readlinkat(dfd, e->d_name, target, sizeof target - 1);
    out("fd=%s %s", e->d_name, n >= 0 ? target : "?");
    ++count;
  }
  ::closedir(d);
  out("fds=%d", count);
}

void cmd_env(const Args&) {
  for (char** e = environ; *e != nullptr; ++e) out("env=%s", *e);
}

void cmd_cwd(const Args&) {
  char buf[4096];
  out("cwd=%s", ::getcwd(buf, sizeof buf) != nullptr ? buf : err_name(errno));
}

// --- files ------------------------------------------------------------------------------

void cmd_write(const Args& a) {
  const int fd = ::open(a[0].c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return out("write=%s", err_name(errno));
  const bool ok = ::write(fd, "x", 1) == 1;
  const int err = errno;
  ::close(fd);
  out("write=%s", ok ? "ok" : err_name(err));
}

void cmd_open(const Args& a) {
  const int fd = ::open(a[0].c_str(), O_RDONLY | O_CLOEXEC);
  out("open=%s", fd >= 0 ? "ok" : err_name(errno));
  if (fd >= 0) ::close(fd);
}

void cmd_read(const Args& a) {
  bool ok = false;
  const std::string s = read_file(a[0], &ok);
  if (!ok) return out("read=%s", err_name(errno));
  out("read=ok\nbytes=%zu", s.size());
}

void cmd_cat(const Args& a) {
  const std::string s = read_file(a[0]);
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

void cmd_mkdir(const Args& a) {
  out("mkdir=%s", ::mkdir(a[0].c_str(), 0755) == 0 ? "ok" : err_name(errno));
}

void cmd_ls(const Args& a) {
  int err;
  const std::vector<std::string> names = list_dir(a[0], &err);
  if (err != 0) return out("ls=%s", err_name(err));
  for (const std::string& n : names) out("entry=%s", n.c_str());
  out("ls=ok");
}

// Writes BYTES to PATH in 64 KiB blocks, stopping at the first error.
void cmd_fill(const Args& a) {
  const long long want = number(a[1]);
  const int fd = ::open(a[0].c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return out("fill=%s", err_name(errno));
  static char block[65536];
  std::memset(block, 'f', sizeof block);
  long long done = 0;
  int err = 0;
  while (done < want) {
    const size_t len = static_cast<size_t>(std::min<long long>(sizeof block, want - done));
    const ssize_t n = ::write(fd, block, len);
    if (n <= 0) {
      err = n < 0 ? errno : ENOSPC;
      break;
    }
    done += n;
  }
  ::close(fd);
  out("written=%lld\nfill=%s", done, err ? err_name(err) : "ok");
}

// --- processes and ends -----------------------------------------------------------------

void cmd_print(const Args& a) {
  static char block[65536];
  std::memset(block, 'o', sizeof block);
  long long left = number(a[0]);
  std::fflush(stdout);
  while (left > 0) {
    const ssize_t n =
        ::write(1, block, static_cast<size_t>(std::min<long long>(left, sizeof block)));
    if (n <= 0) break;
    left -= n;
  }
}

// Maps BYTES of anonymous memory and touches every page: "memhog=ok" or the errno.
void cmd_memhog(const Args& a) {
  const auto bytes = static_cast<size_t>(number(a[0]));
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return out("memhog=%s", err_name(errno));
  for (size_t i = 0; i < bytes; i += 4096) static_cast<volatile char*>(p)[i] = 1;
  ::munmap(p, bytes);
  out("memhog=ok");
}

void cmd_echo(const Args& a) {
  out("%s", a[0].c_str());
}

void cmd_eprint(const Args& a) {
  std::fprintf(stderr, "%s\n", a[0].c_str());
  std::fflush(stderr);
}

double seconds_of(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void cmd_spin(const Args& a) {
  const double until = seconds_of(CLOCK_PROCESS_CPUTIME_ID) + std::strtod(a[0].c_str(), nullptr);
  volatile unsigned long sink = 0;
  while (seconds_of(CLOCK_PROCESS_CPUTIME_ID) < until)
    for (int i = 0; i < 100000; ++i) sink = sink + static_cast<unsigned long>(i);
  out("spun=%s", a[0].c_str());
}

[[noreturn]] void cmd_spin_forever(const Args&) {
  volatile unsigned long sink = 0;
  for (;;) sink = sink + 1;
}

void cmd_sleep(const Args& a) {
  const double s = std::strtod(a[0].c_str(), nullptr);
  timespec ts{static_cast<time_t>(s),
              static_cast<long>((s - static_cast<double>(static_cast<time_t>(s))) * 1e9)};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  out("slept=%s", a[0].c_str());
}

[[noreturn]] void cmd_exit(const Args& a) {
  std::_Exit(static_cast<int>(number(a[0])));
}
[[noreturn]] void cmd_abort(const Args&) {
  std::abort();
}

void cmd_raise(const Args& a) {
  const int sig = cell_probe::signal_number(a[0]);
  ::signal(sig, SIG_DFL);
  ::kill(::getpid(), sig);
  out("raise=survived");
}

// Leaves a grandchild to pid 1, waits for it to exit, then says whether anyone reaped it.
void cmd_fork_orphan(const Args&) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return out("orphan=%s", err_name(errno));
  const pid_t child = ::fork();
  if (child == 0) {
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
      timespec ts{0, 200 * 1000 * 1000};
      ::nanosleep(&ts, nullptr);  // outlive our parent, then exit: an orphan to reap
      ::_exit(0);
    }
    (void)!::write(p[1], &grandchild, sizeof grandchild);
    ::_exit(0);
  }
  ::close(p[1]);
  ::waitpid(child, nullptr, 0);
  pid_t orphan = -1;
  (void)!::read(p[0], &orphan, sizeof orphan);
  char byte;
  while (::read(p[0], &byte, 1) > 0) {  // EOF: the grandchild (holding p[1]) has exited
  }
  ::close(p[0]);
  out("orphan=%d", orphan);
  const std::string stat = "/proc/" + std::to_string(orphan) + "/stat";
  for (int i = 0; i < 500; ++i) {  // up to 5 s for pid 1 to reap it
    if (::access(stat.c_str(), F_OK) != 0) return out("orphan_reaped=1");
    timespec ts{0, 10 * 1000 * 1000};
    ::nanosleep(&ts, nullptr);
  }
  out("orphan_reaped=0");
}

[[noreturn]] void cmd_exec(const Args& a) {
  std::vector<char*> argv;
  for (const std::string& s : a) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  ::execve(argv[0], argv.data(), environ);
  out("exec=%s", err_name(errno));
  std::_Exit(127);
}

// --- syscalls the profiles deny ---------------------------------------------------------

void cmd_syscall(const Args& a) {
  errno = 0;
  const long r = cell_probe::try_syscall(a[0]);
  if (r == -2) return out("syscall=%s unknown", a[0].c_str());
  out("syscall=%s ret=%ld errno=%s", a[0].c_str(), r, r < 0 ? err_name(errno) : "0");
}

// --- dispatch ---------------------------------------------------------------------------

const Command kCommands[] = {
    {"ids", 0, cmd_ids, "uid/gid/groups and the uid_map/gid_map lines"},
    {"status", 0, cmd_status, "Cap*, NoNewPrivs, Seccomp, SigIgn, SigBlk, NSpid"},
    {"rlimits", 0, cmd_rlimits, "core, fsize, nofile, stack, cpu, as, nproc (soft:hard)"},
    {"pids", 0, cmd_pids, "the pids /proc shows"},
    {"zombies", 0, cmd_zombies, "how many processes are zombies"},
    {"hostname", 0, cmd_hostname, "nodename and domainname"},
    {"netifs", 0, cmd_netifs, "network interfaces and whether each is up"},
    {"mounts", 0, cmd_mounts, "mount points: path fstype ro|rw"},
    {"fds", 0, cmd_fds, "open file descriptors and what they point to"},
    {"env", 0, cmd_env, "the environment"},
    {"cwd", 0, cmd_cwd, "the working directory"},
    {"write", 1, cmd_write, "PATH: create/truncate and write one byte"},
    {"open", 1, cmd_open, "PATH: open read-only"},
    {"read", 1, cmd_read, "PATH: read it all, print the size"},
    {"cat", 1, cmd_cat, "PATH: copy to stdout"},
    {"mkdir", 1, cmd_mkdir, "PATH"},
    {"ls", 1, cmd_ls, "PATH: directory entries"},
    {"fill", 2, cmd_fill, "PATH BYTES: write until done or an error"},
    {"print", 1, cmd_print, "N: write N bytes to stdout"},
    {"memhog", 1, cmd_memhog, "BYTES: map and touch that much memory"},
    {"echo", 1, cmd_echo, "TEXT: one line on stdout"},
    {"eprint", 1, cmd_eprint, "TEXT: one line on stderr"},
    {"spin", 1, cmd_spin, "SECONDS of CPU time"},
    {"spin-forever", 0, cmd_spin_forever, "burn CPU until killed"},
    {"sleep", 1, cmd_sleep, "SECONDS"},
    {"exit", 1, cmd_exit, "N"},
    {"abort", 0, cmd_abort, "call abort()"},
    {"raise", 1, cmd_raise, "SIG (number or name): signal ourselves"},
    {"fork-orphan", 0, cmd_fork_orphan, "leave a grandchild to pid 1; was it reaped?"},
    {"syscall", 1, cmd_syscall, "NAME: try a syscall the profiles deny, raw"},
    {"exec", -1, cmd_exec, "PATH [ARGS...]: execve"},
};

// The command tables: this file's, the escape attempts', owners and privileges.
struct Table {
  const Command* commands;
  std::size_t count;
};
const Table kTables[] = {
    {kCommands, sizeof kCommands / sizeof kCommands[0]},
    {cell_probe::kEscapeCommands, cell_probe::kEscapeCommandCount},
    {cell_probe::kKernelCommands, cell_probe::kKernelCommandCount},
    {cell_probe::kPrivCommands, cell_probe::kPrivCommandCount},
};

const Command* find_command(const char* name) {
  for (const Table& t : kTables)
    for (std::size_t i = 0; i < t.count; ++i)
      if (std::strcmp(name, t.commands[i].name) == 0) return &t.commands[i];
  return nullptr;
}

int usage() {
  std::fprintf(stderr, "usage: cell-probe COMMAND [ARGS...] [COMMAND [ARGS...]]...\n");
  for (const Table& t : kTables)
    for (std::size_t i = 0; i < t.count; ++i)
      std::fprintf(stderr, "  %-15s %s\n", t.commands[i].name, t.commands[i].help);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  for (int i = 1; i < argc;) {
    const Command* cmd = find_command(argv[i]);
    if (cmd == nullptr) {
      std::fprintf(stderr, "cell-probe: unknown command '%s'\n", argv[i]);
      return usage();
    }
    const int available = argc - i - 1;
    const int nargs = cmd->nargs < 0 ? available : cmd->nargs;
    if (nargs > available) {
      std::fprintf(stderr, "cell-probe: %s needs %d argument(s)\n", cmd->name, nargs);
      return 2;
    }
    const Args args(argv + i + 1, argv + i + 1 + nargs);
    cmd->run(args);
    i += 1 + nargs;
  }
  return 0;
}
