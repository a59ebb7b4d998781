// Child steps that switch into the assembled root and seal it.
#include <sys/mount.h>
#include <unistd.h>

#include "base/sys.hpp"
#include "child/step.hpp"

namespace cell::child {

// pivot_root(".", ".") stacks the old root on top of the new one; detach_old_root then
// lazily unmounts it, so no path to the host's tree is left.
StepStatus pivot_into_stage(const ChildPlan& p) noexcept {
  if (::chdir(p.stage) != 0) return failed();
  if (sys::pivot_root(".", ".") != 0) return failed();
  return ok();
}

StepStatus detach_old_root(const ChildPlan&) noexcept {
  if (::umount2(".", MNT_DETACH) != 0) return failed();
  if (::chdir("/") != 0) return failed();
  return ok();
}

StepStatus remount_root_readonly(const ChildPlan& p) noexcept {
  if (!p.remount_root) return ok();
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY | p.root_remount_flags, nullptr) != 0)
    return failed();
  return ok();
}

StepStatus enter_workdir(const ChildPlan& p) noexcept {
  if (::chdir(p.workdir) != 0) return failed();
  return ok();
}

}  // namespace cell::child
