// From what the supervisor saw to cell.result/v1.
#pragma once

#include <cell/result.hpp>

#include <optional>

#include "cgroup/cgroup.hpp"
#include "launch/supervise.hpp"
#include "plan/plan.hpp"

namespace cell::launch {

struct VerdictInputs {
  const Outcome* outcome = nullptr;
  const plan::Plan* plan = nullptr;
  std::optional<cgroup::Usage> cgroup_usage;
  Limits limits;                 // effective
  std::uint64_t run_start_ns = 0;  // monotonic, when run() began (setup_ns counts from here)
};

RunResult make_verdict(const VerdictInputs& in);

// Signal names: SIGKILL for 9.
std::string signal_name(int sig);

}  // namespace cell::launch
