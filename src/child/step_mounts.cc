// Child steps that build the new root: private propagation, then the mount table in order.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child/step.hpp"

namespace cell::child {

Step step_for(OpKind k) noexcept {
  switch (k) {
    case OpKind::make_dir:
      return Step::make_dir;
    case OpKind::make_file:
      return Step::make_file;
    case OpKind::make_symlink:
      return Step::make_symlink;
    case OpKind::write_file:
      return Step::write_file;
    case OpKind::bind:
      return Step::bind_mount;
    case OpKind::tmpfs:
      return Step::mount_tmpfs;
    case OpKind::proc:
      return Step::mount_proc;
    case OpKind::devpts:
      return Step::mount_devpts;
    case OpKind::sysfs:
      return Step::mount_sysfs;
    case OpKind::overlay:
      return Step::mount_overlay;
    case OpKind::mask:
      return Step::mask_path;
    case OpKind::remount_ro:
      return Step::remount_readonly;
    case OpKind::attach:
      return Step::bind_mount;
  }
  return Step::count_;
}

// Mount events must not travel back to the host's namespace.
StepStatus make_mounts_private(const ChildPlan&) noexcept {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return failed();
  return ok();
}

namespace {

int create_file(const MountOp& op, int extra_flags) noexcept {
  return ::open(op.target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | extra_flags, op.mode);
}

int do_write_file(const MountOp& op) noexcept {
  const int fd = create_file(op, O_TRUNC);
  if (fd < 0) return -1;
  const char* p = op.source;
  std::size_t left = op.source_len;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      errno = err;
      return -1;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return ::close(fd);
}

// Bind, then apply read-only and the flags the kernel locks on the source (nosuid, nodev...):
// a remount inside a user namespace that drops a locked flag fails with EPERM.
int do_bind(const char* source, const char* target, unsigned long flags) noexcept {
  if (::mount(source, target, nullptr, MS_BIND | (flags & MS_REC), nullptr) != 0) return -1;
  const unsigned long remount = flags & ~static_cast<unsigned long>(MS_REC);
  if (remount == 0) return 0;
  return ::mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | remount, nullptr);
}

int do_mask(const MountOp& op) noexcept {
  struct stat st {};
  if (::lstat(op.target, &st) != 0) return -1;
  if (S_ISDIR(st.st_mode))
    return ::mount("tmpfs", op.target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   "size=0,nr_inodes=1,mode=0555");
  return do_bind(op.source, op.target, op.flags);
}

int apply(const MountOp& op) noexcept {
  switch (op.kind) {
    case OpKind::make_dir:
      return (::mkdir(op.target, op.mode) == 0 || errno == EEXIST) ? 0 : -1;
    case OpKind::make_file: {
      const int fd = create_file(op, 0);
      return fd < 0 ? -1 : ::close(fd);
    }
    case OpKind::make_symlink:
      return (::symlink(op.source, op.target) == 0 || errno == EEXIST) ? 0 : -1;
    case OpKind::write_file:
      return do_write_file(op);
    case OpKind::bind:
      return do_bind(op.source, op.target, op.flags);
    case OpKind::tmpfs:
      return ::mount("tmpfs", op.target, "tmpfs", op.flags, op.data);
    case OpKind::proc:
      return ::mount("proc", op.target, "proc", op.flags, op.data);
    case OpKind::devpts:
      return ::mount("devpts", op.target, "devpts", op.flags, op.data);
    case OpKind::sysfs:
      return ::mount("sysfs", op.target, "sysfs", op.flags, nullptr);
    case OpKind::overlay:
      return ::mount("overlay", op.target, "overlay", op.flags, op.data);
    case OpKind::mask:
      return do_mask(op);
    case OpKind::remount_ro:
      return do_bind(op.target, op.target, op.flags | MS_RDONLY);
    case OpKind::attach:
      return ::move_mount(op.fd, "", AT_FDCWD, op.target, MOVE_MOUNT_F_EMPTY_PATH);
  }
  errno = EINVAL;
  return -1;
}

}  // namespace

StepStatus apply_mount_table(const ChildPlan& p) noexcept {
  for (std::size_t i = 0; i < p.n_mounts; ++i) {
    const MountOp& op = p.mounts[i];
    if (apply(op) == 0) continue;
    if (op.optional && (errno == ENOENT || errno == ENOTDIR)) continue;
    return failed(op.item, step_for(op.kind));
  }
  return ok();
}

}  // namespace cell::child
