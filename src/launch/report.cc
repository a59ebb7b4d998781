#include "launch/report.hpp"

#include <fstream>

#include "base/errno_names.hpp"
#include "base/strings.hpp"

namespace cell::launch {

using child::Step;

namespace {

struct Hint {
  Step step;
  int err;  // 0: any errno
  const char* text;
};

constexpr Hint kHints[] = {
    {Step::bind_mount, ENOENT, "the source does not exist on the host; check the path given to --bind/--workspace or the profile's mounts"},
    {Step::bind_mount, EACCES, "the source is not accessible to the user cell runs as"},
    {Step::bind_mount, EPERM, "a locked mount flag was dropped, or the source is on a filesystem that cannot be bound in a user namespace"},
    {Step::make_dir, EROFS, "the mount target's parent is read-only; use a target under a new top-level directory or a tmpfs"},
    {Step::make_file, EROFS, "the mount target's parent is read-only; use a target under a new top-level directory or a tmpfs"},
    {Step::mount_proc, EPERM, "procfs can be mounted in a user namespace only where the host's /proc is fully visible (no masked paths over it, e.g. when cell runs inside a container)"},
    {Step::mount_sysfs, EPERM, "sysfs needs a network namespace of the sandbox's own; use --network none|loopback or drop `sys: true`"},
    {Step::pivot_root, EINVAL, "the root is not a mount point or / is on the initramfs (rootfs cannot be pivoted)"},
    {Step::remount_root_readonly, EPERM, "a locked flag (nosuid, nodev, noexec) of the root mount was dropped"},
    {Step::chdir, ENOENT, "the working directory does not exist in the sandbox; pick one under /tmp or a bound directory"},
    {Step::set_uid, EINVAL, "the sandbox uid is not mapped in the user namespace; choose --user within the mapped range"},
    {Step::set_gid, EINVAL, "the sandbox gid is not mapped in the user namespace; choose --user within the mapped range"},
    {Step::load_seccomp, EINVAL, "the kernel rejected the filter (kernel without CONFIG_SECCOMP_FILTER, or no user notification support)"},
    {Step::exec, ENOENT, "the program was not found in the sandbox; with --image host only /usr, /bin, /sbin, /lib* of the host are visible"},
    {Step::exec, EACCES, "the file is not executable by the sandbox user, or lies on a noexec mount"},
    {Step::exec, ENOEXEC, "the file is not a valid executable for this machine (missing #! line?)"},
    {Step::write_uid_map, EPERM, "an unprivileged user may map only its own uid; use --idmap single, or install uidmap and add /etc/subuid entries for --idmap subid"},
    {Step::write_gid_map, EPERM, "an unprivileged user may map only its own gid, after writing 'deny' to setgroups"},
    {Step::set_rlimits, EPERM, "a limit above the caller's own hard limit cannot be granted"},
    {Step::set_hostname, EPERM, "no UTS namespace of the sandbox's own"},
};

std::string describe_item(Step step, int item, const plan::Plan* plan) {
  if (plan == nullptr) return {};
  switch (step) {
    case Step::make_dir: case Step::make_file: case Step::make_symlink: case Step::write_file:
    case Step::bind_mount: case Step::mount_tmpfs: case Step::mount_proc:
    case Step::mount_devpts: case Step::mount_sysfs: case Step::mount_overlay:
    case Step::mask_path: case Step::remount_readonly:
      if (item >= 0 && static_cast<std::size_t>(item) < plan->mount_descriptions.size())
        return plan->mount_descriptions[static_cast<std::size_t>(item)];
      return {};
    case Step::set_rlimits:
      if (item >= 0 && static_cast<std::size_t>(item) < plan->rlimit_names.size())
        return "rlimit " + plan->rlimit_names[static_cast<std::size_t>(item)];
      return {};
    case Step::setup_stdio:
      if (item >= 0 && item < 3) return std::string(item == 0 ? "stdin" : item == 1 ? "stdout" : "stderr");
      return {};
    case Step::exec: {
      if (plan->exec_candidates.size() == 1) return "'" + plan->exec_candidates[0] + "'";
      std::string prog = plan->view.argv && plan->view.argv[0] ? plan->view.argv[0] : "";
      return "'" + prog + "' (looked for in PATH: " + join(plan->exec_candidates, ", ") + ")";
    }
    case Step::drop_bounding_caps: case Step::set_caps:
      return item >= 0 ? "capability " + std::to_string(item) : std::string();
    case Step::pivot_root: case Step::remount_root_readonly:
      return "the root (" + plan->root_display + ")";
    case Step::chdir:
      return plan->view.workdir ? std::string("working directory ") + plan->view.workdir : std::string();
    case Step::write_uid_map: case Step::write_gid_map:
      return plan->idmap.description;
    case Step::join_cgroup:
      if (item >= 0 && static_cast<std::size_t>(item) < plan->join_paths.size())
        return plan->join_paths[static_cast<std::size_t>(item)];
      return {};
    default:
      return {};
  }
}

bool read_flag(const char* path) {
  std::ifstream in(path);
  int v = 0;
  return (in >> v) && v != 0;
}

}  // namespace

std::string userns_hint(int err) {
  if (read_flag("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"))
    return "AppArmor restricts unprivileged user namespaces on this host (Ubuntu 23.10+); allow "
           "them with `sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`, or give cell an "
           "AppArmor profile with `userns,` (see docs/rootless.md)";
  std::ifstream clone_flag("/proc/sys/kernel/unprivileged_userns_clone");
  int v = 1;
  if ((clone_flag >> v) && v == 0)
    return "unprivileged user namespaces are disabled: `sudo sysctl kernel.unprivileged_userns_clone=1`";
  if (err == ENOSPC || err == EUSERS)
    return "the user namespace limit is reached: see /proc/sys/user/max_user_namespaces "
           "(`sudo sysctl user.max_user_namespaces=15000`)";
  if (err == EPERM)
    return "user namespaces are not permitted here (inside a container without them? a seccomp "
           "profile blocking clone? run `cell doctor`)";
  if (err == EINVAL) return "the kernel is too old for clone3 (needs Linux 5.3+; 5.7+ for cgroups)";
  return {};
}

Error setup_error(Step step, int err, int item, const plan::Plan* plan) {
  Error e;
  e.kind = ErrorKind::setup;
  e.step = child::step_name(step);
  e.sys_errno = err;
  e.message = "setup step '" + e.step + "' failed";
  const std::string object = describe_item(step, item, plan);
  if (!object.empty()) e.message += " for " + object;
  e.message += ": " + errno_describe(err);
  if (step == Step::clone || step == Step::write_uid_map || step == Step::write_gid_map ||
      step == Step::write_setgroups || (step == Step::make_mounts_private && err == EPERM))
    e.hint = userns_hint(err);
  for (const Hint& h : kHints)
    if (e.hint.empty() && h.step == step && (h.err == 0 || h.err == err)) e.hint = h.text;
  return e;
}

RunError to_run_error(const Error& e) {
  RunError r;
  r.step = e.step.empty() ? std::string(to_string(e.kind)) : e.step;
  r.errno_name = e.sys_errno ? errno_name(e.sys_errno) : "";
  r.message = e.message;
  r.hint = e.hint;
  return r;
}

}  // namespace cell::launch
