// The cgroup seam: each run gets its own cgroup (leaf) with its limits; the supervisor reads
// usage from it and uses it to stop the whole process tree. Two drivers (v2, v1) are chosen by
// detection; when neither can be used the runtime degrades to rlimits and says so.
#pragma once

#include <cell/error.hpp>
#include <cell/profile.hpp>

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"

namespace cell::cgroup {

// A file through which the child moves itself into a leaf (v1 `tasks`), opened by cell.
struct JoinFile {
  UniqueFd fd;
  std::string path;  // for messages
};

// What one run's cgroup measured. Fields it cannot measure stay nullopt.
struct Usage {
  std::optional<std::uint64_t> cpu_ns, user_ns, sys_ns;
  std::optional<std::uint64_t> memory_peak_bytes;
  // "cgroup2.memory.peak", "cgroup1.memory.max_usage_in_bytes", or before 5.19
  // "cgroup2.memory.current" (polled every 5 ms: a short spike can be missed)
  std::string memory_peak_source;
  std::optional<std::uint64_t> pids_peak;  // the program's processes (cell's reaper not counted)
  std::uint64_t oom_kills = 0;             // kernel OOM kills inside the cgroup
  // An allocation failed at the limit: v2 memory.events oom; v1 oom_control oom_kill (or failcnt
  // on kernels before 4.13, which also counts reclaimed page cache). Plain reclaim of page cache
  // at the limit (v2 memory.events max) does not count.
  bool memory_limit_hit = false;
  bool pids_limit_hit = false;  // pids.events max > 0: a fork failed at pids.max
};

// The limits a run's cgroup enforces (all optional).
struct LeafLimits {
  std::optional<std::uint64_t> memory_bytes;
  std::optional<std::uint64_t> pids;
  std::optional<double> cpus;  // cpu.max / cfs quota
  std::optional<std::string> cpuset;
  // cell's own processes in the leaf (the reaper, pid 1 of the sandbox): added to pids.max and
  // left out of Usage::pids_peak, so `--pids N` gives the program N processes.
  std::uint32_t reserved_pids = 1;
};

// One run's cgroup(s). Destroying it kills whatever is left inside and removes the directories.
class Leaf {
 public:
  virtual ~Leaf() = default;
  // v2: an O_DIRECTORY fd for clone3(CLONE_INTO_CGROUP); -1 when the driver cannot do that.
  [[nodiscard]] virtual int clone_into_fd() const { return -1; }
  // v1: the `tasks` file of each hierarchy's leaf, opened for the child to write "0" to before
  // anything else. A thread that moves itself skips the global threadgroup rwsem, whose write
  // side waits for an RCU grace period (5-20 ms on a quiet host, more than a whole run); moving
  // a process by pid (join) always takes it. Empty: the driver cannot do that.
  virtual Result<std::vector<JoinFile>> open_join_files() { return std::vector<JoinFile>{}; }
  // v2 without CLONE_INTO_CGROUP: move `pid` in before it is released to run.
  virtual Result<void> join(pid_t pid) = 0;
  // Total CPU time of everything that ran in the leaf (fast: read by the CPU-limit timer).
  virtual std::optional<std::uint64_t> cpu_ns() = 0;
  virtual Usage usage() = 0;
  // Stops every process in the leaf (v2 cgroup.kill; v1 freeze, kill, thaw).
  virtual Result<void> kill_all() = 0;
  // Kills what is left and removes the leaf's directories; safe to call twice.
  virtual Result<void> destroy() = 0;
  [[nodiscard]] virtual std::string path() const = 0;  // for messages
};

class Driver {
 public:
  virtual ~Driver() = default;
  [[nodiscard]] virtual std::string mode() const = 0;  // "v2" or "v1"
  // Which of memory/pids/cpu/cpuset this driver can enforce.
  [[nodiscard]] virtual bool supports(std::string_view controller) const = 0;
  // Creates a leaf named `name` (see next_leaf_name) with `limits` written.
  virtual Result<std::unique_ptr<Leaf>> create(const std::string& name,
                                               const LeafLimits& limits) = 0;
  // An existing leaf `name` under this driver's parent(s), for gc: only kill_all/destroy.
  virtual std::unique_ptr<Leaf> adopt(const std::string& name) = 0;
  // The directories leaves are created in (v1: one per hierarchy).
  [[nodiscard]] virtual std::vector<std::string> parent_dirs() const = 0;
  // Human-readable: the parent cgroup used and the controllers available.
  [[nodiscard]] virtual std::string describe() const = 0;
};

struct DetectOptions {
  std::string parent;  // --cgroup-parent: a cgroup path to create leaves under ("" = detect)
  // Change nothing (doctor, gc): do not enable controllers, create the parent or move cell into
  // its own sub-cgroup; describe what a run would use.
  bool inspect_only = false;
};

// "cell-<pid>-<starttime>-<n>": unique in the process, and gc can tell whether its owner lives.
std::string next_leaf_name();

// The usable driver for this process, or an Error saying why none can be used (rootless
// without delegation, read-only cgroupfs...). Never moves foreign processes.
Result<std::unique_ptr<Driver>> detect(const DetectOptions& opts);

}  // namespace cell::cgroup
