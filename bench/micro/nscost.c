// What namespaces and the mount steps of a sandbox cost on this machine, without strace.
//
//   nscost [ROUNDS] [ROOTFS]      (root; ROOTFS: a directory to bind as the new root)
//
// Part 1, per namespace: a child is cloned with only that flag; it times its own unshare-free
// life (clone -> child running -> exit -> reaped) against a plain fork, and separately how long
// unshare(flag) takes inside an already running child. The net namespace's teardown is
// asynchronous (a kernel worker), so its full price shows in "clone+exit+wait" only in part.
// Also: all seven namespaces in one clone (what cell's clone3 asks for), the same without
// CLONE_NEWNET, and setns(2) into a pre-created network namespace (the pool idea).
// Part 2, in a child with a new user + mount namespace: each mount step of a sandbox root
// (private propagation, bind the root, proc, tmpfs /dev and /tmp, read-only remount, pivot_root,
// detach the old root) and the average of 20 extra read-only bind mounts.
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kMaxRounds = 1000 };

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
  printf("  %-40s median %7.1f us  p90 %7.1f  min %7.1f  max %8.1f\n", what, v[n / 2],
         v[n * 9 / 10], v[0], v[n - 1]);
}

// clone(flags) a child that exits at once; returns the time from clone to reaped.
static double clone_exit_wait(int flags) {
  const double t = now_us();
  const pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) _exit(0);
  if (pid < 0) {
    perror("clone");
    exit(1);
  }
  waitpid(pid, NULL, 0);
  return now_us() - t;
}

// Forks a child that times unshare(flags) and sends the microseconds back.
static double unshare_in_child(int flags) {
  int p[2];
  if (pipe(p)) exit(1);
  const pid_t pid = fork();
  if (pid == 0) {
    const double t = now_us();
    double d = unshare(flags) == 0 ? now_us() - t : -1;
    (void)!write(p[1], &d, sizeof d);
    _exit(0);
  }
  double d = -1;
  (void)!read(p[0], &d, sizeof d);
  waitpid(pid, NULL, 0);
  close(p[0]);
  close(p[1]);
  if (d < 0) {
    fprintf(stderr, "nscost: unshare(%#x) failed\n", flags);
    exit(1);
  }
  return d;
}

// A child that setns()es into `netns_fd` and times it.
static double setns_in_child(int netns_fd) {
  int p[2];
  if (pipe(p)) exit(1);
  const pid_t pid = fork();
  if (pid == 0) {
    const double t = now_us();
    double d = setns(netns_fd, CLONE_NEWNET) == 0 ? now_us() - t : -1;
    (void)!write(p[1], &d, sizeof d);
    _exit(0);
  }
  double d = -1;
  (void)!read(p[0], &d, sizeof d);
  waitpid(pid, NULL, 0);
  close(p[0]);
  close(p[1]);
  return d;
}

struct ns {
  const char* name;
  int flag;
};
static const struct ns kNs[] = {
    {"user", CLONE_NEWUSER},     {"mount", CLONE_NEWNS}, {"pid", CLONE_NEWPID},
    {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS},  {"net", CLONE_NEWNET},
    {"cgroup", CLONE_NEWCGROUP},
};
enum { kNsCount = sizeof kNs / sizeof *kNs };
static const int kAll = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
                        CLONE_NEWNET | CLONE_NEWCGROUP;

static void namespaces(int rounds) {
  static double v[kMaxRounds];
  char label[96];
  printf("namespaces (%d rounds each):\n", rounds);
  for (int i = 0; i < rounds; ++i) v[i] = clone_exit_wait(0);
  report("fork+exit+wait (no namespace)", v, rounds);
  for (int n = 0; n < kNsCount; ++n) {
    for (int i = 0; i < rounds; ++i) v[i] = clone_exit_wait(kNs[n].flag);
    snprintf(label, sizeof label, "clone+exit+wait CLONE_NEW%s", kNs[n].name);
    report(label, v, rounds);
  }
  for (int n = 0; n < kNsCount; ++n) {
    for (int i = 0; i < rounds; ++i) v[i] = unshare_in_child(kNs[n].flag);
    snprintf(label, sizeof label, "unshare(CLONE_NEW%s) syscall", kNs[n].name);
    report(label, v, rounds);
  }
  for (int i = 0; i < rounds; ++i) v[i] = clone_exit_wait(kAll);
  report("clone+exit+wait, all 7", v, rounds);
  for (int i = 0; i < rounds; ++i) v[i] = clone_exit_wait(kAll & ~CLONE_NEWNET);
  report("clone+exit+wait, all but net", v, rounds);
  for (int i = 0; i < rounds; ++i) v[i] = unshare_in_child(kAll);
  report("unshare(all 7) syscall", v, rounds);
  for (int i = 0; i < rounds; ++i) v[i] = unshare_in_child(kAll & ~CLONE_NEWNET);
  report("unshare(all but net) syscall", v, rounds);

  // The pool idea: a network namespace made once, joined by each run.
  const pid_t keeper = fork();
  if (keeper == 0) {
    if (unshare(CLONE_NEWNET)) _exit(1);
    pause();
    _exit(0);
  }
  usleep(20000);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", keeper);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  for (int i = 0; fd >= 0 && i < rounds; ++i) v[i] = setns_in_child(fd);
  if (fd >= 0) report("setns(pre-made netns) syscall", v, rounds);
  close(fd);
  kill(keeper, SIGKILL);
  waitpid(keeper, NULL, 0);
}

