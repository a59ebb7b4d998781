// clone3 into the new namespaces, write the id maps, release the child.
#pragma once

#include <cell/error.hpp>

#include <sys/types.h>

#include <cstdint>

#include "base/unique_fd.hpp"
#include "cgroup/cgroup.hpp"
#include "plan/plan.hpp"

namespace cell::launch {

struct Launched {
  pid_t pid = -1;   // host pid of the sandbox's pid 1 (the reaper)
  UniqueFd pidfd;   // pollable: readable when pid 1 exits
  UniqueFd report;  // FailureRecord, or EOF once the payload has exec'd
  UniqueFd status;  // ReaperRecord once the payload has exited
  UniqueFd notify;  // the seccomp listener arrives here (SCM_RIGHTS), if used
  UniqueFd go;      // held while the sandbox runs: its hang-up tells pid 1 that cell is gone
  // The sandbox's mount namespace, held so that unmounting its tree happens when cell drops
  // this (after the usage is read), in cell's own cgroup: not in the run's CPU time.
  UniqueFd mount_ns;
  // pid 1's CPU time when it was released (go), spent before it was joined by pid: not
  // counted in the leaf, so not part of what is taken off the leaf's total as cell's.
  std::uint64_t init_cpu_at_go_ns = 0;
  std::uint64_t clone_ns = 0;
  // When each launch step ended (monotonic), for CELL_DEBUG_TIMING; 0 if it did not run.
  std::uint64_t cloned_ns = 0, joined_ns = 0, mapped_ns = 0, go_ns = 0;
};

struct StdioFds {
  int fd[3] = {0, 1, 2};  // borrowed: what the payload gets as 0, 1, 2
};

// Starts the child and releases it into its setup steps. On failure nothing is left running.
// `use_notify`: create the socket the payload sends its seccomp listener over.
Result<Launched> launch(plan::Plan& plan, const StdioFds& stdio, cgroup::Leaf* leaf,
                        bool use_notify);

// SIGKILL to the sandbox's pid 1: the kernel then kills every process in its pid namespace.
void kill_sandbox(const Launched& l) noexcept;

}  // namespace cell::launch
