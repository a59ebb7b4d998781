// Internal to the child: how a step reports success or failure.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "child/plan.hpp"

namespace cell::child {

struct StepStatus {
  int err = 0;                // errno; 0 means success
  std::int32_t item = -1;     // index into a plan table, -1 if none
  Step step = Step::count_;   // set when a table entry names its own step (mount ops)
};
inline StepStatus ok() noexcept { return {}; }
// Call right after the failing syscall, before anything can change errno.
inline StepStatus failed(std::int32_t item = -1, Step step = Step::count_) noexcept {
  return {errno != 0 ? errno : EIO, item, step};
}

// Id changes as raw system calls. glibc's setgroups/setresuid/setresgid apply the change to
// every thread of the process (__nptl_setxid): after clone3 the child still holds the parent's
// thread list in its copy of memory, signals those threads, and waits forever on any thread the
// parent was creating at that instant (seen from a two-thread embedder: pid 1 stuck in a futex
// until the setup timeout). The kernel call changes the calling thread: all this process has.
inline int set_no_groups() noexcept {
  return static_cast<int>(::syscall(SYS_setgroups, 0, nullptr));
}
inline int set_all_gids(unsigned gid) noexcept {
  return static_cast<int>(::syscall(SYS_setresgid, gid, gid, gid));
}
inline int set_all_uids(unsigned uid) noexcept {
  return static_cast<int>(::syscall(SYS_setresuid, uid, uid, uid));
}

using StepFn = StepStatus (*)(const ChildPlan&) noexcept;
struct StepEntry {
  Step step;
  StepFn run;
};

// Writes one FailureRecord to the report pipe and exits 125.
[[noreturn]] void report_and_exit(const ChildPlan& p, Step step, StepStatus st) noexcept;
// Runs entries in order; reports the first failure.
void run_steps(const ChildPlan& p, const StepEntry* steps, unsigned count) noexcept;

// Step functions, grouped by file.
StepStatus join_cgroup(const ChildPlan& p) noexcept;            // step_process.cc
StepStatus reset_signals(const ChildPlan& p) noexcept;
StepStatus set_parent_death_signal(const ChildPlan& p) noexcept;
StepStatus wait_for_parent(const ChildPlan& p) noexcept;
StepStatus become_ns_root(const ChildPlan& p) noexcept;
StepStatus set_hostname(const ChildPlan& p) noexcept;
StepStatus bring_up_loopback(const ChildPlan& p) noexcept;
StepStatus make_mounts_private(const ChildPlan& p) noexcept;    // step_mounts.cc
StepStatus apply_mount_table(const ChildPlan& p) noexcept;
StepStatus pivot_into_stage(const ChildPlan& p) noexcept;       // step_root.cc
StepStatus detach_old_root(const ChildPlan& p) noexcept;
StepStatus remount_root_readonly(const ChildPlan& p) noexcept;
StepStatus enter_workdir(const ChildPlan& p) noexcept;
StepStatus setup_stdio(const ChildPlan& p) noexcept;            // step_stdio.cc
StepStatus close_fds(const ChildPlan& p) noexcept;
StepStatus spawn_payload(const ChildPlan& p) noexcept;          // reaper.cc
StepStatus new_session(const ChildPlan& p) noexcept;            // step_creds.cc
StepStatus set_rlimits(const ChildPlan& p) noexcept;
StepStatus no_new_privs(const ChildPlan& p) noexcept;
StepStatus drop_bounding_caps(const ChildPlan& p) noexcept;
StepStatus set_groups(const ChildPlan& p) noexcept;
StepStatus set_gid(const ChildPlan& p) noexcept;
StepStatus set_uid(const ChildPlan& p) noexcept;
StepStatus set_caps(const ChildPlan& p) noexcept;
StepStatus load_seccomp(const ChildPlan& p) noexcept;           // step_exec.cc
StepStatus exec_payload(const ChildPlan& p) noexcept;

}  // namespace cell::child
