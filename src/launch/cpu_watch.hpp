// The CPU-time limit: when a run has used its budget, and when to look again. Usage comes from
// the run's cgroup (the whole tree) or, without one, from the sandbox's process tree in /proc.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "cgroup/cgroup.hpp"

namespace cell::launch {

// A process's CPU clock (all its threads); exact while it is not running, else as of its last
// scheduler tick. nullopt when it is gone.
std::optional<std::uint64_t> process_cpu_ns(pid_t pid);

// CPU time of everything in a sandbox that no cgroup counts: the live descendants of its init
// (their own clocks) plus what already exited (the cutime/cstime their parents collected, in
// clock ticks). cell's init itself is left out. nullopt when `init` is gone.
std::optional<std::uint64_t> process_tree_cpu_ns(pid_t init);

// Re-armed at the remaining budget divided by the CPUs that can spend it (it cannot be spent
// sooner); within a tick of the limit, polled every 0.25 ms. The kernel charges a running task
// at each tick (4 ms at HZ=250), and no interface reads another process's running time more
// precisely, so a reading lags by up to one tick per running CPU: that, plus the wake-up of
// this thread, is how far past the limit a program can get.
class CpuWatch {
 public:
  static constexpr std::uint64_t kMs = 1000000;
  static constexpr std::uint64_t kTickNs = 10 * kMs;     // the longest tick (HZ=100)
  static constexpr std::uint64_t kNearPollNs = kMs / 4;  // polling within a tick of the limit

  // `leaf` may be null (then the tree of `init` is read); `cpus`: how many CPUs the run can use.
  CpuWatch(std::uint64_t limit_ns, unsigned cpus, cgroup::Leaf* leaf, pid_t init)
      : limit_(limit_ns), cpus_(cpus == 0 ? 1 : cpus), leaf_(leaf), init_(init) {}

  struct Verdict {
    bool exceeded = false;
    std::uint64_t next_ns = 0;  // when to check again, from now; 0: nothing left to measure
  };
  // At each timer expiry.
  Verdict check();
  [[nodiscard]] std::optional<std::uint64_t> last_reading() const { return last_; }

 private:
  std::uint64_t limit_;
  unsigned cpus_;
  cgroup::Leaf* leaf_;
  pid_t init_;
  std::optional<std::uint64_t> last_;
};

}  // namespace cell::launch
