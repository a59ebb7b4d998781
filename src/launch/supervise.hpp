// The supervision loop: one poll over the sandbox's pidfd, pipes, timers and seccomp listener,
// until pid 1 is gone and every stream is drained.
#pragma once

#include <cell/result.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "cgroup/cgroup.hpp"
#include "child/steps.hpp"
#include "launch/launcher.hpp"

namespace cell::launch {

enum class KillReason { none, wall_time, cpu_time, output, seccomp, setup_timeout };

struct SuperviseConfig {
  std::optional<std::uint64_t> wall_ns;
  std::optional<std::uint64_t> cpu_ns;
  std::optional<std::uint64_t> output_limit;  // kill when a captured stream exceeds it
  std::uint64_t capture_cap = 64ull << 20;    // never keep more than this per stream
  int stdout_fd = -1;                         // read ends of capture pipes, -1 if not captured
  int stderr_fd = -1;
  cgroup::Leaf* leaf = nullptr;
  std::uint64_t setup_timeout_ns = 60ull * 1000000000;
  unsigned cpus = 1;  // CPUs the sandbox may use: how fast CPU time can accrue
};

struct Outcome {
  bool exec_seen = false;
  std::uint64_t exec_ns = 0;  // monotonic time the payload exec'd
  std::uint64_t end_ns = 0;   // monotonic time the payload's exit was known
  std::optional<child::FailureRecord> failure;
  std::optional<child::ReaperRecord> reaper;
  int init_status = 0;  // how pid 1 itself ended (si_code/si_status), for internal errors
  int init_code = 0;
  KillReason killed = KillReason::none;
  std::optional<std::uint64_t> cpu_seen_ns;  // last CPU reading of the limit timer
  // The leaf's CPU time that was cell's setup (pid 1's own), to leave out of the program's.
  std::uint64_t cpu_base_ns = 0;
  std::optional<Violation> violation;
  StreamResult out;
  StreamResult err;
};

Outcome supervise(Launched& l, const SuperviseConfig& cfg);

}  // namespace cell::launch
