// The launcher's step table: every setup action, parent- or child-side, has one name.
// The enum value is what crosses the failure pipe; the name is what the user reads.
#pragma once

#include <cstdint>

namespace cell::child {

#define CELL_STEPS(X)                                                              \
  /* parent side */                                                                \
  X(prepare_plan) X(create_cgroup) X(write_cgroup_limit) X(join_cgroup) X(clone)   \
  X(write_setgroups) X(write_gid_map) X(write_uid_map) X(release_child)            \
  /* child: process and namespaces */                                              \
  X(reset_signals) X(set_parent_death_signal) X(wait_for_parent) X(become_ns_root) \
  X(set_hostname) X(bring_up_loopback) X(make_mounts_private)                      \
  /* child: the mount table (item = mount number) */                               \
  X(make_dir) X(make_file) X(make_symlink) X(write_file) X(bind_mount)             \
  X(mount_tmpfs) X(mount_proc) X(mount_devpts) X(mount_sysfs) X(mount_overlay)     \
  X(mask_path) X(remount_readonly)                                                 \
  /* child: root switch */                                                         \
  X(pivot_root) X(detach_old_root) X(remount_root_readonly)                        \
  /* child: process setup */                                                       \
  X(setup_stdio) X(close_fds) X(chdir) X(spawn_payload)                            \
  /* payload (pid 2) */                                                            \
  X(new_session) X(set_rlimits) X(no_new_privs) X(drop_bounding_caps)              \
  X(set_groups) X(set_gid) X(set_uid) X(set_caps) X(load_seccomp)                  \
  X(send_seccomp_listener) X(exec)

enum class Step : std::uint16_t {
#define CELL_STEP_ENUM(name) name,
  CELL_STEPS(CELL_STEP_ENUM)
#undef CELL_STEP_ENUM
      count_
};

inline constexpr const char* kStepNames[] = {
#define CELL_STEP_NAME(name) #name,
    CELL_STEPS(CELL_STEP_NAME)
#undef CELL_STEP_NAME
};
static_assert(sizeof(kStepNames) / sizeof(kStepNames[0]) == static_cast<int>(Step::count_));

inline constexpr const char* step_name(Step s) noexcept {
  const auto i = static_cast<std::uint16_t>(s);
  return i < static_cast<std::uint16_t>(Step::count_) ? kStepNames[i] : "unknown";
}

// One fixed-size record, written once with write() (atomic: smaller than PIPE_BUF).
struct FailureRecord {
  static constexpr std::uint32_t kMagic = 0x43454c46;  // "CELF"
  std::uint32_t magic = kMagic;
  Step step = Step::count_;
  std::uint16_t reserved = 0;
  std::int32_t err = 0;    // errno
  std::int32_t item = -1;  // index into a plan table (mount number), -1 if none
};

// What the reaper (pid 1) reports once the payload (pid 2) has exited.
struct ReaperRecord {
  static constexpr std::uint32_t kMagic = 0x43454c52;  // "CELR"
  std::uint32_t magic = kMagic;
  std::int32_t wait_status = 0;
  std::int64_t user_ns = 0;     // payload + its waited-for descendants + reaped orphans
  std::int64_t sys_ns = 0;
  std::int64_t maxrss_kb = 0;   // largest ru_maxrss seen
  std::int32_t orphans_reaped = 0;
  std::int32_t reserved = 0;
};

inline constexpr int kSetupFailedExit = 125;

}  // namespace cell::child
