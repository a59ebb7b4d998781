// Payload steps that give up privilege: session, rlimits, no_new_privs, capabilities, ids.
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child/step.hpp"

namespace cell::child {

namespace {

int capset_masks(std::uint64_t effective, std::uint64_t permitted, std::uint64_t inheritable) noexcept {
  struct __user_cap_header_struct hdr {};
  hdr.version = _LINUX_CAPABILITY_VERSION_3;
  hdr.pid = 0;
  struct __user_cap_data_struct data[2] {};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = static_cast<std::uint32_t>(effective >> (32 * i));
    data[i].permitted = static_cast<std::uint32_t>(permitted >> (32 * i));
    data[i].inheritable = static_cast<std::uint32_t>(inheritable >> (32 * i));
  }
  return static_cast<int>(::syscall(SYS_capset, &hdr, data));
}

}  // namespace

int clear_all_caps() noexcept { return capset_masks(0, 0, 0); }

StepStatus new_session(const ChildPlan&) noexcept {
  if (::setsid() < 0) return failed();
  return ok();
}

StepStatus set_rlimits(const ChildPlan& p) noexcept {
  for (std::size_t i = 0; i < p.n_rlimits; ++i) {
    const RlimitOp& r = p.rlimits[i];
    if (::setrlimit(static_cast<__rlimit_resource>(r.resource), &r.value) != 0)
      return failed(static_cast<std::int32_t>(i));
  }
  return ok();
}

StepStatus no_new_privs(const ChildPlan&) noexcept {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failed();
  return ok();
}

StepStatus drop_bounding_caps(const ChildPlan& p) noexcept {
  for (int cap = 0; cap <= p.last_cap; ++cap) {
    if (p.keep_caps & (1ull << cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
      return failed(cap);
  }
  return ok();
}

StepStatus set_groups(const ChildPlan& p) noexcept {
  if (!p.setgroups_allowed) return ok();  // "deny" was written: the kernel refuses setgroups
  if (set_no_groups() != 0 && !(errno == EPERM && p.setgroups_may_be_denied))
    return failed();
  return ok();
}

StepStatus set_gid(const ChildPlan& p) noexcept {
  if (set_all_gids(p.gid) != 0) return failed();
  return ok();
}

StepStatus set_uid(const ChildPlan& p) noexcept {
  // Kept capabilities must survive the uid change to be raised as ambient below.
  if (p.keep_caps != 0 && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return failed();
  if (set_all_uids(p.uid) != 0) return failed();
  return ok();
}

StepStatus set_caps(const ChildPlan& p) noexcept {
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return failed();
  if (capset_masks(p.keep_caps, p.keep_caps, p.keep_caps) != 0) return failed();
  for (int cap = 0; cap <= p.last_cap; ++cap) {
    if (!(p.keep_caps & (1ull << cap))) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) return failed(cap);
  }
  return ok();
}

}  // namespace cell::child
