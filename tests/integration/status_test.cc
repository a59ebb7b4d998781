// Every verdict status, produced by a real run: ok, nonzero_exit, signalled (incl. abort()),
// time_limit_cpu, time_limit_wall, output_limit, disk_limit, seccomp_violation, setup_error,
// internal_error; and enforcement.degraded. Limits are small but nothing asserts tight timing.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "integration/common.hpp"

namespace cell::test {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kMs = 1000000;

bool contains_pid(const std::vector<pid_t>& v, pid_t p) {
  return std::find(v.begin(), v.end(), p) != v.end();
}

TEST(Status, Ok) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"echo", "hello", "exit", "0"});
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.result.exit_code, std::optional<int>(0));
  EXPECT_FALSE(r.result.signal.has_value());
  EXPECT_EQ(r.result.killed_by, "");
  EXPECT_TRUE(r.result.limits_hit.empty());
  EXPECT_FALSE(r.result.error.has_value());
  EXPECT_EQ(r.result.stdout_.data, "hello\n");
  EXPECT_EQ(r.result.stdout_.size_bytes, 6u);
  EXPECT_FALSE(r.result.stdout_.truncated);
  EXPECT_GT(r.result.usage.wall_ns, 0u);
  EXPECT_GT(r.result.usage.setup_ns, 0u);
  EXPECT_LE(r.result.started_at, r.result.ended_at);
}

TEST(Status, NonzeroExit) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"eprint", "oops", "exit", "3"});
  ASSERT_EQ(r.result.status, Status::nonzero_exit) << r.describe();
  EXPECT_EQ(r.result.exit_code, std::optional<int>(3));
  EXPECT_FALSE(r.result.signal.has_value());
  EXPECT_EQ(r.result.stderr_.data, "oops\n");
}

TEST(Status, Signalled) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"raise", "TERM"});
  ASSERT_EQ(r.result.status, Status::signalled) << r.describe();
  EXPECT_EQ(r.result.signal, std::optional<int>(SIGTERM));
  EXPECT_FALSE(r.result.exit_code.has_value());
  EXPECT_EQ(r.result.killed_by, "") << "cell did not kill it";
  EXPECT_EQ(r.facts.get("raise"), "") << "the probe survived its own SIGTERM";
}

// abort() in pid 1 of a namespace would be ignored and end in SIGSEGV; the payload is pid 2.
TEST(Status, AbortIsSignalledSigabrt) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"abort"});
  ASSERT_EQ(r.result.status, Status::signalled) << r.describe();
  EXPECT_EQ(r.result.signal, std::optional<int>(SIGABRT));
  EXPECT_NE(r.result.message.find("SIGABRT"), std::string::npos) << r.result.message;
}

TEST(Status, TimeLimitCpu) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"spin-forever"}, [](RunSpec& s) {
    s.limits.cpu_time = 300ms;
    s.limits.wall_time = 60s;
  });
  ASSERT_EQ(r.result.status, Status::time_limit_cpu) << r.describe();
  EXPECT_TRUE(contains(r.result.limits_hit, "cpu_time"));
  EXPECT_EQ(r.result.killed_by, "cell");
  EXPECT_EQ(r.result.signal, std::optional<int>(SIGKILL));
  // Accounting granularity aside, it ran for about its budget (no tight bound: loaded host).
  EXPECT_GE(r.result.usage.cpu_ns, 250 * kMs);
  EXPECT_EQ(r.result.limits.cpu_time, std::optional<Nanos>(300ms));
}

TEST(Status, CpuUnderTheLimitIsOk) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"spin", "0.1"}, [](RunSpec& s) { s.limits.cpu_time = 10s; });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_GE(r.result.usage.cpu_ns, 90 * kMs);
  EXPECT_TRUE(r.result.limits_hit.empty());
}

TEST(Status, TimeLimitWall) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"sleep", "60"}, [](RunSpec& s) { s.limits.wall_time = 500ms; });
  ASSERT_EQ(r.result.status, Status::time_limit_wall) << r.describe();
  EXPECT_TRUE(contains(r.result.limits_hit, "wall_time"));
  EXPECT_EQ(r.result.killed_by, "cell");
  EXPECT_GE(r.result.usage.wall_ns, 500 * kMs);
  EXPECT_LT(r.result.usage.cpu_ns, 500 * kMs) << "sleeping costs no CPU";
}

