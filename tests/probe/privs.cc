// cell-probe commands about owners and privilege: chown/chmod/copy (to make a setuid file
// inside the sandbox), dropping to another uid, and each mount's options (nosuid, nodev, ...).
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "probe.hpp"

namespace cell_probe {
namespace {

unsigned long num(const std::string& s, int base = 10) {
  return std::strtoul(s.c_str(), nullptr, base);
}

void cmd_chown(const Args& a) {
  out("chown=%s",
      outcome(::chown(a[0].c_str(), static_cast<uid_t>(num(a[1])), static_cast<gid_t>(num(a[2])))));
}

void cmd_chmod(const Args& a) {
  out("chmod=%s", outcome(::chmod(a[0].c_str(), static_cast<mode_t>(num(a[1], 8)))));
}

// copy SRC DST: a byte copy, mode 0755 (e.g. the probe itself, to a tmpfs).
void cmd_copy(const Args& a) {
  const int in = ::open(a[0].c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return out("copy=%s", err_name(errno));
  const int o = ::open(a[1].c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (o < 0) {
    out("copy=%s", err_name(errno));
    ::close(in);
    return;
  }
  char buf[65536];
  ssize_t n;
  int err = 0;
  while ((n = ::read(in, buf, sizeof buf)) > 0)
    if (::write(o, buf, static_cast<size_t>(n)) != n) {
      err = errno != 0 ? errno : EIO;
      break;
    }
  if (n < 0) err = errno;
  ::close(in);
  if (::close(o) != 0 && err == 0) err = errno;
  out("copy=%s", err != 0 ? err_name(err) : "ok");
}

// drop UID GID: setgroups(none), setresgid, setresuid: all three ids, for the commands after.
void cmd_drop(const Args& a) {
  const auto uid = static_cast<uid_t>(num(a[0]));
  const auto gid = static_cast<gid_t>(num(a[1]));
  if (::setgroups(0, nullptr) != 0 && errno != EPERM) return out("drop=%s", err_name(errno));
  if (::setresgid(gid, gid, gid) != 0) return out("drop=%s", err_name(errno));
  out("drop=%s", outcome(::setresuid(uid, uid, uid)));
}

// One `mount_opts=MOUNTPOINT OPTIONS TYPE` line per mount: the per-mount options of mountinfo
// (field 6: rw/ro, nosuid, nodev, noexec, atime), which decide whether setuid bits count, and
// what the mount point is (dir, file, chr, other; ENOENT etc. when it cannot be seen).
void cmd_mount_opts(const Args&) {
  const int fd = ::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out("mount_opts=%s", err_name(errno));
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  ::close(fd);
  size_t start = 0;
  int count = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    const std::string line = s.substr(start, end - start);
    start = end + 1;
    std::vector<std::string> f;
    for (size_t p = 0; p <= line.size();) {
      size_t q = line.find(' ', p);
      if (q == std::string::npos) q = line.size();
      f.push_back(line.substr(p, q - p));
      p = q + 1;
    }
    if (f.size() < 6) continue;
    struct stat st {};
    const char* type = ::stat(f[4].c_str(), &st) != 0 ? err_name(errno)
                       : S_ISDIR(st.st_mode)          ? "dir"
                       : S_ISREG(st.st_mode)          ? "file"
                       : S_ISCHR(st.st_mode)          ? "chr"
                                                      : "other";
    out("mount_opts=%s %s %s", f[4].c_str(), f[5].c_str(), type);
    ++count;
  }
  out("mounts=%d", count);
}

}  // namespace

const Command kPrivCommands[] = {
    {"chown", 3, cmd_chown, "PATH UID GID"},
    {"chmod", 2, cmd_chmod, "PATH MODE (octal, e.g. 4755)"},
    {"copy", 2, cmd_copy, "SRC DST: copy a file (mode 0755)"},
    {"drop", 2, cmd_drop, "UID GID: setgroups(none), setresgid, setresuid"},
    {"mount-opts", 0, cmd_mount_opts, "every mount point and its per-mount options"},
};
const std::size_t kPrivCommandCount = sizeof kPrivCommands / sizeof kPrivCommands[0];

}  // namespace cell_probe
