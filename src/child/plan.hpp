// The flat view of a prepared plan the child works from. Only pointers, numbers and arrays:
// everything was built (and looked up) by the parent before clone.
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>

#include <cstddef>
#include <cstdint>

#include "child/steps.hpp"

namespace cell::child {

enum class OpKind : std::uint8_t {
  make_dir,      // mkdir(target, mode); EEXIST is fine
  make_file,     // open(target, O_CREAT) as a bind mount point
  make_symlink,  // symlink(source, target)
  write_file,    // create target with `source` (source_len bytes), mode
  bind,          // bind source on target, then remount with flags (MS_RDONLY, locked flags)
  tmpfs,         // tmpfs on target with data ("size=...,mode=...") and flags
  proc,          // fresh procfs on target
  devpts,        // new devpts instance on target
  sysfs,         // sysfs on target (read-only)
  overlay,       // overlayfs on target with data (lowerdir=...)
  mask,          // hide target: /dev/null bound over a file, an empty read-only tmpfs over a dir
  remount_ro,    // bind target on itself, read-only with flags
  attach,        // move_mount a detached mount the parent prepared (`fd`: idmapped binds)
};

Step step_for(OpKind k) noexcept;

struct MountOp {
  OpKind kind = OpKind::make_dir;
  bool optional = false;  // a missing source or target is skipped, not an error
  const char* source = nullptr;
  std::size_t source_len = 0;
  const char* target = nullptr;  // absolute host-side path under the staging root
  const char* data = nullptr;
  unsigned long flags = 0;  // MS_* flags of the final mount
  unsigned mode = 0755;
  std::int32_t item = -1;  // the number the user sees ("mount #2")
  int fd = -1;             // attach: the detached mount
};

struct RlimitOp {
  int resource = 0;
  struct rlimit value {};
};

struct ChildPlan {
  // pipes
  int go_fd = -1;         // read: one byte once id maps are written; EOF = parent gone
  int go_parent_fd = -1;  // the parent's write end of go: ours is closed so EOF can happen
  int report_fd = -1;     // write: FailureRecord (CLOEXEC: EOF on successful exec)
  int status_fd = -1;     // write: ReaperRecord
  int notify_sock = -1;   // seccomp listener goes here (SCM_RIGHTS); -1 = no notify
  int stdio[3] = {0, 1, 2};

  // cgroup v1: the leaf's `tasks` files (one per hierarchy), written "0" to and closed
  static constexpr unsigned kMaxJoinFds = 8;
  int join_fds[kMaxJoinFds] = {};
  unsigned n_join_fds = 0;

  // identity
  bool become_root = false;  // setresuid/gid(setup ids) after the maps are written
  unsigned setup_uid = 0, setup_gid = 0;
  bool setgroups_allowed = false;
  bool setgroups_may_be_denied = false;  // newgidmap may write "deny": EPERM is expected
  unsigned uid = 65534, gid = 65534;     // the payload's ids inside

  const char* hostname = nullptr;
  bool loopback_up = false;

  // root
  const char* stage = nullptr;  // where the new root is assembled (a mount point)
  const MountOp* mounts = nullptr;
  std::size_t n_mounts = 0;
  bool remount_root = false;  // remount "/" read-only after pivot (tmpfs skeleton)
  unsigned long root_remount_flags = 0;
  const char* workdir = "/";

  const RlimitOp* rlimits = nullptr;
  std::size_t n_rlimits = 0;

  // capabilities: 64-bit masks of caps to keep (normally 0)
  std::uint64_t keep_caps = 0;
  int last_cap = 40;

  // seccomp
  const struct sock_fprog* seccomp = nullptr;  // null = no filter

  // exec: argv[0] candidates in PATH order (all absolute)
  const char* const* exec_paths = nullptr;
  std::size_t n_exec_paths = 0;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
};

// Entry point after clone3() in the child. Never returns.
[[noreturn]] void run_child(const ChildPlan& plan) noexcept;

}  // namespace cell::child
