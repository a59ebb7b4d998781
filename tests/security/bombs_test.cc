// Resource bombs: forks, memory, disk and sleep are stopped by their limits, the run ends, and
// nothing of it stays on the host. What is guaranteed depends on the mode: with a cgroup (root
// here: v1) pids and memory are counted for the whole sandbox and named in the verdict; without
// one (rootless here) they fall back to per-process rlimits, which the verdict lists as degraded.
#include <signal.h>
#include <unistd.h>
#include <algorithm>

#include <chrono>
#include <thread>

#include "security/common.hpp"

namespace cell::test::sec {
namespace {

using namespace std::chrono_literals;
using ::testing::AnyOf;
using ::testing::Eq;

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool mentions(const std::vector<std::string>& v, const std::string& needle) {
  return std::any_of(v.begin(), v.end(),
                     [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

// Whether `controller` was enforced by a cgroup for this run (not degraded to an rlimit).
bool cgroup_enforced(const RunResult& r, const std::string& controller) {
  return r.enforcement.cgroup != "none" && !mentions(r.enforcement.degraded, controller);
}

// Nothing the run started is left on the host (the probe's argv carried `token`).
void expect_no_leftovers(const std::string& token) {
  std::vector<pid_t> left = processes_with(token);
  for (int i = 0; i < 100 && !left.empty(); ++i) {  // teardown is asynchronous: up to 1 s
    std::this_thread::sleep_for(10ms);
    left = processes_with(token);
  }
  EXPECT_TRUE(left.empty()) << left.size() << " process(es) of the run outlived it, e.g. pid "
                            << left.front() << ": " << cmdline_of(left.front());
}

TEST(ForkBomb, StopsAtThePidsLimit) {
  CELL_REQUIRE(Need::sandbox);
  const std::string token = unique_token("forkbomb");
  const ProbeRun r = run_probe({"echo", token, "forkbomb", "100000", "exit", "1"}, [](RunSpec& s) {
    s.limits.pids = 32;
    s.limits.wall_time = 60s;
  });
  ASSERT_FALSE(r.error) << r.describe();
  const long long forked = std::stoll(r.facts.get("forked"));
  EXPECT_EQ(r.facts.get("fork"), "EAGAIN") << r.describe();
  if (cgroup_enforced(r.result, "pids")) {
    EXPECT_EQ(r.result.status, Status::pids_limit) << r.describe();
    EXPECT_TRUE(has(r.result.limits_hit, "pids"));
    EXPECT_LT(forked, 32) << "the probe itself counts";
    EXPECT_LE(r.result.usage.pids_peak, 32u);
  } else {
    // RLIMIT_NPROC counts every process of the sandbox user's host uid.
    EXPECT_TRUE(mentions(r.result.enforcement.degraded, "pids")) << r.describe();
    EXPECT_EQ(r.result.status, Status::nonzero_exit) << r.describe();
    EXPECT_LT(forked, 32);
  }
  expect_no_leftovers(token);
}

// Every process forks again, forever: only the wall clock ends it, and the pids limit keeps
// the number of processes bounded meanwhile.
TEST(ForkBomb, AnEndlessBombEndsAtTheWallTime) {
  CELL_REQUIRE(Need::sandbox);
  const std::string token = unique_token("endless");
  const ProbeRun r = run_probe({"echo", token, "forkbomb-forever"}, [](RunSpec& s) {
    s.limits.pids = 24;
    s.limits.wall_time = 2s;
  });
  ASSERT_FALSE(r.error) << r.describe();
  EXPECT_EQ(r.result.status, Status::time_limit_wall) << r.describe();
  EXPECT_EQ(r.result.killed_by, "cell");
  if (cgroup_enforced(r.result, "pids")) {
    EXPECT_TRUE(has(r.result.limits_hit, "pids")) << r.describe();
    EXPECT_LE(r.result.usage.pids_peak, 24u);
  }
  expect_no_leftovers(token);
}

TEST(MemoryBomb, StopsAtTheMemoryLimit) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"memhog", "2147483648", "echo", "survived=1"},
                               [](RunSpec& s) { s.limits.memory_bytes = 64ull << 20; });
  ASSERT_FALSE(r.error) << r.describe();
  if (cgroup_enforced(r.result, "memory")) {
    EXPECT_TRUE(has(r.result.limits_hit, "memory"));
    EXPECT_EQ(r.result.killed_by, "kernel_oom");
    EXPECT_LE(r.result.usage.memory_peak_bytes, (64ull << 20) + (1ull << 20)) << r.describe();
  } else {
    // RLIMIT_AS: the allocation itself fails and the program goes on.
    EXPECT_TRUE(mentions(r.result.enforcement.degraded, "RLIMIT_AS")) << r.describe();
    EXPECT_EQ(r.facts.get("memhog"), "ENOMEM") << r.describe();
    EXPECT_EQ(r.result.status, Status::ok) << r.describe();
  }
}

// Four processes of 48 MiB each under a 64 MiB limit: a cgroup counts them together and stops
// one; RLIMIT_AS is per process, so rootless (degraded) lets all four through.
TEST(MemoryBomb, ManyProcessesAreCountedTogetherOnlyWithACgroup) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"fork-memhog", "4", "50331648"},
                               [](RunSpec& s) { s.limits.memory_bytes = 64ull << 20; });
  ASSERT_FALSE(r.error) << r.describe();
  const std::vector<std::string> hogs = r.facts.all("hog");
  if (cgroup_enforced(r.result, "memory")) {
    // The kernel stops hogs (their parent reports signal:9, and may itself exit 0: then the
    // status is ok, with memory in limits_hit), or cell stops the whole tree before the parent
    // reports: never do all four finish.
    EXPECT_LT(std::count(hogs.begin(), hogs.end(), "exit:0"), 4) << r.describe();
    EXPECT_TRUE(has(r.result.limits_hit, "memory")) << r.describe();
    EXPECT_LE(r.result.usage.memory_peak_bytes, (64ull << 20) + (1ull << 20)) << r.describe();
  } else {
    EXPECT_TRUE(mentions(r.result.enforcement.degraded, "memory")) << r.describe();
    EXPECT_EQ(hogs.size(), 4u) << r.describe();
  }
}

