// cg_prog: a small static program the cgroup tests run inside the sandbox (until tests/probe's
// cell-probe covers the same ground). Static, so its own footprint is tiny and exact:
//   touch MIB [HOLD_MS]  map and write exactly MIB MiB of anonymous memory, then hold it
//   spin MS              burn MS ms of CPU (own CPU clock), then exit 0
//   spin-forever         burn CPU until killed
//   spin-kids N MS       N children at once, each burning MS ms of its own CPU; exit 0
//   fork N               start N children that wait; exit 0 if all forks worked, else 3
//   forkbomb             fork forever in every process
//   read FILE            read FILE to the end, print the byte count
//   affinity             print the CPUs this process may run on ("0" or "0,1")
//   sleep MS             sleep, then exit 0
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace {

long arg(char** argv, int i) {
  return std::strtol(argv[i], nullptr, 10);
}

double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000};
  while (::nanosleep(&ts, &ts) != 0) {
  }
}

int touch(long mib, long hold_ms) {
  const std::size_t len = static_cast<std::size_t>(mib) << 20;
  auto* p = static_cast<volatile char*>(
      ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (p == MAP_FAILED) return 2;
  for (std::size_t i = 0; i < len; i += 4096) p[i] = 1;
  std::printf("touched %ld MiB\n", mib);
  std::fflush(stdout);
  sleep_ms(hold_ms);
  return 0;
}

int spin(double seconds) {
  volatile unsigned long x = 0;
  while (cpu_seconds() < seconds)
    for (int i = 0; i < 10000; ++i) x = x + 1;
  return 0;
}

int fork_children(long n) {
  std::vector<pid_t> kids;
  int rc = 0;
  for (long i = 0; i < n; ++i) {
    const pid_t p = ::fork();
    if (p == 0) {
      ::pause();
      ::_exit(0);
    }
    if (p < 0) {
      std::printf("fork %ld failed: %s\n", i + 1, std::strerror(errno));
      rc = 3;
      break;
    }
    kids.push_back(p);
  }
  if (rc == 0) std::printf("forked %ld\n", n);
  for (pid_t k : kids) ::kill(k, SIGKILL);
  for (pid_t k : kids) ::waitpid(k, nullptr, 0);
  return rc;
}

// n processes spinning `ms` of their own CPU time each, at once; the parent waits for them.
int spin_kids(long n, long ms) {
  std::vector<pid_t> kids;
  for (long i = 0; i < n; ++i) {
    const pid_t p = ::fork();
    if (p == 0) ::_exit(spin(static_cast<double>(ms) / 1000));
    if (p > 0) kids.push_back(p);
  }
  int rc = 0;
  for (pid_t k : kids) {
    int st = 0;
    if (::waitpid(k, &st, 0) != k || !WIFEXITED(st) || WEXITSTATUS(st) != 0) rc = 3;
  }
  return rc;
}

int read_file(const char* path) {
  const int fd = ::open(path, O_RDONLY);
  if (fd < 0) return 2;
  static char buf[1 << 20];
  long long total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) return 2;
    if (n == 0) break;
    total += n;
  }
  std::printf("read %lld bytes\n", total);
  return 0;
}

int affinity() {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 2;
  const char* sep = "";
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) {
      std::printf("%s%d", sep, c);
      sep = ",";
    }
  std::printf("\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 64;
  const std::string_view cmd = argv[1];
  if (cmd == "touch" && argc >= 3) return touch(arg(argv, 2), argc >= 4 ? arg(argv, 3) : 0);
  if (cmd == "spin" && argc == 3) return spin(static_cast<double>(arg(argv, 2)) / 1000);
  if (cmd == "spin-forever") return spin(1e12);
  if (cmd == "spin-kids" && argc == 4) return spin_kids(arg(argv, 2), arg(argv, 3));
  if (cmd == "fork" && argc == 3) return fork_children(arg(argv, 2));
  if (cmd == "forkbomb")
    for (;;) ::fork();
  if (cmd == "read" && argc == 3) return read_file(argv[2]);
  if (cmd == "affinity") return affinity();
  if (cmd == "sleep" && argc == 3) {
    sleep_ms(arg(argv, 2));
    return 0;
  }
  return 64;
}