TEST(Status, OutputLimit) {
  CELL_REQUIRE(Need::sandbox);
  const std::uint64_t limit = 64 << 10;
  const ProbeRun r =
      run_probe({"print", "16777216"}, [&](RunSpec& s) { s.limits.output_bytes = limit; });
  ASSERT_EQ(r.result.status, Status::output_limit) << r.describe();
  EXPECT_TRUE(contains(r.result.limits_hit, "output"));
  EXPECT_EQ(r.result.killed_by, "cell");
  EXPECT_TRUE(r.result.stdout_.truncated);
  EXPECT_LE(r.result.stdout_.captured_bytes, limit);
  EXPECT_EQ(r.result.stdout_.data.size(), r.result.stdout_.captured_bytes);
  EXPECT_GT(r.result.stdout_.size_bytes, limit);
  EXPECT_LT(r.result.stdout_.size_bytes, 16u << 20) << "the program was not stopped";
}

TEST(Status, OutputUnderTheLimitIsKeptWhole) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r =
      run_probe({"print", "65536"}, [](RunSpec& s) { s.limits.output_bytes = 65536; });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.result.stdout_.size_bytes, 65536u);
  EXPECT_EQ(r.result.stdout_.captured_bytes, 65536u);
  EXPECT_FALSE(r.result.stdout_.truncated);
}

TEST(Status, DiskLimit) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"fill", "/tmp/big", "1048576"},
                               [](RunSpec& s) { s.limits.fsize_bytes = 64 << 10; });
  ASSERT_EQ(r.result.status, Status::disk_limit) << r.describe();
  EXPECT_TRUE(contains(r.result.limits_hit, "fsize"));
  EXPECT_EQ(r.result.signal, std::optional<int>(SIGXFSZ));
}

TEST(Status, SeccompViolationNamesTheSyscall) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"syscall", "ptrace"});
  ASSERT_EQ(r.result.status, Status::seccomp_violation) << r.describe();
  ASSERT_TRUE(r.result.violation.has_value());
  EXPECT_EQ(r.result.violation->syscall, "ptrace");
  EXPECT_EQ(r.result.violation->nr, 101);
  EXPECT_EQ(r.result.violation->arch, "x86_64");
}

TEST(Status, SetupErrorNamesStepErrnoAndHint) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"exit", "0"}, [](RunSpec& s) {
    s.mounts.push_back({Mount::Kind::bind, "/nonexistent-cell-test-source", "/data", false, 0,
                        "--bind /nonexistent-cell-test-source:/data"});
  });
  ASSERT_EQ(r.result.status, Status::setup_error) << r.describe();
  ASSERT_TRUE(r.result.error.has_value());
  EXPECT_EQ(r.result.error->step, "bind_mount");
  EXPECT_EQ(r.result.error->errno_name, "ENOENT");
  EXPECT_FALSE(r.result.error->hint.empty());
  EXPECT_NE(r.result.error->message.find("/nonexistent-cell-test-source"), std::string::npos)
      << r.result.error->message;
  EXPECT_EQ(r.result.message.find('\n'), std::string::npos) << "one line";
  EXPECT_FALSE(r.result.exit_code.has_value());
}

TEST(Status, SetupErrorWhenTheProgramIsMissing) {
  CELL_REQUIRE(Need::sandbox);
  RunSpec spec = probe_spec({});
  spec.argv = {"/no-such-program"};
  const ProbeRun r = run_spec(spec);
  ASSERT_EQ(r.result.status, Status::setup_error) << r.describe();
  ASSERT_TRUE(r.result.error.has_value());
  EXPECT_EQ(r.result.error->step, "exec");
  EXPECT_EQ(r.result.error->errno_name, "ENOENT");
}

