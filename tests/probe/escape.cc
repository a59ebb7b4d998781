// cell-probe commands that try to leave the sandbox's file system and namespaces: writes
// through odd paths, device nodes, chroot and open-directory tricks, remounts, a nested user
// namespace. Each prints what the kernel answered; the tests decide what is contained.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "probe.hpp"

namespace cell_probe {
namespace {

// Opens for writing without creating or truncating: enough to learn whether a write would
// be allowed, without changing anything if it unexpectedly is.
void cmd_open_w(const Args& a) {
  const int fd = ::open(a[0].c_str(), O_WRONLY | O_CLOEXEC);
  out("open_w=%s", outcome(fd));
  if (fd >= 0) ::close(fd);
}

// mknod PATH: the character device /dev/mem is (1, 1); then try to open what was made.
void cmd_mknod(const Args& a) {
  const int rc = ::mknod(a[0].c_str(), S_IFCHR | 0666, ::makedev(1, 1));
  out("mknod=%s", outcome(rc));
  if (rc != 0) return;
  const int fd = ::open(a[0].c_str(), O_RDONLY | O_CLOEXEC);
  out("mknod_open=%s", outcome(fd));
  if (fd >= 0) ::close(fd);
}

void cmd_statfs(const Args& a) {
  struct statvfs s {};
  if (::statvfs(a[0].c_str(), &s) != 0) return out("statfs=%s", err_name(errno));
  out("statfs=ok\nstatfs_bytes=%llu\nstatfs_ro=%d",
      static_cast<unsigned long long>(s.f_blocks) * s.f_frsize, (s.f_flag & ST_RDONLY) ? 1 : 0);
}

// stat PATH: mode (octal, with the file type) and owner as the sandbox sees them.
void cmd_stat(const Args& a) {
  struct stat st {};
  if (::stat(a[0].c_str(), &st) != 0) return out("stat=%s", err_name(errno));
  out("stat=ok\nstat_mode=%o\nstat_uid=%u\nstat_gid=%u", st.st_mode, st.st_uid, st.st_gid);
}

void cmd_link(const Args& a) {
  out("link=%s", outcome(::link(a[0].c_str(), a[1].c_str())));
}

void cmd_rename(const Args& a) {
  out("rename=%s", outcome(::rename(a[0].c_str(), a[1].c_str())));
}

void cmd_symlink(const Args& a) {
  out("symlink=%s", outcome(::symlink(a[0].c_str(), a[1].c_str())));
}

// Whether MARKER (an absolute host path) is reachable relative to the current directory, which
// the escape attempts have just walked up as far as the kernel lets them.
const char* marker_seen_from_cwd(const std::string& marker) {
  const std::string rel = marker.substr(marker.find_first_not_of('/'));
  if (::access(rel.c_str(), F_OK) == 0) return "visible";
  return err_name(errno);
}

void walk_up() {
  for (int i = 0; i < 64; ++i)
    if (::chdir("..") != 0) break;
}

// The classic chroot break-out: keep a directory fd, chroot into a subdirectory, fchdir back
// to the fd (now outside the root), walk up with "..", chroot("."). Then the plain ".." walk
// from "/" that the pivoted root must stop.
void cmd_chroot_escape(const Args& a) {
  const std::string& marker = a[0];
  const int keep = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ::mkdir("/tmp/cell-jail", 0755);
  const int rc = ::chroot("/tmp/cell-jail");
  out("chroot=%s", outcome(rc));
  if (rc == 0 && keep >= 0 && ::fchdir(keep) == 0) {
    walk_up();
    out("chroot_escape_root=%s", outcome(::chroot(".")));
    out("chroot_escape_marker=%s", marker_seen_from_cwd(marker));
    out("chroot_escape_abs_marker=%s", ::access(marker.c_str(), F_OK) == 0 ? "visible" : "absent");
  }
  if (keep >= 0) ::close(keep);
  if (::chdir("/") == 0) walk_up();
  struct stat root {
  }, here{};
  ::stat("/", &root);
  ::stat(".", &here);
  out("dotdot_stays_at_root=%d", root.st_dev == here.st_dev && root.st_ino == here.st_ino);
  out("dotdot_marker=%s", marker_seen_from_cwd(marker));
}

// Every inherited descriptor (stdio included) that is a directory: fchdir into it, walk up (the
// runc CVE-2024-21626 shape). The payload should have none.
void cmd_fd_escape(const Args& a) {
  int dirs = 0;
  bool seen = false;
  for (int fd = 0; fd < 1024; ++fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    ++dirs;
    if (::fchdir(fd) != 0) continue;
    walk_up();
    if (std::strcmp(marker_seen_from_cwd(a[0]), "visible") == 0) seen = true;
  }
  out("fd_dirs=%d\nfd_marker=%s", dirs, seen ? "visible" : "absent");
  if (::chdir("/") != 0) out("chdir=%s", err_name(errno));
}

// A fresh tmpfs pivoted to as the root, the old root kept at /old: from there, walk up and
// look for MARKER (a host path). Needs a nested user namespace (unshare-user) and no filter.
void cmd_pivot_escape(const Args& a) {
  ::mkdir("/tmp/pivot", 0755);
  if (::mount("tmpfs", "/tmp/pivot", "tmpfs", 0, nullptr) != 0)
    return out("pivot=%s", err_name(errno));
  ::mkdir("/tmp/pivot/old", 0755);
  const long rc = ::syscall(SYS_pivot_root, "/tmp/pivot", "/tmp/pivot/old");
  out("pivot=%s", outcome(rc));
  if (rc != 0) return;
  if (::chdir("/old") == 0) walk_up();
  out("pivot_marker=%s", marker_seen_from_cwd(a[0]));
  const std::string via_old = "/old" + a[0];
  out("pivot_old_marker=%s", ::access(via_old.c_str(), F_OK) == 0 ? "visible" : "absent");
}

// remount PATH ro|rw: a bind remount (changing only the per-mount flags).
void cmd_remount(const Args& a) {
  const unsigned long ro = a[1] == "ro" ? MS_RDONLY : 0;
  out("remount=%s",
      outcome(::mount(nullptr, a[0].c_str(), nullptr, MS_REMOUNT | MS_BIND | ro, nullptr)));
}

void cmd_umount(const Args& a) {
  out("umount=%s", outcome(::umount2(a[0].c_str(), MNT_DETACH)));
}

// mount-fs TYPE PATH: a fresh file system of TYPE (proc, sysfs, tmpfs, cgroup2, ...) at PATH,
// creating PATH under /tmp when needed.
void cmd_mount_fs(const Args& a) {
  ::mkdir(a[1].c_str(), 0755);
  out("mount_%s=%s", a[0].c_str(),
      outcome(::mount(a[0].c_str(), a[1].c_str(), a[0].c_str(), 0, nullptr)));
}

bool write_text(const char* path, const std::string& text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// A nested user + mount namespace in which the probe is root with every capability (of that
// namespace only). The commands after it run inside: remounts, umounts of masks, new mounts.
void cmd_unshare_user(const Args&) {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return out("unshare=%s", err_name(errno));
  out("unshare=ok");
  const bool maps = write_text("/proc/self/setgroups", "deny") &&
                    write_text("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") &&
                    write_text("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
  out("userns_maps=%s", maps ? "ok" : err_name(errno));
}

void cmd_sethostname(const Args& a) {
  out("sethostname=%s", outcome(::sethostname(a[0].c_str(), a[0].size())));
  out("setdomainname=%s", outcome(::setdomainname(a[0].c_str(), a[0].size())));
  utsname u{};
  ::uname(&u);
  out("hostname=%s", u.nodename);
}

}  // namespace

extern const Command kEscapeCommands[] = {
    {"open-w", 1, cmd_open_w, "PATH: open for writing (no create, no truncate)"},
    {"mknod", 1, cmd_mknod, "PATH: make a /dev/mem node (char 1,1) there, open it"},
    {"statfs", 1, cmd_statfs, "PATH: size and read-only flag of its file system"},
    {"stat", 1, cmd_stat, "PATH: mode and owner"},
    {"link", 2, cmd_link, "OLD NEW: hard link"},
    {"rename", 2, cmd_rename, "OLD NEW"},
    {"symlink", 2, cmd_symlink, "TARGET LINK"},
    {"chroot-escape", 1, cmd_chroot_escape, "MARKER: chroot + fchdir + '..' break-out attempts"},
    {"fd-escape", 1, cmd_fd_escape, "MARKER: fchdir to inherited directory fds, walk up"},
    {"pivot-escape", 1, cmd_pivot_escape, "MARKER: pivot_root to a tmpfs, look from the old root"},
    {"remount", 2, cmd_remount, "PATH ro|rw: bind remount"},
    {"umount", 1, cmd_umount, "PATH: detach"},
    {"mount-fs", 2, cmd_mount_fs, "TYPE PATH: mount a fresh file system"},
    {"unshare-user", 0, cmd_unshare_user, "enter a nested user+mount namespace as its root"},
    {"sethostname", 1, cmd_sethostname, "NAME: set host and domain name"},
};
extern const std::size_t kEscapeCommandCount = sizeof kEscapeCommands / sizeof kEscapeCommands[0];

}  // namespace cell_probe
