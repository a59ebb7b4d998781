// Limits and accounting through Runtime::run against the real cgroup driver: the accuracy
// bounds of issue 3, OOM and pids verdicts, page cache, cpus and cpuset.
// Built twice: cgroup1 (this host, v1) and cgroup2 (the VM, v2) — see CELL_EXPECT_CGROUP.
#include <fcntl.h>
#include <sys/stat.h>

#include "cgroup1/cg_support.hpp"

namespace cell::cgtest {
namespace {

class Limits : public ::testing::Test {
 protected:
  void SetUp() override { CELL_REQUIRE_DRIVER(); }

  RunResult run(const RunSpec& spec) {
    auto r = rt_.run(spec);
    if (!r.ok()) throw std::runtime_error(r.error().what());
    EXPECT_EQ(r->enforcement.cgroup, expected_mode()) << describe(*r);
    return std::move(r).value();
  }

  test::TempDir dir_{"cell-cg"};
  Runtime rt_ = open_runtime(dir_);
};

TEST_F(Limits, PeakOfAProgramTouching100MiBIsWithin100To110MiB) {
  RunSpec s = prog_spec({"touch", "100"});
  s.limits.memory_bytes = 256 * kMiB;
  const RunResult r = run(s);
  ASSERT_EQ(r.status, Status::ok) << describe(r);
  measured("peak_of_touch_100MiB", static_cast<double>(r.usage.memory_peak_bytes) / kMiB, "MiB");
  EXPECT_EQ(r.usage.memory_peak_source,
            expected_mode() == "v2" ? "cgroup2.memory.peak" : "cgroup1.memory.max_usage_in_bytes");
  EXPECT_GE(r.usage.memory_peak_bytes, 100 * kMiB) << describe(r);
  EXPECT_LE(r.usage.memory_peak_bytes, 110 * kMiB) << describe(r);
}

// The cgroup also counts cell's setup after clone (mounts, pivot_root, exec) and the reaper:
// a few ms on the host. Under TCG that setup is 10-50x slower, so the VM allows 300 ms + 20 %.
TEST_F(Limits, CpuOfA300msBusyLoopIsWithin5Percent) {
  const RunResult r = run(prog_spec({"spin", "300"}));
  ASSERT_EQ(r.status, Status::ok) << describe(r);
  measured("cpu_of_spin_300ms", static_cast<double>(r.usage.cpu_ns) / 1e6, "ms");
  EXPECT_GE(r.usage.cpu_ns, 300'000'000u) << describe(r);
  EXPECT_LE(r.usage.cpu_ns, in_vm() ? 360'000'000u : 315'000'000u) << describe(r);
  EXPECT_GE(r.usage.user_ns + r.usage.sys_ns, r.usage.cpu_ns * 9 / 10) << describe(r);
}

// The supervisor's timer re-arms at the remaining budget and reads the whole tree's cgroup
// usage: the program is stopped within 5 ms of CPU past the limit (the kernel charges a running
// task at each tick, 4 ms at HZ=250; within that reach of the limit cell polls every 0.25 ms).
// Under TCG each vCPU is a host thread on a shared host: the supervisor's vCPU can be
// descheduled for tens of ms while the program's runs, so the VM only checks 150 ms.
TEST_F(Limits, CpuLimitOf1sStopsTheProgramWithin5ms) {
  RunSpec s = prog_spec({"spin-forever"});
  s.limits.cpu_time = std::chrono::seconds(1);
  const RunResult r = run(s);
  ASSERT_EQ(r.status, Status::time_limit_cpu) << describe(r);
  measured("cpu_at_kill_under_1s_limit", static_cast<double>(r.usage.cpu_ns) / 1e6, "ms");
  EXPECT_TRUE(has_hit(r, "cpu_time")) << describe(r);
  EXPECT_EQ(r.killed_by, "cell");
  EXPECT_GE(r.usage.cpu_ns, 1'000'000'000u) << describe(r);
  EXPECT_LE(r.usage.cpu_ns, in_vm() ? 1'150'000'000u : 1'005'000'000u) << describe(r);
}

// Two processes spinning at once spend the budget twice as fast; the leaf counts both. Each
// CPU's share lags by up to one tick (4 ms at HZ=250), so the bound is a tick per CPU wider.
TEST_F(Limits, CpuLimitCountsEveryProcessOfTheTree) {
  RunSpec s = prog_spec({"spin-kids", "2", "5000"});
  s.limits.cpu_time = std::chrono::seconds(1);
  const RunResult r = run(s);
  ASSERT_EQ(r.status, Status::time_limit_cpu) << describe(r);
  measured("cpu_at_kill_two_spinners_1s_limit", static_cast<double>(r.usage.cpu_ns) / 1e6, "ms");
  EXPECT_EQ(r.killed_by, "cell");
  EXPECT_GE(r.usage.cpu_ns, 1'000'000'000u) << describe(r);
  EXPECT_LE(r.usage.cpu_ns, in_vm() ? 1'200'000'000u : 1'015'000'000u) << describe(r);
  EXPECT_LT(r.usage.wall_ns, 5'000'000'000u) << describe(r);
}

// RLIMIT_CPU backs the supervisor up: the limit rounded up plus 1 s (soft), 1 s more (hard).
TEST_F(Limits, RlimitCpuBackstopIsSetAboveTheLimit) {
  RunSpec s = prog_spec({});
  s.argv = {"/bin/sh", "-c", "ulimit -St; ulimit -Ht"};
  s.limits.cpu_time = std::chrono::milliseconds(1500);
  const RunResult r = run(s);
  ASSERT_EQ(r.status, Status::ok) << describe(r);
  EXPECT_EQ(r.stdout_.data, "3\n4\n") << describe(r);
}

TEST_F(Limits, KernelOomKillIsMemoryLimitNotASignal) {
  RunSpec s = prog_spec({"touch", "200", "0"});
  s.limits.memory_bytes = 64 * kMiB;
  const RunResult r = run(s);
  ASSERT_EQ(r.status, Status::memory_limit) << describe(r);
  EXPECT_EQ(r.killed_by, "kernel_oom");
  EXPECT_GE(r.usage.oom_kills, 1u);
  EXPECT_TRUE(has_hit(r, "memory")) << describe(r);
  EXPECT_GE(r.usage.memory_peak_bytes, 60 * kMiB) << describe(r);
  EXPECT_LE(r.usage.memory_peak_bytes, 64 * kMiB) << describe(r);
  EXPECT_TRUE(own_leaves().empty());
}

// A file whose reads fill the page cache: in the VM only the host's root (9p, cache=loose)
// caches, so tools/vm-test.sh passes one through CELL_TEST_BIGFILE; on a host disk a sparse
// file does (its holes are read into zeroed cache pages).
std::string big_file(const test::TempDir& dir, std::string& skip) {
  if (const char* f = std::getenv("CELL_TEST_BIGFILE")) return f;
  if (in_vm()) {
    skip = "in the VM /tmp is tmpfs (no page cache to test); set CELL_TEST_BIGFILE";
    return "";
  }
  const std::string path = dir.sub("big.bin");
  const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY, 0644);
  if (fd < 0 || ::ftruncate(fd, 512 * kMiB) != 0) skip = "cannot create " + path;
  ::close(fd);
  ::chmod(dir.path().c_str(), 0755);
  return path;
}

// Page cache is charged to the cgroup (v1 and v2) but is reclaimable: reading 512 MiB under a
// 64 MiB limit reclaims it and must not end as memory_limit.
TEST_F(Limits, ReadingABigFileUnderA64MiBLimitIsNotMemoryLimit) {
  std::string skip;
  const std::string file = big_file(dir_, skip);
  if (!skip.empty()) GTEST_SKIP() << skip;
  RunSpec s = prog_spec({"read", "/data/big.bin"});
  Mount m;
  m.source = file;
  m.target = "/data/big.bin";
  s.mounts.push_back(m);
  s.limits.memory_bytes = 64 * kMiB;
  const RunResult r = run(s);
  ASSERT_EQ(r.status, Status::ok) << describe(r);
  EXPECT_EQ(r.stdout_.data, "read 536870912 bytes\n");
  measured("peak_reading_512MiB_under_64MiB", static_cast<double>(r.usage.memory_peak_bytes) / kMiB,
           "MiB");
  EXPECT_FALSE(has_hit(r, "memory")) << describe(r);
  EXPECT_EQ(r.usage.oom_kills, 0u);
  // The cache was charged (the peak reached the limit) and reclaimed, not bypassed.
  EXPECT_GE(r.usage.memory_peak_bytes, 32 * kMiB) << describe(r);
}

TEST_F(Limits, ForkFailingAtThePidsLimitIsPidsLimit) {
  RunSpec s = prog_spec({"fork", "20"});
  s.limits.pids = 8;
  const RunResult r = run(s);
  ASSERT_EQ(r.status, Status::pids_limit) << describe(r);
  EXPECT_TRUE(has_hit(r, "pids"));
  EXPECT_EQ(r.stdout_.data, "fork 8 failed: Resource temporarily unavailable\n");
  EXPECT_EQ(r.usage.pids_peak, 8u) << describe(r);
}

TEST_F(Limits, PidsLimitCountsOnlyTheProgramsProcesses) {
  RunSpec s = prog_spec({"fork", "7"});
  s.limits.pids = 8;
  const RunResult r = run(s);
  ASSERT_EQ(r.status, Status::ok) << describe(r);
  EXPECT_FALSE(has_hit(r, "pids"));
  EXPECT_EQ(r.usage.pids_peak, 8u) << describe(r);
}

TEST_F(Limits, ForkBombIsContainedAndCleanedUp) {
  RunSpec s = prog_spec({"forkbomb"});
  s.limits.pids = 32;
  s.limits.wall_time = std::chrono::seconds(in_vm() ? 5 : 1);
  const RunResult r = run(s);
  EXPECT_EQ(r.status, Status::time_limit_wall) << describe(r);
  EXPECT_TRUE(has_hit(r, "pids")) << describe(r);
  EXPECT_EQ(r.usage.pids_peak, 32u) << describe(r);
  EXPECT_TRUE(own_leaves().empty());
}

// cpu.max / cfs quota: half a CPU for 2 s of wall time gives about 1 s of CPU.
TEST_F(Limits, CpusHalfACpuThrottlesToHalf) {
  RunSpec s = prog_spec({"spin-forever"});
  s.limits.cpus = 0.5;
  s.limits.wall_time = std::chrono::seconds(2);
  const RunResult r = run(s);
  ASSERT_EQ(r.status, Status::time_limit_wall) << describe(r);
  const double ratio = static_cast<double>(r.usage.cpu_ns) / static_cast<double>(r.usage.wall_ns);
  measured("cpu_per_wall_at_cpus_0.5", ratio, "");
  EXPECT_GT(ratio, 0.35) << describe(r);
  EXPECT_LT(ratio, 0.65) << describe(r);
}

TEST_F(Limits, CpusetPinsTheProgram) {
  RunSpec s = prog_spec({"affinity"});
  s.limits.cpuset = "0";
  const RunResult r = run(s);
  ASSERT_EQ(r.status, Status::ok) << describe(r);
  EXPECT_EQ(r.stdout_.data, "0\n");
}

}  // namespace
}  // namespace cell::cgtest