TEST(Status, SetupErrorWhenTheProgramIsNotExecutable) {
  CELL_REQUIRE(Need::sandbox);
  const TestRootfs rootfs;
  rootfs.dir().write("not-executable", "#!/cell-probe\n", 0644);
  RunSpec spec = probe_spec({});
  spec.rootfs = rootfs.path();
  spec.argv = {"/not-executable"};
  const ProbeRun r = run_spec(spec);
  ASSERT_EQ(r.result.status, Status::setup_error) << r.describe();
  ASSERT_TRUE(r.result.error.has_value());
  EXPECT_EQ(r.result.error->step, "exec");
  EXPECT_EQ(r.result.error->errno_name, "EACCES");
}

// Kills the sandbox's pid 1 (cell's reaper) from outside while the program runs: nobody is
// left to report the program's end, which only an internal error can explain.
TEST(Status, InternalErrorWhenTheSandboxInitIsKilled) {
  CELL_REQUIRE(Need::sandbox);
  const std::vector<pid_t> before = child_pids();
  ProbeRun r;
  std::atomic<bool> finished{false};
  std::thread runner([&] {
    r = run_probe({"sleep", "60"}, [](RunSpec& s) { s.limits.wall_time = 30s; });
    finished = true;
  });
  bool killed = false;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!killed && !finished && std::chrono::steady_clock::now() < deadline) {
    for (pid_t init : child_pids()) {
      if (contains_pid(before, init)) continue;
      // The reaper's only child is the payload; wait until it is the probe, not the setup.
      std::ifstream children("/proc/" + std::to_string(init) + "/task/" + std::to_string(init) +
                             "/children");
      pid_t payload = -1;
      if (!(children >> payload) || cmdline_of(payload).rfind("/cell-probe sleep", 0) != 0)
        continue;
      killed = ::kill(init, SIGKILL) == 0;
    }
    std::this_thread::sleep_for(5ms);
  }
  runner.join();
  ASSERT_TRUE(killed) << "never found the sandbox's pid 1; " << r.describe();
  ASSERT_EQ(r.result.status, Status::internal_error) << r.describe();
  ASSERT_TRUE(r.result.error.has_value());
  EXPECT_FALSE(r.result.error->step.empty());
  EXPECT_EQ(r.result.message.find('\n'), std::string::npos) << "one line";
}

// No cgroup here: memory and pids fall back to rlimits, and the verdict says so.
TEST(Enforcement, DegradedLimitsAreReported) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"rlimits"}, [](RunSpec& s) {
    s.limits.memory_bytes = 512ull << 20;
    s.limits.pids = 32;
  });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  const Enforcement& e = r.result.enforcement;
  EXPECT_TRUE(e.userns);
  EXPECT_TRUE(e.seccomp);
  if (e.cgroup != "none") GTEST_SKIP() << "cgroup " << e.cgroup << " enforces limits here";
  EXPECT_TRUE(any_mentions(e.degraded, "memory")) << "memory limit silently dropped";
  EXPECT_TRUE(any_mentions(e.degraded, "pids")) << "pids limit silently dropped";
  // The fallbacks named there are really in force.
  if (any_mentions(e.degraded, "RLIMIT_AS")) {
    EXPECT_EQ(r.facts.get("rlimit_as"), "536870912:536870912");
  }
  if (any_mentions(e.degraded, "RLIMIT_NPROC")) {
    EXPECT_EQ(r.facts.get("rlimit_nproc"), "32:32");
  }
}

// The RLIMIT_AS fallback is real: an allocation beyond the memory limit fails (the program
// sees ENOMEM), and one well under it works.
TEST(Enforcement, MemoryFallbackStopsLargeAllocations) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"memhog", "8388608", "memhog", "268435456"},
                               [](RunSpec& s) { s.limits.memory_bytes = 64ull << 20; });
  ASSERT_FALSE(r.error) << r.describe();
  if (!any_mentions(r.result.enforcement.degraded, "RLIMIT_AS"))
    GTEST_SKIP() << "memory is enforced by a cgroup here (" << r.result.enforcement.cgroup << ")";
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.all("memhog"), (std::vector<std::string>{"ok", "ENOMEM"})) << r.describe();
}

}  // namespace
}  // namespace cell::test
