// cell doctor: probes the host for real (short-lived children try each feature).
#include <cell/doctor.hpp>
#include <cell/runtime.hpp>

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>

#include "base/errno_names.hpp"
#include "base/io.hpp"
#include "base/strings.hpp"
#include "cgroup/cgroup.hpp"
#include "launch/report.hpp"
#include "plan/idmap.hpp"
#include "runtime/paths.hpp"

namespace cell {

bool DoctorReport::can_run() const {
  for (const DoctorCheck& c : checks)
    if (c.required && !c.ok) return false;
  return true;
}

namespace {

std::string read_trimmed(const std::string& path) {
  auto r = read_file(path, 4096);
  return r.ok() ? std::string(trim(*r)) : std::string();
}

// Runs `fn` in a forked child; true if it returned 0.
bool in_child(const std::function<int()>& fn) {
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) ::_exit(fn());
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

// 0, or the errno of the map write that failed.
int write_self_maps(uid_t uid, gid_t gid) {
  const std::string u = "0 " + std::to_string(uid) + " 1";
  const std::string g = "0 " + std::to_string(gid) + " 1";
  for (const auto& [file, text] :
       {std::pair<const char*, std::string>{"/proc/self/setgroups", "deny"},
        {"/proc/self/gid_map", g},
        {"/proc/self/uid_map", u}})
    if (auto w = write_existing_file(file, text); !w.ok())
      return w.error().sys_errno ? w.error().sys_errno : EIO;
  return 0;
}

// The steps of the user-namespace probe, as the child reports them.
enum class UsernsStep : int { none, drop_to_uid, unshare, write_maps, make_private };
constexpr const char* kUsernsStepNames[] = {"", "switching to uid",
                                            "unshare(CLONE_NEWUSER|CLONE_NEWNS)",
                                            "writing uid_map/gid_map", "making / private"};

struct ProbeFailure {
  UsernsStep step = UsernsStep::none;
  int err = 0;
};

// Runs `fn` in a forked child; what it returned comes back through a pipe.
ProbeFailure probe_in_child(const std::function<ProbeFailure()>& fn) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {UsernsStep::unshare, errno};
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return {UsernsStep::unshare, err};
  }
  if (pid == 0) {
    const ProbeFailure f = fn();
    const int out[2] = {static_cast<int>(f.step), f.err};
    ::_exit(write_full(fds[1], out, sizeof out) == 0 ? 0 : 1);
  }
  ::close(fds[1]);
  int in[2] = {static_cast<int>(UsernsStep::unshare), EIO};  // the child died without a word
  (void)read_full(fds[0], in, sizeof in);
  ::close(fds[0]);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return {static_cast<UsernsStep>(in[0]), in[1]};
}

// launch::userns_hint, except that its generic EPERM hint sends the user to `cell doctor`.
std::string doctor_userns_hint(int err) {
  std::string hint = launch::userns_hint(err);
  if (err == EPERM && hint.find("cell doctor") != std::string::npos)
    hint =
        "user namespaces are not permitted here: in a container, run it with a seccomp profile "
        "that allows unshare/clone with CLONE_NEWUSER (docker: --security-opt "
        "seccomp=unconfined); on the host, check kernel.unprivileged_userns_clone and the "
        "AppArmor/SELinux policy";
  if (hint.empty()) hint = "see docs/rootless.md";
  return hint;
}

DoctorCheck check_userns(const std::string& who, uid_t as_uid) {
  DoctorCheck c{"userns (" + who + ")", false, ::geteuid() == as_uid, "", ""};
  const ProbeFailure f = probe_in_child([&]() -> ProbeFailure {
    if (::geteuid() != as_uid) {
      if (::setgroups(0, nullptr) || ::setresgid(as_uid, as_uid, as_uid) ||
          ::setresuid(as_uid, as_uid, as_uid))
        return {UsernsStep::drop_to_uid, errno};
      ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);  // a uid change made /proc/self root-owned
    }
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return {UsernsStep::unshare, errno};
    if (const int err = write_self_maps(as_uid, as_uid); err != 0)
      return {UsernsStep::write_maps, err};
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      return {UsernsStep::make_private, errno};
    return {};
  });
  c.ok = f.step == UsernsStep::none;
  if (c.ok) {
    c.detail = "user + mount namespaces work";
    return c;
  }
  const std::string step = kUsernsStepNames[static_cast<int>(f.step)];
  if (f.step == UsernsStep::drop_to_uid) {  // a probe that could not start: says nothing of userns
    c.detail =
        "cannot test: " + step + " " + std::to_string(as_uid) + " failed: " + errno_describe(f.err);
    return c;
  }
  c.detail = "cannot create a usable user namespace: " + step + " failed: " + errno_describe(f.err);
  c.fix = doctor_userns_hint(f.err);
  return c;
}

DoctorCheck check_run(const std::string& runtime_dir) {
  DoctorCheck c{"cell run /bin/true", false, true, "", ""};
  RuntimeOptions o;
  o.runtime_dir = runtime_dir;
  auto rt = Runtime::open(o);
  if (!rt.ok()) {
    c.detail = rt.error().what();
    return c;
  }
  RunSpec spec;
  spec.argv = {"true"};
  spec.stdin_ = Stdio::null();
  auto r = rt->run(spec);
  if (!r.ok()) {
    c.detail = r.error().what();
  } else {
    c.ok = r->status == Status::ok;
    c.detail = c.ok       ? "a real sandboxed run succeeded (standard profile, host image)"
               : r->error ? r->error->message
                          : r->message;  // the hint goes in `fix`
    if (!c.ok && r->error) c.fix = r->error->hint;
  }
  return c;
}

