// What the sandbox's filesystem looks like: the root (host view, a rootfs directory), /etc,
// a fresh /proc with runc's masked and read-only paths, a minimal /dev, optional /sys, and the
// profile's and request's mounts — in that order.
#include "plan/root_layout.hpp"

#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "base/strings.hpp"
#include "plan/idmapped.hpp"
#include <cell/units.hpp>

namespace cell::plan {

using child::OpKind;

namespace {

constexpr unsigned long kRoBind = MS_RDONLY | MS_NOSUID | MS_NODEV;
constexpr unsigned long kRwBind = MS_NOSUID | MS_NODEV;
constexpr unsigned long kProcFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

// Host directories the `host` image shows, read-only (merged-/usr symlinks are copied).
constexpr const char* kHostTopLevel[] = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"};

// /etc entries the `host` image shows (those that exist), plus prefixes for language runtimes'
// configuration directories that /usr links into.
constexpr const char* kHostEtc[] = {
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "timezone",
    "ssl", "ca-certificates", "ca-certificates.conf", "nsswitch.conf", "host.conf", "gai.conf",
    "protocols", "services", "mime.types", "os-release", "debian_version", "perl", "gcc",
    "fonts", "xml", "sgml", "dpkg"};
constexpr const char* kHostEtcPrefixes[] = {"python3", "java-", "php", "ruby", "node"};

// runc's maskedPaths and readonlyPaths.
constexpr const char* kProcMasked[] = {"/proc/acpi", "/proc/asound", "/proc/kcore",
                                       "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                                       "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi"};
constexpr const char* kProcReadOnly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                         "/proc/sysrq-trigger"};
constexpr const char* kSysMasked[] = {"/sys/firmware", "/sys/devices/virtual/powercap"};
constexpr const char* kDevNodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

std::string read_link(const std::string& path) {
  char buf[4096];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

// Shows host `host_path` at `inside`: symlinks are copied, directories and files bound ro.
void show_host_entry(MountTable& t, int item, const std::string& host_path,
                     const std::string& inside) {
  struct stat st {};
  if (::lstat(host_path.c_str(), &st) != 0) return;
  if (S_ISLNK(st.st_mode)) {
    t.symlink(item, read_link(host_path), inside);
  } else if (S_ISDIR(st.st_mode)) {
    t.mkdir(item, inside);
    t.bind(item, host_path, inside, kRoBind);
    t.covered_by_bind(inside, host_path);
  } else if (S_ISREG(st.st_mode)) {
    t.mkfile(item, inside);
    t.bind(item, host_path, inside, kRoBind);
  }
}

void add_host_tree(MountTable& t) {
  for (const char* name : kHostTopLevel) {
    const std::string p = std::string("/") + name;
    const int item = t.describe("host " + p + " (bind " + p + " -> " + p + ", ro)");
    show_host_entry(t, item, p, p);
  }
}

std::string passwd_text(const Profile& p) {
  std::string s = "root:x:0:0:root:/root:/bin/sh\n";
  if (p.uid != 0 && p.uid != 65534)
    s += "cell:x:" + std::to_string(p.uid) + ":" + std::to_string(p.gid) + "::/tmp:/bin/sh\n";
  return s + "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
}

std::string group_text(const Profile& p) {
  std::string s = "root:x:0:\n";
  if (p.gid != 0 && p.gid != 65534) s += "cell:x:" + std::to_string(p.gid) + ":\n";
  return s + "nogroup:x:65534:\n";
}

void add_host_etc(MountTable& t, const Profile& p) {
  const int item = t.describe("/etc (host files, ro)");
  t.mkdir(item, "/etc");
  std::vector<std::string> names(std::begin(kHostEtc), std::end(kHostEtc));
  if (DIR* d = ::opendir("/etc")) {
    while (const dirent* e = ::readdir(d))
      for (const char* prefix : kHostEtcPrefixes)
        if (starts_with(e->d_name, prefix)) names.emplace_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const std::string& n : names) show_host_entry(t, item, "/etc/" + n, "/etc/" + n);
  if (p.network == Network::host) {
    t.mkfile(item, "/etc/resolv.conf");
    t.bind(item, "/etc/resolv.conf", "/etc/resolv.conf", kRoBind, /*optional=*/true);
  }
  t.write_file(item, "/etc/passwd", passwd_text(p), 0644);
  t.write_file(item, "/etc/group", group_text(p), 0644);
  t.write_file(item, "/etc/hostname", p.hostname + "\n", 0644);
  t.write_file(item, "/etc/hosts", "127.0.0.1\tlocalhost " + p.hostname + "\n::1\tlocalhost\n",
               0644);
}

// Skeleton mode for a rootfs directory: bind its top-level entries into a tmpfs root, so
// mount points it lacks can be created without touching the directory.
void add_dir_tree(MountTable& t, const std::string& dir) {
  const int item = t.describe("rootfs " + dir + " (top-level entries bound ro)");
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n == "." || n == ".." || n == "proc" || n == "dev" || n == "sys" || n == "tmp") continue;
      names.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) show_host_entry(t, item, dir + "/" + n, "/" + n);
}

Result<void> add_proc(MountTable& t) {
  const int item = t.describe("/proc (fresh procfs)");
  CELL_TRY(t.ensure(item, "/proc", false));
  t.mount_fs(item, OpKind::proc, "/proc", "", kProcFlags);
  for (const char* m : kProcMasked) t.mask(t.describe(std::string(m) + " (masked)"), m);
  for (const char* r : kProcReadOnly)
    t.readonly(t.describe(std::string(r) + " (read-only)"), r, kProcFlags);
  return {};
}

Result<void> add_dev(MountTable& t) {
  const int item = t.describe("/dev (minimal tmpfs)");
  CELL_TRY(t.ensure(item, "/dev", false));
  t.mount_fs(item, OpKind::tmpfs, "/dev", "mode=0755,size=64k,nr_inodes=256",
             MS_NOSUID | MS_NOEXEC);
  t.covered_by_tmpfs("/dev");
  for (const char* n : kDevNodes) {
    const std::string p = std::string("/dev/") + n;
    const int node = t.describe("device " + p + " (bind " + p + " -> " + p + ")");
    t.mkfile(node, p);
    t.bind(node, p, p, MS_NOSUID | MS_NOEXEC);
  }
  t.symlink(item, "/proc/self/fd", "/dev/fd");
  t.symlink(item, "/proc/self/fd/0", "/dev/stdin");
  t.symlink(item, "/proc/self/fd/1", "/dev/stdout");
  t.symlink(item, "/proc/self/fd/2", "/dev/stderr");
  const int pts = t.describe("/dev/pts (new devpts instance)");
  t.mkdir(pts, "/dev/pts");
  t.mount_fs(pts, OpKind::devpts, "/dev/pts", "newinstance,ptmxmode=0666,mode=0620",
             MS_NOSUID | MS_NOEXEC);
  t.symlink(pts, "pts/ptmx", "/dev/ptmx");
  const int shm = t.describe("/dev/shm (tmpfs)");
  t.mkdir(shm, "/dev/shm", 01777);
  t.mount_fs(shm, OpKind::tmpfs, "/dev/shm", "mode=1777,size=64m", MS_NOSUID | MS_NODEV);
  // Sealed once populated: with a single-uid map the payload owns this tmpfs and could add
  // entries. /dev/pts and /dev/shm are mounts of their own and stay writable.
  t.mount_fs(item, OpKind::tmpfs, "/dev", "", MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC);
  return {};
}

Result<void> add_sys(MountTable& t, const Profile& p) {
  const int item = t.describe("/sys (read-only)");
  CELL_TRY(t.ensure(item, "/sys", false));
  // A fresh sysfs needs a network namespace of our own; with the host's, bind it instead.
  if (p.network == Network::host)
    t.bind(item, "/sys", "/sys", kRoBind | MS_NOEXEC);
  else
    t.mount_fs(item, OpKind::sysfs, "/sys", "", kRoBind | MS_NOEXEC);
  for (const char* m : kSysMasked) t.mask(t.describe(std::string(m) + " (masked)"), m);
  return {};
}

std::string mount_text(const Mount& m, std::size_t number) {
  std::string s = "mount #" + std::to_string(number) + " (";
  if (m.kind == Mount::Kind::tmpfs) {
    s += "tmpfs " + m.target;
    if (m.size_bytes) s += ", size " + format_size(m.size_bytes);
  } else {
    s += "bind " + m.source + " -> " + m.target + (m.writable ? ", rw" : ", ro");
  }
  if (!m.origin.empty()) s += "; " + m.origin;
  return s + ")";
}

// A writable bind as root: idmapped so the directory's owner is the sandbox user inside.
// Falls back to a plain bind (and says so) where the filesystem cannot be idmapped.
bool add_idmapped_bind(MountTable& t, int item, const Mount& m, const Request& req, Plan& plan) {
  struct stat st {};
  if (req.idmaps == nullptr || ::stat(m.source.c_str(), &st) != 0) return false;
  const Profile& p = req.profile;
  Result<int> ns = req.idmaps->get(st.st_uid, st.st_gid, req.uid_base + p.uid, req.uid_base + p.gid);
  Result<UniqueFd> tree = ns.ok() ? idmapped_tree(m.source, *ns) : Result<UniqueFd>(ns.error());
  if (!tree.ok()) {
    plan.degraded.push_back(m.target + ": not idmapped (" + tree.error().message +
                            "); the sandbox user may lack write access");
    return false;
  }
  t.attach(item, plan.own(std::move(tree).value()), m.target);
  return true;
}

Result<void> add_user_mounts(MountTable& t, const Request& req, Plan& plan) {
  const Profile& p = req.profile;
  std::size_t number = 0;
  for (const Mount& m : p.mounts) {
    const int item = t.describe(mount_text(m, ++number));
    if (m.kind == Mount::Kind::tmpfs) {
      CELL_TRY(t.ensure(item, m.target, false));
      std::string data = "mode=1777";
      if (m.size_bytes) data += ",size=" + std::to_string(m.size_bytes);
      t.mount_fs(item, OpKind::tmpfs, m.target, data, MS_NOSUID | MS_NODEV);
      t.covered_by_tmpfs(m.target);
      continue;
    }
    struct stat st {};
    // A missing source is left for the bind_mount step to report with its errno.
    const bool file = ::stat(m.source.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
    CELL_TRY(t.ensure(item, m.target, file));
    if (!(m.writable && add_idmapped_bind(t, item, m, req, plan)))
      t.bind(item, m.source, m.target, m.writable ? kRwBind : kRoBind);
    if (!file) t.covered_by_bind(m.target, m.source);
  }
  return {};
}

// A rootfs directory can be bound as the root itself when everything we mount on exists in
// it; otherwise its entries are bound into a tmpfs root where mount points can be made.
bool dir_fits_directly(const std::string& dir, const Profile& p, Plan& scratch) {
  MountTable probe(scratch, "");
  probe.covered_by_bind("/", dir);
  for (const char* d : {"/proc", "/dev", "/tmp"})
    if (!probe.resolvable(d, false)) return false;
  if (p.mount_sys && !probe.resolvable("/sys", false)) return false;
  for (const Mount& m : p.mounts) {
    struct stat st {};
    const bool file = m.kind == Mount::Kind::bind && ::stat(m.source.c_str(), &st) == 0 &&
                      !S_ISDIR(st.st_mode);
    if (!probe.resolvable(m.target, file)) return false;
    if (m.kind == Mount::Kind::tmpfs) probe.covered_by_tmpfs(m.target);
  }
  return true;
}

}  // namespace

Result<void> add_root_layout(MountTable& t, const Request& req, Plan& plan) {
  const Profile& p = req.profile;
  const bool host = req.root.kind == RootSource::Kind::host;
  Plan scratch;
  const bool direct = !host && dir_fits_directly(req.root.path, p, scratch);
  const int root = t.describe("the root (" + req.root.display + ")");
  if (direct) {
    t.bind(root, req.root.path, "/", kRoBind);
    t.covered_by_bind("/", req.root.path);
  } else {
    t.mount_fs(root, OpKind::tmpfs, "/", "mode=0755,size=4m,nr_inodes=4096", MS_NOSUID | MS_NODEV);
    t.covered_by_tmpfs("/");
    plan.view.remount_root = true;
    plan.view.root_remount_flags = MS_NOSUID | MS_NODEV;
    if (host) {
      add_host_tree(t);
      add_host_etc(t, p);
    } else {
      add_dir_tree(t, req.root.path);
    }
  }
  CELL_TRY(add_proc(t));
  CELL_TRY(add_dev(t));
  if (p.mount_sys) CELL_TRY(add_sys(t, p));
  CELL_TRY(add_user_mounts(t, req, plan));
  return {};
}

}  // namespace cell::plan