TEST(DiskFill, TmpIsCappedAndFilesByRlimit) {
  CELL_REQUIRE(Need::sandbox);
  Profile p = load_profile("standard").value();
  for (Mount& m : p.mounts)
    if (m.target == "/tmp") m.size_bytes = 4 << 20;
  const ProbeRun full =
      run_probe({"fill", "/tmp/a", "3145728", "fill", "/tmp/b", "3145728", "fill", "/dev/shm/c",
                 "134217728", "statfs", "/tmp", "statfs", "/dev/shm", "statfs", "/dev"},
                [&](RunSpec& s) {
                  s.profile_value = p;
                  s.limits.fsize_bytes = 256ull << 20;
                });
  ASSERT_EQ(full.result.status, Status::ok) << full.describe();
  EXPECT_EQ(full.facts.all("fill"), (std::vector<std::string>{"ok", "ENOSPC", "ENOSPC"}))
      << full.describe();
  const std::vector<std::string> sizes = full.facts.all("statfs_bytes");
  ASSERT_EQ(sizes.size(), 3u) << full.describe();
  EXPECT_EQ(std::stoull(sizes[0]), 4ull << 20) << "/tmp";
  EXPECT_LE(std::stoull(sizes[1]), 64ull << 20) << "/dev/shm must be capped too";
  EXPECT_LE(std::stoull(sizes[2]), 1ull << 20) << "/dev";

  const ProbeRun big =
      run_probe({"fill", "/tmp/f", "16777216"}, [](RunSpec& s) { s.limits.fsize_bytes = 1 << 20; });
  EXPECT_EQ(big.result.status, Status::disk_limit) << big.describe();
  EXPECT_TRUE(has(big.result.limits_hit, "fsize"));
}

TEST(Sleep, EndsAtTheWallTime) {
  CELL_REQUIRE(Need::sandbox);
  const std::string token = unique_token("sleep");
  const auto t0 = std::chrono::steady_clock::now();
  const ProbeRun r =
      run_probe({"echo", token, "sleep", "3600"}, [](RunSpec& s) { s.limits.wall_time = 500ms; });
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.result.status, Status::time_limit_wall) << r.describe();
  EXPECT_LT(took, 30s) << "the run did not end near its wall time";
  expect_no_leftovers(token);
}

// A payload that exits leaving a daemon (setsid, double fork): the run ends with the payload,
// and the daemon goes with the sandbox's pid namespace.
TEST(Daemon, ALeftBehindProcessDoesNotOutliveTheRun) {
  CELL_REQUIRE(Need::sandbox);
  const std::string token = unique_token("daemon");
  const auto t0 = std::chrono::steady_clock::now();
  const ProbeRun r = run_probe({"echo", token, "daemonize"});
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_NE(r.facts.get("daemon"), "");
  EXPECT_LT(took, 20s) << "the run waited for its daemon";
  expect_no_leftovers(token);
}

}  // namespace
}  // namespace cell::test::sec
