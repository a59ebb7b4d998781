// make_verdict: which status wins when several apply (SPEC's order, and "if cell killed the
// program, the limit that caused the kill is the status"), limits_hit, and the program's CPU
// time with cell's own share (pid 1's setup) left out.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <algorithm>

#include "launch/verdict.hpp"

namespace cell::launch {
namespace {

constexpr std::uint64_t kMs = 1000000;

child::ReaperRecord exited(int code) {
  child::ReaperRecord r;
  r.wait_status = code << 8;  // as wait4 reports a normal exit
  return r;
}

child::ReaperRecord signalled(int sig) {
  child::ReaperRecord r;
  r.wait_status = sig;
  return r;
}

struct Case {
  Outcome o;
  VerdictInputs in;
  Case() {
    o.exec_seen = true;
    o.exec_ns = 10;
    o.end_ns = 20;
    in.outcome = &o;
  }
  RunResult verdict() { return make_verdict(in); }
  cgroup::Usage& cg() {
    if (!in.cgroup_usage) in.cgroup_usage = cgroup::Usage{};
    return *in.cgroup_usage;
  }
};

bool has(const RunResult& r, const std::string& limit) {
  return std::find(r.limits_hit.begin(), r.limits_hit.end(), limit) != r.limits_hit.end();
}

TEST(Verdict, ExitCodesAndSignals) {
  Case ok;
  ok.o.reaper = exited(0);
  EXPECT_EQ(ok.verdict().status, Status::ok);
  Case three;
  three.o.reaper = exited(3);
  const RunResult r3 = three.verdict();
  EXPECT_EQ(r3.status, Status::nonzero_exit);
  EXPECT_EQ(r3.exit_code, 3);
  Case abrt;
  abrt.o.reaper = signalled(SIGABRT);
  const RunResult ra = abrt.verdict();
  EXPECT_EQ(ra.status, Status::signalled);
  EXPECT_EQ(ra.signal, SIGABRT);
  EXPECT_EQ(ra.killed_by, "");
}

TEST(Verdict, KernelOomIsMemoryLimit) {
  Case c;
  c.o.reaper = signalled(SIGKILL);
  c.cg().oom_kills = 1;
  c.cg().memory_limit_hit = true;
  const RunResult r = c.verdict();
  EXPECT_EQ(r.status, Status::memory_limit);
  EXPECT_EQ(r.killed_by, "kernel_oom");
  EXPECT_TRUE(has(r, "memory"));
}

TEST(Verdict, AnOomKillInATreeThatStillExitedZeroIsOk) {
  Case c;  // a child was OOM-killed, the program handled it
  c.o.reaper = exited(0);
  c.cg().oom_kills = 1;
  const RunResult r = c.verdict();
  EXPECT_EQ(r.status, Status::ok);
  EXPECT_TRUE(has(r, "memory"));
}

TEST(Verdict, CellsKillReasonWinsOverAnEarlierOomKill) {
  Case c;  // a child was OOM-killed earlier; then cell stopped the program at its CPU limit
  c.o.killed = KillReason::cpu_time;
  c.in.limits.cpu_time = Nanos(1000 * kMs);
  c.cg().cpu_ns = 1001 * kMs;
  c.cg().oom_kills = 1;
  const RunResult r = c.verdict();
  EXPECT_EQ(r.status, Status::time_limit_cpu);
  EXPECT_EQ(r.killed_by, "cell");
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_TRUE(has(r, "cpu_time"));
  EXPECT_TRUE(has(r, "memory"));
}

TEST(Verdict, SeccompWinsOverEverythingThatFollows) {
  Case c;
  c.o.killed = KillReason::seccomp;
  c.o.violation = Violation{"seccomp", "ptrace", 101, "x86_64"};
  c.cg().oom_kills = 1;
  const RunResult r = c.verdict();
  EXPECT_EQ(r.status, Status::seccomp_violation);
  ASSERT_TRUE(r.violation.has_value());
  EXPECT_EQ(r.violation->syscall, "ptrace");
}

TEST(Verdict, CpuOverTheLimitWithoutAKillIsStillTimeLimitCpu) {
  Case c;  // RLIMIT_CPU's SIGXCPU got there first (the backstop)
  c.o.reaper = signalled(SIGXCPU);
  c.in.limits.cpu_time = Nanos(1000 * kMs);
  c.o.reaper->user_ns = 1500 * kMs;
  const RunResult r = c.verdict();
  EXPECT_EQ(r.status, Status::time_limit_cpu);
  EXPECT_TRUE(has(r, "cpu_time"));
}

TEST(Verdict, WallBeatsOutputAndFsizeIsDiskLimit) {
  Case wall;
  wall.o.killed = KillReason::wall_time;
  wall.in.limits.output_bytes = 10;
  wall.o.out.size_bytes = 11;
  const RunResult rw = wall.verdict();
  EXPECT_EQ(rw.status, Status::time_limit_wall);
  EXPECT_TRUE(has(rw, "wall_time"));
  EXPECT_TRUE(has(rw, "output"));
  Case fsize;
  fsize.o.reaper = signalled(SIGXFSZ);
  const RunResult rf = fsize.verdict();
  EXPECT_EQ(rf.status, Status::disk_limit);
  EXPECT_TRUE(has(rf, "fsize"));
}

TEST(Verdict, PidsLimitOnlyWhenTheProgramFailed) {
  Case failed;
  failed.o.reaper = exited(1);
  failed.cg().pids_limit_hit = true;
  EXPECT_EQ(failed.verdict().status, Status::pids_limit);
  Case coped;
  coped.o.reaper = exited(0);
  coped.cg().pids_limit_hit = true;
  const RunResult r = coped.verdict();
  EXPECT_EQ(r.status, Status::ok);
  EXPECT_TRUE(has(r, "pids"));
}

TEST(Verdict, TheProgramsCpuLeavesOutCellsSetup) {
  Case c;
  c.o.reaper = exited(0);
  c.o.cpu_base_ns = 3 * kMs;  // pid 1's own setup steps, counted by the leaf too
  c.cg().cpu_ns = 303 * kMs;
  c.cg().user_ns = 200 * kMs;
  c.cg().sys_ns = 100 * kMs;
  const RunResult r = c.verdict();
  EXPECT_EQ(r.usage.cpu_ns, 300 * kMs);
  EXPECT_EQ(r.usage.user_ns + r.usage.sys_ns, 300 * kMs);
  EXPECT_EQ(r.usage.sys_ns, 100 * kMs);  // a third, as in the leaf's own split
}

TEST(Verdict, WithoutACgroupTheTreeReadingCoversWhatRusageMissed) {
  Case c;  // the reaper's rusage counts only reaped processes
  c.o.killed = KillReason::cpu_time;
  c.o.cpu_seen_ns = 1002 * kMs;
  c.in.limits.cpu_time = Nanos(1000 * kMs);
  const RunResult r = c.verdict();
  EXPECT_EQ(r.status, Status::time_limit_cpu);
  EXPECT_EQ(r.usage.cpu_ns, 1002 * kMs);
}

TEST(Verdict, Pid1EndingWithoutAReportIsAnInternalError) {
  Case c;
  const RunResult r = c.verdict();
  EXPECT_EQ(r.status, Status::internal_error);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->step, "reaper");
}

}  // namespace
}  // namespace cell::launch
