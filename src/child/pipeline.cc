// The child's setup, in one readable order. Runs after clone3(), before execve():
// syscalls only, over the prepared plan. No heap, no exceptions, no locks, no logging.
#include <unistd.h>

#include "child/step.hpp"

namespace cell::child {

// pid 1 of the new namespaces: from a blank process to an assembled, read-only root.
constexpr StepEntry kSandboxSteps[] = {
    {Step::join_cgroup, join_cgroup},  // first: everything after counts against the run's limits
    {Step::reset_signals, reset_signals},
    {Step::wait_for_parent, wait_for_parent},  // uid/gid maps are written now
    {Step::become_ns_root, become_ns_root},
    {Step::set_parent_death_signal, set_parent_death_signal},  // after: id changes clear it
    {Step::set_hostname, set_hostname},
    {Step::bring_up_loopback, bring_up_loopback},
    {Step::make_mounts_private, make_mounts_private},
    {Step::bind_mount, apply_mount_table},  // each entry reports its own step and number
    {Step::pivot_root, pivot_into_stage},
    {Step::detach_old_root, detach_old_root},
    {Step::remount_root_readonly, remount_root_readonly},
    {Step::setup_stdio, setup_stdio},
    {Step::close_fds, close_fds},
    {Step::chdir, enter_workdir},
    {Step::spawn_payload, spawn_payload},  // pid 1 stays behind as the reaper
};

// pid 2: give up everything, then become the program.
constexpr StepEntry kPayloadSteps[] = {
    {Step::new_session, new_session},  // no controlling tty: no TIOCSTI into the caller's terminal
    {Step::set_rlimits, set_rlimits},
    {Step::no_new_privs, no_new_privs},
    {Step::drop_bounding_caps, drop_bounding_caps},  // needs CAP_SETPCAP: before set_uid
    {Step::set_groups, set_groups},
    {Step::set_gid, set_gid},
    {Step::set_uid, set_uid},
    {Step::set_caps, set_caps},
    {Step::load_seccomp, load_seccomp},  // last: the filter may forbid what setup needed
    {Step::exec, exec_payload},
};

void report_and_exit(const ChildPlan& p, Step step, StepStatus st) noexcept {
  FailureRecord rec;
  rec.step = st.step != Step::count_ ? st.step : step;
  rec.err = st.err;
  rec.item = st.item;
  ssize_t n;
  do n = ::write(p.report_fd, &rec, sizeof rec);
  while (n < 0 && errno == EINTR);
  ::_exit(kSetupFailedExit);  // the exit code is the fallback if the write failed
}

void run_steps(const ChildPlan& p, const StepEntry* steps, unsigned count) noexcept {
  for (unsigned i = 0; i < count; ++i) {
    const StepStatus st = steps[i].run(p);
    if (st.err != 0) report_and_exit(p, steps[i].step, st);
  }
}

void run_child(const ChildPlan& plan) noexcept {
  run_steps(plan, kSandboxSteps, sizeof kSandboxSteps / sizeof kSandboxSteps[0]);
  // Only the payload returns from spawn_payload; the reaper never does.
  run_steps(plan, kPayloadSteps, sizeof kPayloadSteps / sizeof kPayloadSteps[0]);
  ::_exit(kSetupFailedExit);  // unreachable: exec either replaces us or reports
}

}  // namespace cell::child
