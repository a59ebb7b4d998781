// Escapes through the file system: writes to the read-only root and binds through every path
// that reaches them, host symlinks, hard links, host secrets, raw devices, /proc/sys and /sys,
// host cgroup files, chroot and open-directory break-outs, remounts and a nested user
// namespace trying to undo the sandbox's mounts.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <sstream>

#include "security/cli.hpp"
#include "security/common.hpp"

namespace cell::test::sec {
namespace {

namespace fs = std::filesystem;
using ::testing::AnyOf;
using ::testing::Eq;
using ::testing::Ne;

std::vector<std::string> tree(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) names.push_back(e.path().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(WriteEscape, RootAndReadOnlyBindsStayReadOnlyThroughEveryPath) {
  CELL_REQUIRE(Need::sandbox);
  TempDir ro("cell-sec-ro"), rw("cell-sec-rw");
  ro.write("file", "original\n");
  ::chmod(ro.path().c_str(), 0755);
  ::chmod(rw.path().c_str(), 0777);
  const std::vector<std::string> ro_before = tree(ro.path());
  const ProbeRun r =
      run_probe({"write",      "/proc/self/root/new", "write",         "/proc/2/root/new",
                 "write",      "/proc/1/root/new",    "open-w",        "/data/file",
                 "write",      "/data/new",           "write",         "/out/../cell-probe",
                 "link",       "/cell-probe",         "/out/hardlink", "link",
                 "/data/file", "/out/hardlink2",      "rename",        "/data/file",
                 "/out/moved"},
                [&](RunSpec& s) {
                  s.mounts.push_back({Mount::Kind::bind, ro.path(), "/data", false, 0, "test"});
                  s.mounts.push_back({Mount::Kind::bind, rw.path(), "/out", true, 0, "test"});
                });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  const std::vector<std::string> writes = r.facts.all("write");
  ASSERT_EQ(writes.size(), 5u) << r.describe();
  for (const std::string& w : writes)
    EXPECT_THAT(w, AnyOf(Eq("EROFS"), Eq("EACCES"))) << r.describe();
  EXPECT_THAT(r.facts.get("open_w"), AnyOf(Eq("EROFS"), Eq("EACCES")));
  for (const std::string& l : r.facts.all("link")) EXPECT_EQ(l, "EXDEV") << r.describe();
  EXPECT_THAT(r.facts.get("rename"), AnyOf(Eq("EXDEV"), Eq("EROFS")));
  EXPECT_EQ(tree(ro.path()), ro_before);
  EXPECT_EQ(ro.read("file"), "original\n");
  EXPECT_EQ(tree(rw.path()), std::vector<std::string>{}) << "something landed in the rw bind";
}

// Symlinks the host put in a writable bind resolve inside the sandbox: they cannot lead a
// write back out to where they point on the host.
TEST(WriteEscape, HostSymlinksInAWritableBindResolveInsideTheSandbox) {
  CELL_REQUIRE(Need::sandbox);
  TempDir rw("cell-sec-rw"), target("cell-sec-target");
  ::chmod(rw.path().c_str(), 0777);
  ::chmod(target.path().c_str(), 0777);  // writable for the sandbox's host uid, if it got there
  fs::create_symlink(target.path(), rw.sub("abs"));
  fs::create_symlink("../../../../../../.." + target.path(), rw.sub("rel"));
  const ProbeRun r =
      run_probe({"write", "/out/abs/pwned", "write", "/out/rel/pwned", "mkdir", "/out/abs/dir"},
                [&](RunSpec& s) {
                  s.mounts.push_back({Mount::Kind::bind, rw.path(), "/out", true, 0, "test"});
                });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  for (const std::string& w : r.facts.all("write")) EXPECT_NE(w, "ok") << r.describe();
  EXPECT_NE(r.facts.get("mkdir"), "ok");
  EXPECT_EQ(tree(target.path()), std::vector<std::string>{}) << "a write reached the host target";
}

// The remount the filter kills; without the filter the kernel refuses (no capability); in a
// nested user namespace (root there, every capability) the sandbox's mounts are locked.
TEST(WriteEscape, ReadOnlyMountsCannotBeRemountedWritable) {
  CELL_REQUIRE(Need::sandbox);
  TempDir ro("cell-sec-ro");
  ::chmod(ro.path().c_str(), 0755);
  auto bind = [&](RunSpec& s) {
    s.mounts.push_back({Mount::Kind::bind, ro.path(), "/data", false, 0, "test"});
  };
  const ProbeRun filtered = run_probe({"remount", "/data", "rw", "echo", "after=1"}, bind);
  expect_violation(filtered, "mount");

  const std::vector<std::string> attempts = {"remount", "/",       "rw",        "remount", "/data",
                                             "rw",      "remount", "/proc/sys", "rw",      "write",
                                             "/new",    "write",   "/data/new"};
  std::vector<std::string> nested = {"unshare-user", "status"};
  nested.insert(nested.end(), attempts.begin(), attempts.end());
  for (const auto& args : {attempts, nested}) {
    const ProbeRun r = run_probe(args, [&](RunSpec& s) {
      bind(s);
      no_filter(s);
    });
    ASSERT_EQ(r.result.status, Status::ok) << r.describe();
    for (const std::string& m : r.facts.all("remount")) EXPECT_EQ(m, "EPERM") << r.describe();
    for (const std::string& w : r.facts.all("write")) EXPECT_EQ(w, "EROFS") << r.describe();
    if (r.facts.has("unshare")) {
      ASSERT_EQ(r.facts.get("unshare"), "ok") << "nested user namespaces are a kernel feature";
      EXPECT_NE(r.facts.get("CapEff"), "0000000000000000") << "the probe is root in its userns";
    }
  }
  EXPECT_TRUE(fs::is_empty(ro.path()));
}

TEST(Secrets, HostFilesAreNotVisibleByAnyRoute) {
  CELL_REQUIRE(Need::sandbox);
  ASSERT_TRUE(fs::exists("/etc/shadow")) << "this check needs a host /etc/shadow";
  const HostSecret secret;
  std::vector<std::string> args;
  for (const std::string& p :
       {std::string("/etc/shadow"), std::string("/etc/gshadow"), secret.path})
    for (const char* via :
         {"", "/proc/self/root", "/proc/1/root", "/proc/2/root", "/proc/1/cwd/../.."})
      args.insert(args.end(), {"read", via + p});
  for (const bool host_image : {false, true}) {
    SCOPED_TRACE(host_image ? "host image" : "test rootfs");
    const ProbeRun r = run_probe(args, [&](RunSpec& s) {
      if (host_image) use_host_image(s);
    });
    ASSERT_EQ(r.result.status, Status::ok) << r.describe();
    const std::vector<std::string> reads = r.facts.all("read");
    ASSERT_EQ(reads.size(), args.size() / 2) << r.describe();
    for (const std::string& v : reads)
      EXPECT_THAT(v, AnyOf(Eq("ENOENT"), Eq("EACCES"))) << r.describe();
  }
}

// A root-only file (0600, host root) in a host directory bound read-only into the sandbox: it
// is visible there but unreadable, as the profile's user and as root inside (no capability
// over files of the host's root, who is not even mapped), from the root run and rootless.
// A world-readable file next to it is the control that the bind works.
TEST(Secrets, ARootOnlyHostFileInABindIsUnreadable) {
  CELL_REQUIRE(Need::sandbox, Need::root);
  const TempDir dir("cell-sec-rootonly");
  ::chmod(dir.path().c_str(), 0755);
  dir.write("secret", "root only\n", 0600);
  dir.write("public", "anyone\n", 0644);
  ASSERT_EQ(::chown(dir.sub("secret").c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod(dir.sub("secret").c_str(), 0600), 0);
  const std::vector<std::string> args = {"stat", "/secret/secret", "read", "/secret/secret",
                                         "read", "/secret/public", "ids"};
  auto check = [](const Facts& f, const std::string& text) {
    EXPECT_EQ(f.get("stat"), "ok") << "the bind is not there\n" << text;
    EXPECT_EQ(f.get("stat_mode"), "100600") << text;
    const std::vector<std::string> reads = f.all("read");
    ASSERT_EQ(reads.size(), 2u) << text;
    EXPECT_EQ(reads[0], "EACCES") << "the root-only file was readable\n" << text;
    EXPECT_EQ(reads[1], "ok") << "control: the public file must be readable\n" << text;
  };
  for (const char* profile : {"standard", "minimal"}) {
    SCOPED_TRACE(profile);
    const ProbeRun r = run_probe(args, [&](RunSpec& s) {
      s.profile = profile;
      s.mounts.push_back({Mount::Kind::bind, dir.path(), "/secret", false, 0, "test"});
    });
    ASSERT_EQ(r.result.status, Status::ok) << r.describe();
    check(r.facts, r.describe());
    EXPECT_EQ(r.facts.get("uid"), std::string(profile) == "minimal" ? "0" : "65534");
    // Rootless: the same, run by the CLI as an unprivileged user.
    std::vector<std::string> cli = {"run",
                                    "--profile",
                                    profile,
                                    "--rootfs",
                                    shared_rootfs().path(),
                                    "--bind",
                                    dir.path() + ":/secret:ro",
                                    "--",
                                    "/cell-probe"};
    cli.insert(cli.end(), args.begin(), args.end());
    const Finished f = cell_as(65534, 65534, cli);
    ASSERT_EQ(f.exit_code, 0) << f.describe();
    check(Facts(f.out), f.describe());
  }
}

// The reaper (pid 1) is not dumpable and keeps no capability: the payload cannot read its
// memory, environment or descriptors (the status pipe to cell is there).
TEST(Secrets, TheReapersProcEntriesAreClosed) {
  CELL_REQUIRE(Need::sandbox);
  for (const auto& tweak :
       {std::function<void(RunSpec&)>{}, std::function<void(RunSpec&)>(no_filter)}) {
    // /proc/1/exe is cell's own binary on the host (the reaper is a fork, not an exec): the
    // runc CVE-2019-5736 shape would open it for writing.
    const ProbeRun r = run_probe(
        {"open", "/proc/1/mem", "open", "/proc/1/exe", "open-w", "/proc/1/exe", "read",
         "/proc/1/environ", "ls", "/proc/1/fd", "ls", "/proc/1/root", "ls", "/proc/1/map_files"},
        tweak);
    ASSERT_EQ(r.result.status, Status::ok) << r.describe();
    for (const std::string& o : r.facts.all("open")) EXPECT_EQ(o, "EACCES") << r.describe();
    EXPECT_EQ(r.facts.get("open_w"), "EACCES") << r.describe();
    EXPECT_EQ(r.facts.get("read"), "EACCES") << r.describe();
    for (const std::string& l : r.facts.all("ls")) EXPECT_THAT(l, AnyOf(Eq("EACCES"), Eq("EPERM")));
  }
}

TEST(Devices, NoRawMemoryDiskOrKernelLog) {
  CELL_REQUIRE(Need::sandbox);
  const std::vector<std::string> args = {
      "open", "/dev/mem",         "open",  "/dev/kmem", "open",  "/dev/port",
      "open", "/dev/kmsg",        "open",  "/dev/sda",  "open",  "/dev/vda",
      "open", "/dev/userfaultfd", "mknod", "/tmp/mem",  "mknod", "/dev/shm/mem"};
  std::vector<std::string> nested = {"unshare-user"};
  nested.insert(nested.end(), args.begin(), args.end());
  for (const auto& [a, tweak] : {std::pair{args, std::function<void(RunSpec&)>{}},
                                 std::pair{nested, std::function<void(RunSpec&)>(no_filter)}}) {
    const ProbeRun r = run_probe(a, tweak);
    ASSERT_EQ(r.result.status, Status::ok) << r.describe();
    for (const std::string& o : r.facts.all("open")) EXPECT_EQ(o, "ENOENT") << r.describe();
    const std::vector<std::string> mknods = r.facts.all("mknod");
    ASSERT_EQ(mknods.size(), 2u) << r.describe();
    for (const std::string& m : mknods) EXPECT_EQ(m, "EPERM") << r.describe();
    EXPECT_FALSE(r.facts.has("mknod_open")) << r.describe();
  }
}

TEST(KernelKnobs, ProcSysAndSysAreReadOnly) {
  CELL_REQUIRE(Need::sandbox);
  const std::string core_pattern = slurp("/proc/sys/kernel/core_pattern");
  const std::vector<std::string> knobs = {"/proc/sys/kernel/core_pattern",
                                          "/proc/sys/kernel/modprobe",
                                          "/proc/sys/vm/drop_caches",
                                          "/proc/sysrq-trigger",
                                          "/proc/sys/kernel/hostname",
                                          "/sys/kernel/uevent_helper",
                                          "/sys/power/state",
                                          "/sys/kernel/mm/transparent_hugepage/enabled"};
  std::vector<std::string> args;
  for (const std::string& k : knobs) args.insert(args.end(), {"open-w", k});
  std::vector<std::string> nested = {"unshare-user", "remount", "/proc/sys", "rw",    "mount-fs",
                                     "proc",         "/tmp/p",  "mount-fs",  "sysfs", "/tmp/s"};
  nested.insert(nested.end(), args.begin(), args.end());
  Profile with_sys = load_profile("standard").value();
  with_sys.mount_sys = true;
  for (const bool nest : {false, true}) {
    const ProbeRun r = run_probe(nest ? nested : args, [&](RunSpec& s) {
      s.profile_value = with_sys;
      if (nest) no_filter(s);
    });
    ASSERT_EQ(r.result.status, Status::ok) << r.describe();
    const std::vector<std::string> opens = r.facts.all("open_w");
    ASSERT_EQ(opens.size(), knobs.size()) << r.describe();
    for (std::size_t i = 0; i < knobs.size(); ++i)
      EXPECT_THAT(opens[i], AnyOf(Eq("EROFS"), Eq("EACCES"), Eq("ENOENT"))) << knobs[i];
    if (nest) {
      EXPECT_EQ(r.facts.get("remount"), "EPERM");
      EXPECT_EQ(r.facts.get("mount_proc"), "EPERM") << "proc of a pid namespace we do not own";
      EXPECT_EQ(r.facts.get("mount_sysfs"), "EPERM") << "sysfs of a net namespace we do not own";
    }
  }
  EXPECT_EQ(slurp("/proc/sys/kernel/core_pattern"), core_pattern);
}

// Host cgroups: /sys/fs/cgroup is absent (no /sys) or an empty, read-only sysfs directory;
// /proc/self/cgroup does not reveal the caller's cgroup paths; cgroupfs cannot be mounted.
TEST(Cgroups, HostCgroupFilesAreOutOfReach) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun plain = run_probe({"ls", "/sys/fs/cgroup", "cat", "/proc/self/cgroup"});
  ASSERT_EQ(plain.result.status, Status::ok) << plain.describe();
  EXPECT_EQ(plain.facts.get("ls"), "ENOENT");

  Profile with_sys = load_profile("standard").value();
  with_sys.mount_sys = true;
  const ProbeRun sys =
      run_probe({"ls", "/sys/fs/cgroup", "write", "/sys/fs/cgroup/cgroup.procs", "write",
                 "/sys/fs/cgroup/memory/cgroup.procs", "unshare-user", "mount-fs", "cgroup2",
                 "/tmp/cg2", "mount-fs", "cgroup", "/tmp/cg1"},
                [&](RunSpec& s) {
                  s.profile_value = with_sys;
                  no_filter(s);
                });
  ASSERT_EQ(sys.result.status, Status::ok) << sys.describe();
  EXPECT_TRUE(sys.facts.all("entry").empty()) << sys.describe();
  for (const std::string& w : sys.facts.all("write"))
    EXPECT_THAT(w, AnyOf(Eq("EROFS"), Eq("ENOENT"), Eq("EACCES"))) << sys.describe();
  EXPECT_EQ(sys.facts.get("mount_cgroup2"), "EPERM");
  EXPECT_EQ(sys.facts.get("mount_cgroup"), "EPERM");

  // Our own cgroup paths (below the namespace root the sandbox gets) must not show inside.
  std::istringstream mine(slurp("/proc/self/cgroup"));
  for (std::string line; std::getline(mine, line);) {
    const std::string path = line.substr(line.rfind(':') + 1);
    if (path.size() <= 1) continue;
    EXPECT_EQ(plain.result.stdout_.data.find(path), std::string::npos)
        << "the sandbox sees the caller's cgroup " << path << "\n"
        << plain.describe();
  }
}

TEST(Chroot, BreakOutsEndAtTheSandboxRoot) {
  CELL_REQUIRE(Need::sandbox);
  const HostSecret secret;
  const std::vector<std::string> attempt = {"chroot-escape", secret.path};
  std::vector<std::string> nested = {"unshare-user"};
  nested.insert(nested.end(), attempt.begin(), attempt.end());

  const ProbeRun plain = run_probe(attempt);
  ASSERT_EQ(plain.result.status, Status::ok) << plain.describe();
  EXPECT_EQ(plain.facts.get("chroot"), "EPERM");
  const ProbeRun root = run_probe(attempt, [](RunSpec& s) { s.profile = "minimal"; });
  ASSERT_EQ(root.result.status, Status::ok) << root.describe();
  EXPECT_EQ(root.facts.get("chroot"), "EPERM") << "root inside has no CAP_SYS_CHROOT";
  // Root of a nested user namespace may chroot, and then break out of that chroot, but
  // only back to the sandbox's root.
  const ProbeRun escaped = run_probe(nested, no_filter);
  ASSERT_EQ(escaped.result.status, Status::ok) << escaped.describe();
  EXPECT_EQ(escaped.facts.get("chroot"), "ok") << escaped.describe();
  EXPECT_NE(escaped.facts.get("chroot_escape_marker"), "visible") << escaped.describe();
  EXPECT_EQ(escaped.facts.get("chroot_escape_abs_marker"), "absent") << escaped.describe();
  // pivot_root into a tmpfs of its own: the old root it keeps is the sandbox's, not the host's.
  const ProbeRun pivoted = run_probe({"unshare-user", "pivot-escape", secret.path}, no_filter);
  ASSERT_EQ(pivoted.result.status, Status::ok) << pivoted.describe();
  EXPECT_EQ(pivoted.facts.get("pivot"), "ok") << pivoted.describe();
  EXPECT_NE(pivoted.facts.get("pivot_marker"), "visible") << pivoted.describe();
  EXPECT_EQ(pivoted.facts.get("pivot_old_marker"), "absent") << pivoted.describe();
  for (const ProbeRun* r : {&plain, &root, &escaped}) {
    EXPECT_EQ(r->facts.get("dotdot_stays_at_root"), "1") << r->describe();
    EXPECT_EQ(r->facts.get("dotdot_marker"), "ENOENT") << r->describe();
  }
}

}  // namespace
}  // namespace cell::test::sec