enum { kBinds = 20 };
enum Step {
  kPrivate,
  kStage,
  kBindRoot,
  kProc,
  kDevTmpfs,
  kTmpTmpfs,
  kRoRemount,
  kPivot,
  kDetach,
  kBindAvg,
  kSteps
};
static const char* kStepNames[kSteps] = {"mount --make-rprivate /",
                                         "tmpfs staging dir",
                                         "bind the rootfs (rec)",
                                         "mount proc",
                                         "tmpfs /dev",
                                         "tmpfs /tmp",
                                         "remount root read-only",
                                         "pivot_root",
                                         "umount2(old root, MNT_DETACH)",
                                         "one ro bind mount (avg of 20)"};

// In a fresh user+mount (+pid, for proc) namespace: time each step once.
static int write_file(const char* path, const char* s) {
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const int ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
  close(fd);
  return ok ? 0 : -1;
}

// `ready_w`/`go_r`: the parent writes our uid/gid maps between the two (as cell's launcher does).
// The steps run in pid 1 of a new pid namespace (proc needs one owned by our user namespace).
static int mount_steps(const char* rootfs, double* out);

static int mount_steps_child(const char* rootfs, double* out, int ready_w, int go_r) {
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID)) return 1;
  char c = 'u';
  if (write(ready_w, &c, 1) != 1 || read(go_r, &c, 1) != 1) return 1;
  int p[2];
  if (pipe(p)) return 1;
  const pid_t pid = fork();
  if (pid == 0) {
    const int rc = mount_steps(rootfs, out);
    (void)!write(p[1], out, sizeof(double) * kSteps);
    _exit(rc);
  }
  int status = 0;
  (void)!read(p[0], out, sizeof(double) * kSteps);
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int mount_steps(const char* rootfs, double* out) {
  double t = now_us();
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) return 2;
  out[kPrivate] = now_us() - t;
  t = now_us();
  if (mount("stage", "/mnt", "tmpfs", 0, "size=64k")) return 3;
  out[kStage] = now_us() - t;
  mkdir("/mnt/root", 0755);
  t = now_us();
  if (mount(rootfs, "/mnt/root", NULL, MS_BIND | MS_REC, NULL)) return 4;
  out[kBindRoot] = now_us() - t;
  t = now_us();
  if (mount("proc", "/mnt/root/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) return 5;
  out[kProc] = now_us() - t;
  t = now_us();
  if (mount("dev", "/mnt/root/dev", "tmpfs", MS_NOSUID, "size=64k,mode=755")) return 6;
  out[kDevTmpfs] = now_us() - t;
  t = now_us();
  if (mount("tmp", "/mnt/root/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")) return 7;
  out[kTmpTmpfs] = now_us() - t;
  // the extra binds land on directories of the /dev tmpfs
  char dst[64];
  double sum = 0;
  for (int i = 0; i < kBinds; ++i) {
    snprintf(dst, sizeof dst, "/mnt/root/dev/b%d", i);
    mkdir(dst, 0755);
    t = now_us();
    if (mount(rootfs, dst, NULL, MS_BIND, NULL) ||
        mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL))
      return 8;
    sum += now_us() - t;
  }
  out[kBindAvg] = sum / kBinds;
  t = now_us();
  if (mount(NULL, "/mnt/root", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL)) return 9;
  out[kRoRemount] = now_us() - t;
  if (chdir("/mnt/root")) return 10;
  t = now_us();
  if (syscall(SYS_pivot_root, ".", ".")) return 11;
  out[kPivot] = now_us() - t;
  t = now_us();
  if (umount2(".", MNT_DETACH)) return 12;
  out[kDetach] = now_us() - t;
  return 0;
}

static void mount_table(int rounds, const char* rootfs) {
  static double v[kSteps][kMaxRounds];
  printf("mount steps in a new user+mount namespace (%d rounds; root %s):\n", rounds, rootfs);
  for (int i = 0; i < rounds; ++i) {
    int p[2], ready[2], go[2];
    if (pipe(p) || pipe(ready) || pipe(go)) exit(1);
    const pid_t pid = fork();
    if (pid == 0) {
      double out[kSteps] = {0};
      const int rc = mount_steps_child(rootfs, out, ready[1], go[0]);
      if (rc) fprintf(stderr, "nscost: mount step %d failed: %m\n", rc);
      (void)!write(p[1], out, sizeof out);
      _exit(rc);
    }
    char c;
    char path[64], map[32];
    if (read(ready[0], &c, 1) != 1) exit(1);
    snprintf(map, sizeof map, "0 %d 1", (int)geteuid());
    snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
    if (write_file(path, map)) perror(path);
    snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
    if (write_file(path, "deny")) perror(path);
    snprintf(map, sizeof map, "0 %d 1", (int)getegid());
    snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
    if (write_file(path, map)) perror(path);
    if (write(go[1], "g", 1) != 1) exit(1);
    double out[kSteps];
    (void)!read(p[0], out, sizeof out);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    close(p[0]);
    close(p[1]);
    if (status) exit(1);
    for (int s = 0; s < kSteps; ++s) v[s][i] = out[s];
  }
  for (int s = 0; s < kSteps; ++s) report(kStepNames[s], v[s], rounds);
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 200;
  if (rounds < 1 || rounds > kMaxRounds) rounds = 200;
  const char* rootfs = argc > 2 ? argv[2] : "/var/tmp/cell-bench/busybox";
  namespaces(rounds);
  mount_table(rounds, rootfs);
  return 0;
}
