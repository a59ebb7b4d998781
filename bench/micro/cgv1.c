// The cost of one run's cgroup v1 work, without strace: for each v1 hierarchy cell uses
// (memory, pids, cpuacct, freezer), create a leaf under the cgroup this process is in, write a
// limit, move a freshly forked child in (cgroup.procs), let it exit, remove the leaf.
// Prints the median and min/max of each step over N rounds, per hierarchy, and the attach of
// all hierarchies back to back (what a cell run does), and the freeze/thaw cell's kill_all does
// at the end of a run, in microseconds.
//
//   cgv1 [ROUNDS [GAP_MS [ORDER]]]   (root; leaves are named cell-bench-PID-I, always removed)
//
// ORDER: the hierarchies in attach order, default memory,pids,cpuacct,freezer (cell's order).
//
// GAP_MS (default 0) sleeps between rounds. Writing cgroup.procs takes the kernel's global
// cgroup_threadgroup_rwsem for writing, whose slow path waits for an RCU grace period unless
// another writer passed recently: back-to-back rounds hide that cost, a gap of ~20 ms (one CLI
// run after another) shows it.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kMaxRounds = 2000 };

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static void report(const char* what, double* v, int n) {
  qsort(v, n, sizeof *v, cmp);
  int slow = 0;
  for (int i = 0; i < n; ++i) slow += v[i] > 1000;
  printf("  %-27s median %7.1f us  p90 %7.1f  min %7.1f  max %8.1f  >1ms %3d/%d\n", what, v[n / 2],
         v[n * 9 / 10], v[0], v[n - 1], slow, n);
}

// The directory of our own cgroup in the v1 hierarchy that has `controller`.
static int own_cgroup(const char* controller, char* out, size_t len) {
  FILE* f = fopen("/proc/self/cgroup", "r");
  if (!f) return -1;
  char line[512];
  int found = -1;
  while (fgets(line, sizeof line, f)) {
    char* c1 = strchr(line, ':');
    char* c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    *c2 = 0;
    char* nl = strchr(c2 + 1, '\n');
    if (nl) *nl = 0;
    char ctrls[256];
    snprintf(ctrls, sizeof ctrls, ",%s,", c1 + 1);
    char want[64];
    snprintf(want, sizeof want, ",%s,", controller);
    if (!strstr(ctrls, want)) continue;
    snprintf(out, len, "/sys/fs/cgroup/%s%s", controller, strcmp(c2 + 1, "/") ? c2 + 1 : "");
    found = 0;
  }
  fclose(f);
  return found;
}

static int write_str(const char* path, const char* s) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t r = write(fd, s, strlen(s));
  close(fd);
  return r < 0 ? -1 : 0;
}

// A child that waits for a byte (or EOF) on `gate`, then exits.
static pid_t spawn_waiter(int* gate_w) {
  int p[2];
  if (pipe2(p, O_CLOEXEC)) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(p[1]);
    char c;
    (void)!read(p[0], &c, 1);
    _exit(0);
  }
  close(p[0]);
  *gate_w = p[1];
  return pid;
}