// What a run would use, without changing anything: the mode, the parent and the controllers.
DoctorCheck check_cgroup() {
  DoctorCheck c{"cgroup", false, false, "", ""};
  const std::string mounts =
      read_file("/proc/self/mounts").ok() ? *read_file("/proc/self/mounts") : "";
  const bool v1 = mounts.find(" cgroup ") != std::string::npos;
  const bool v2 = mounts.find(" cgroup2 ") != std::string::npos;
  const std::string mode = v1 && v2 ? "hybrid (v1 controllers + cgroup2)"
                           : v2     ? "v2"
                           : v1     ? "v1"
                                    : "none";
  auto d = cgroup::detect({.parent = "", .inspect_only = true});
  if (!d.ok()) {
    c.detail = "host " + mode + "; no usable cgroup: " + d.error().message;
    c.fix = (d.error().hint.empty() ? "" : d.error().hint + "; ") +
            "until then memory and pids limits degrade to RLIMIT_AS/RLIMIT_NPROC, cpus/cpuset are "
            "not enforced";
    return c;
  }
  std::vector<std::string> missing;
  for (const char* ctl : {"memory", "pids", "cpu", "cpuset"})
    if (!(*d)->supports(ctl)) missing.push_back(ctl);
  c.ok = missing.empty();
  c.detail = "host " + mode + "; runs use " + (*d)->describe();
  if (!c.ok)
    c.fix = "delegate " + join(missing, ", ") +
            " to cell's cgroup (systemd: Delegate=yes) or pass --cgroup-parent; those limits "
            "degrade meanwhile";
  return c;
}

DoctorCheck check_seccomp() {
  DoctorCheck c{"seccomp", false, true, "", ""};
  const std::string actions = read_trimmed("/proc/sys/kernel/seccomp/actions_avail");
  c.ok = ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 && !actions.empty();
  c.detail = c.ok ? "filters available; actions: " + actions : "seccomp filters are not available";
  if (c.ok && actions.find("user_notif") == std::string::npos)
    c.detail += " (no user_notif: violations are reported without the syscall name)";
  if (!c.ok) c.fix = "a kernel with CONFIG_SECCOMP_FILTER is needed";
  return c;
}

DoctorCheck check_idmap_helpers() {
  DoctorCheck c{"newuidmap/newgidmap", false, false, "", ""};
  struct stat st {};
  const bool helper =
      ::stat("/usr/bin/newuidmap", &st) == 0 && ::stat("/usr/bin/newgidmap", &st) == 0;
  const auto range = plan::find_subid_range("/etc/subuid", ::geteuid());
  c.ok = helper && range.has_value();
  c.detail = std::string(helper ? "installed" : "not installed") + "; /etc/subuid " +
             (range ? "grants " + std::to_string(range->count) + " ids from " +
                          std::to_string(range->start)
                    : "has no range for this user");
  if (!c.ok)
    c.fix =
        "only needed for --idmap subid: apt-get install uidmap; usermod --add-subuids "
        "100000-165535 --add-subgids 100000-165535 USER";
  return c;
}

DoctorCheck check_apparmor() {
  DoctorCheck c{"AppArmor userns restriction", true, false, "", ""};
  const std::string v = read_trimmed("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  c.ok = v.empty() || v == "0";
  c.detail = v.empty() ? "not present" : "apparmor_restrict_unprivileged_userns = " + v;
  if (!c.ok) c.fix = doctor_userns_hint(EPERM);
  return c;
}

DoctorCheck check_overlay(const std::string& runtime_dir) {
  DoctorCheck c{"overlayfs in a user namespace", false, false, "", ""};
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  const std::string stage = runtime_dir + "/stage";
  (void)make_dirs(stage);
  c.ok = in_child([&] {
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0 || write_self_maps(uid, gid) != 0) return 1;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 1;
    if (::mount("tmpfs", stage.c_str(), "tmpfs", 0, "size=1m") != 0) return 1;
    for (const char* d : {"/l", "/u", "/w", "/m"})
      if (::mkdir((stage + d).c_str(), 0755) != 0) return 1;
    const std::string opts =
        "lowerdir=" + stage + "/l,upperdir=" + stage + "/u,workdir=" + stage + "/w";
    return ::mount("overlay", (stage + "/m").c_str(), "overlay", 0, opts.c_str()) == 0 ? 0 : 1;
  });
  c.detail = c.ok ? "works (kernel 5.11+)" : "not available: images are used as plain directories";
  return c;
}

}  // namespace

DoctorReport run_doctor(const std::string& runtime_dir_in) {
  const std::string runtime_dir =
      runtime_dir_in.empty() ? runtime::default_runtime_dir() : runtime_dir_in;
  DoctorReport r;
  const uid_t me = ::geteuid();
  r.checks.push_back(check_userns(me == 0 ? "root" : "this user", me));
  if (me == 0) {
    DoctorCheck other = check_userns("unprivileged users", 65534);
    other.required = false;
    r.checks.push_back(other);
  }
  r.checks.push_back(check_apparmor());
  r.checks.push_back(check_seccomp());
  r.checks.push_back(check_cgroup());
  r.checks.push_back(check_idmap_helpers());
  r.checks.push_back(check_overlay(runtime_dir));
  r.checks.push_back(check_run(runtime_dir));
  return r;
}

}  // namespace cell
