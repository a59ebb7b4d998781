// Load and leaks: many runs through one cell::Runtime in this process, first one after the
// other, then from two threads at once. Afterwards this process has the same descriptors,
// threads, mounts and children as before, no cgroup of its runs is left, and its memory has
// stopped growing. The figures are printed for the record.
//
//   CELL_LOAD_RUNS     sequential runs (default 10000)
//   CELL_LOAD_SECONDS  how long the two threads run (default 300)
#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cgroup/cgroup.hpp"
#include "cgroup/fs.hpp"
#include "cgroup/parse.hpp"
#include "security/common.hpp"

namespace cell::test::sec {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

long env_number(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atol(v) : fallback;
}

std::size_t entries(const std::string& dir) {
  std::size_t n = 0;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n;
}

std::size_t rss_kb() {
  const std::string status = slurp("/proc/self/status");
  const std::size_t at = status.find("VmRSS:");
  return at == std::string::npos ? 0 : std::strtoul(status.c_str() + at + 6, nullptr, 10);
}

// cgroup leaves named after this process (cell-<our pid>-...), in every hierarchy.
std::size_t own_leaves() {
  auto d = cgroup::detect({.parent = "", .inspect_only = true});
  if (!d.ok()) return 0;
  std::size_t n = 0;
  for (const std::string& p : (*d)->parent_dirs())
    for (const std::string& name : cgroup::fs::subdirs(p))
      if (auto o = cgroup::run_leaf_owner(name); o && o->pid == ::getpid()) ++n;
  return n;
}

struct Figures {
  std::size_t fds, threads, mounts, children, leaves, staged, rss_kb;
};

Figures measure() {
  const Result<Runtime>& rt = test_runtime();
  return {entries("/proc/self/fd"),
          entries("/proc/self/task"),
          mount_count(),
          child_pids().size(),
          own_leaves(),
          rt.ok() ? entries(rt->runtime_dir() + "/stage") : 0,
          rss_kb()};
}

void print(const char* phase, const Figures& before, const Figures& after) {
  std::printf(
      "[ figures  ] %s: fds %zu -> %zu, threads %zu -> %zu, mountinfo lines %zu -> %zu, "
      "children %zu -> %zu, own cgroup leaves %zu -> %zu, stage entries %zu -> %zu, "
      "RSS %zu -> %zu KiB\n",
      phase, before.fds, after.fds, before.threads, after.threads, before.mounts, after.mounts,
      before.children, after.children, before.leaves, after.leaves, before.staged, after.staged,
      before.rss_kb, after.rss_kb);
  std::fflush(stdout);
}

void expect_nothing_left(const Figures& before, const Figures& after) {
  EXPECT_EQ(after.fds, before.fds) << "descriptors leaked";
  EXPECT_EQ(after.threads, before.threads) << "threads left running";
  EXPECT_EQ(after.mounts, before.mounts) << "mounts left in our namespace";
  EXPECT_EQ(after.children, 0u) << "child processes left";
  EXPECT_EQ(after.leaves, 0u) << "cgroup leaves left";
  EXPECT_EQ(after.staged, before.staged) << "entries left in the runtime's stage directory";
}

// A mix of endings, all quick: ok, a failing exit, a seccomp kill, a setup error, captured
// output. Returns whether the run ended as expected.
bool one_run(std::uint64_t i) {
  RunSpec s;
  Status want = Status::ok;
  switch (i % 5) {
    case 0:
      s = probe_spec({"exit", "0"});
      break;
    case 1:
      s = probe_spec({"exit", "3"}), want = Status::nonzero_exit;
      break;
    case 2:
      s = probe_spec({"syscall", "ptrace"}), want = Status::seccomp_violation;
      break;
    case 3:
      s = probe_spec({}), s.argv = {"/no/such/program"}, want = Status::setup_error;
      break;
    default:
      s = probe_spec({"print", "65536"});
      break;
  }
  s.limits.wall_time = 30s;
  const ProbeRun r = run_spec(s);
  if (r.error || r.result.status != want) {
    std::fprintf(stderr, "run %llu: %s\n", static_cast<unsigned long long>(i),
                 r.describe().c_str());
    return false;
  }
  return true;
}

TEST(Load, SequentialRunsLeaveNothingBehind) {
  CELL_REQUIRE(Need::sandbox);
  const long runs = env_number("CELL_LOAD_RUNS", 10000);
  for (int i = 0; i < 50; ++i) one_run(static_cast<std::uint64_t>(i));  // warm-up: caches fill
  const Figures before = measure();
  std::size_t rss_half = 0;
  long failed = 0;
  const auto t0 = Clock::now();
  for (long i = 0; i < runs; ++i) {
    if (!one_run(static_cast<std::uint64_t>(i))) ++failed;
    if (i == runs / 2) rss_half = rss_kb();
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const Figures after = measure();
  std::printf("[ figures  ] sequential: %ld runs in %.1f s, %.1f runs/s, %ld unexpected\n", runs,
              secs, static_cast<double>(runs) / secs, failed);
  print("sequential", before, after);
  EXPECT_EQ(failed, 0);
  expect_nothing_left(before, after);
  // Allocator caches settle during the warm-up; a leak of even 1 KiB per run would add
  // ~5 MiB over the second half of 10,000 runs.
  EXPECT_LT(static_cast<long>(after.rss_kb) - static_cast<long>(rss_half), 4096)
      << "RSS still growing: " << rss_half << " KiB halfway, " << after.rss_kb << " KiB at the end";
}

TEST(Load, TwoThreadsLeaveNothingBehind) {
  CELL_REQUIRE(Need::sandbox);
  const long seconds = env_number("CELL_LOAD_SECONDS", 300);
  const Figures before = measure();
  std::atomic<long> done{0}, failed{0};
  std::atomic<std::size_t> rss_half{0};
  const auto t0 = Clock::now();
  const auto until = t0 + std::chrono::seconds(seconds);
  auto worker = [&](std::uint64_t seed) {
    for (std::uint64_t i = seed; Clock::now() < until; i += 7) {
      if (!one_run(i)) ++failed;
      ++done;
      if (rss_half == 0 && Clock::now() > t0 + std::chrono::seconds(seconds) / 2)
        rss_half = rss_kb();
    }
  };
  std::thread a(worker, 0), b(worker, 3);
  a.join();
  b.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const Figures after = measure();
  std::printf("[ figures  ] 2 threads: %ld runs in %.1f s, %.1f runs/s, %ld unexpected\n",
              done.load(), secs, static_cast<double>(done) / secs, failed.load());
  print("2 threads", before, after);
  EXPECT_GT(done, 0);
  EXPECT_EQ(failed, 0);
  expect_nothing_left(before, after);
  if (rss_half != 0) {
    EXPECT_LT(static_cast<long>(after.rss_kb) - static_cast<long>(rss_half.load()), 4096)
        << "RSS still growing: " << rss_half << " KiB halfway, " << after.rss_kb
        << " KiB at the end";
  }
}

}  // namespace
}  // namespace cell::test::sec