enum { kN = 4 };
static const char* kControllers[kN] = {"memory", "pids", "cpuacct", "freezer"};

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 200;
  if (rounds < 1 || rounds > kMaxRounds) rounds = 200;
  const int gap_ms = argc > 2 ? atoi(argv[2]) : 0;
  if (argc > 3) {
    char* order = strdup(argv[3]);
    for (int c = 0; c < kN; ++c) {
      kControllers[c] = strsep(&order, ",");
      if (!kControllers[c]) {
        fprintf(stderr, "cgv1: ORDER names %d hierarchies\n", kN);
        return 2;
      }
    }
  }
  static double mk[kN][kMaxRounds], lim[kN][kMaxRounds], att[kN][kMaxRounds], rm[kN][kMaxRounds];
  static double all_attach[kMaxRounds], fork_wait[kMaxRounds], freeze[kMaxRounds];
  char base[kN][900];
  for (int c = 0; c < kN; ++c)
    if (own_cgroup(kControllers[c], base[c], sizeof base[c])) {
      fprintf(stderr, "cgv1: no v1 %s hierarchy in /proc/self/cgroup\n", kControllers[c]);
      return 1;
    }
  printf("cgv1: %d rounds, %d ms apart; parents:", rounds, gap_ms);
  for (int c = 0; c < kN; ++c) printf(" %s", base[c]);
  printf("\n");

  for (int i = 0; i < rounds; ++i) {
    if (gap_ms > 0) usleep(gap_ms * 1000);
    char dir[kN][1024], file[1100], pidbuf[32];
    int gate;
    // baseline: fork a waiter, release it, reap it
    double t = now_us();
    pid_t pid = spawn_waiter(&gate);
    close(gate);
    waitpid(pid, NULL, 0);
    fork_wait[i] = now_us() - t;

    pid = spawn_waiter(&gate);
    snprintf(pidbuf, sizeof pidbuf, "%d", pid);
    double all0 = 0;
    for (int c = 0; c < kN; ++c) {
      snprintf(dir[c], sizeof dir[c], "%.900s/cell-bench-%d-%d", base[c], getpid(), i);
      t = now_us();
      if (mkdir(dir[c], 0755)) {
        perror(dir[c]);
        return 1;
      }
      mk[c][i] = now_us() - t;
      const int is_mem = !strcmp(kControllers[c], "memory");
      const char* knob = is_mem                             ? "memory.limit_in_bytes"
                         : !strcmp(kControllers[c], "pids") ? "pids.max"
                                                            : NULL;
      const char* val = is_mem ? "268435456" : "65";
      t = now_us();
      if (knob) {
        snprintf(file, sizeof file, "%.1000s/%s", dir[c], knob);
        if (write_str(file, val)) {
          perror(file);
          return 1;
        }
      }
      lim[c][i] = now_us() - t;
    }
    all0 = now_us();
    for (int c = 0; c < kN; ++c) {
      snprintf(file, sizeof file, "%.1000s/cgroup.procs", dir[c]);
      t = now_us();
      if (write_str(file, pidbuf)) {
        perror(file);
        return 1;
      }
      att[c][i] = now_us() - t;
    }
    all_attach[i] = now_us() - all0;
    close(gate);
    waitpid(pid, NULL, 0);
    // what cell's V1Leaf::kill_all does at the end of a run: freeze the (now empty) freezer
    // leaf, read back the state, thaw it
    freeze[i] = 0;
    for (int c = 0; c < kN; ++c) {
      if (strcmp(kControllers[c], "freezer")) continue;
      char st[32] = "";
      snprintf(file, sizeof file, "%.1000s/freezer.state", dir[c]);
      t = now_us();
      if (write_str(file, "FROZEN")) {
        perror(file);
        return 1;
      }
      int fd = open(file, O_RDONLY | O_CLOEXEC);
      if (fd < 0 || read(fd, st, sizeof st - 1) < 0) {
        perror(file);
        return 1;
      }
      close(fd);
      if (write_str(file, "THAWED")) {
        perror(file);
        return 1;
      }
      freeze[i] = now_us() - t;
    }
    for (int c = 0; c < kN; ++c) {
      t = now_us();
      while (rmdir(dir[c]) && errno == EBUSY) usleep(100);  // the zombie leaves asynchronously
      rm[c][i] = now_us() - t;
    }
  }
  report("fork+exit+wait (baseline)", fork_wait, rounds);
  report("attach, all 4 hierarchies", all_attach, rounds);
  report("freeze+read+thaw, empty leaf", freeze, rounds);
  for (int c = 0; c < kN; ++c) {
    printf(" %s:\n", kControllers[c]);
    report("mkdir", mk[c], rounds);
    report("write limit", lim[c], rounds);
    report("write cgroup.procs", att[c], rounds);
    report("rmdir", rm[c], rounds);
  }
  return 0;
}
