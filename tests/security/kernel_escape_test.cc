// Escapes through the kernel's interfaces: mounts and namespaces, a nested user namespace's
// capabilities, setuid binaries under no_new_privs, hostname, clocks, modules, reboot,
// keyrings, BPF, perf, userfaultfd, io_uring, file handles, and the i386 and x32 ABIs. The
// probe calls each with arguments that would do something if allowed.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <sstream>

#include "security/cli.hpp"
#include "security/common.hpp"
#include "support/subprocess.hpp"

namespace cell::test::sec {
namespace {

namespace fs = std::filesystem;

// Kernel interfaces the standard profile's filter kills: keyrings, BPF, perf, userfaultfd,
// io_uring (no capability needed for most of them: the filter is the wall), and the ones that
// act on the whole host (modules, reboot, clocks, swap, accounting, file handles).
const std::vector<std::string>& filtered_interfaces() {
  static const std::vector<std::string> v = {"keyctl",
                                             "add_key",
                                             "bpf",
                                             "perf_event_open",
                                             "userfaultfd",
                                             "io_uring_setup",
                                             "init_module",
                                             "finit_module",
                                             "delete_module",
                                             "reboot",
                                             "clock_settime",
                                             "adjtimex",
                                             "open_by_handle_at",
                                             "swapoff",
                                             "acct"};
  return v;
}

class Interface : public ::testing::TestWithParam<std::string> {};

TEST_P(Interface, IsKilledByTheStandardFilter) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"attempt", GetParam(), "echo", "after=1"});
  expect_violation(r, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Standard, Interface, ::testing::ValuesIn(filtered_interfaces()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

// Without the filter, the host-wide ones still fail: no capability in the initial user
// namespace (or, on this kernel, no such interface at all).
TEST(Interfaces, HostWideOnesFailWithoutTheFilterToo) {
  CELL_REQUIRE(Need::sandbox);
  const std::vector<std::string> host_wide = {
      "init_module",       "finit_module", "delete_module", "reboot", "clock_settime", "adjtimex",
      "open_by_handle_at", "swapoff",      "acct",          "iopl",   "ioperm"};
  std::vector<std::string> args;
  for (const std::string& n : host_wide) args.insert(args.end(), {"attempt", n});
  std::vector<std::string> nested = {"unshare-user", "status"};
  nested.insert(nested.end(), args.begin(), args.end());
  for (const auto& a : {args, nested}) {
    const ProbeRun r = run_probe(a, no_filter);
    ASSERT_EQ(r.result.status, Status::ok) << r.describe();
    if (r.facts.has("unshare")) {
      ASSERT_EQ(r.facts.get("unshare"), "ok") << r.describe();
      EXPECT_EQ(r.facts.get("CapEff"), "000001ffffffffff") << "root of its own user namespace";
    }
    for (const std::string& n : host_wide)
      expect_refused(call_fact(r.facts, "attempt", n), {"EPERM", "ENOSYS", "EACCES"}, n);
  }
}

TEST(Mounts, MountingAndNewNamespacesAreKilled) {
  CELL_REQUIRE(Need::sandbox);
  expect_violation(run_probe({"mount-fs", "tmpfs", "/tmp/m", "echo", "after=1"}), "mount");
  expect_violation(run_probe({"umount", "/proc/sys", "echo", "after=1"}), "umount2");
  expect_violation(run_probe({"unshare-user", "echo", "after=1"}), "unshare");
  // Without the filter: no capability in the sandbox's own namespaces.
  const ProbeRun r = run_probe({"mount-fs", "tmpfs", "/tmp/m", "umount", "/proc/sys"}, no_filter);
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.get("mount_tmpfs"), "EPERM");
  EXPECT_EQ(r.facts.get("umount"), "EPERM");
}

// A nested user namespace gives every capability over what it owns, and nothing over the
// sandbox: the masks on /proc stay (locked mounts), hostname and clocks belong to others.
TEST(NestedUserns, CapabilitiesThereOpenNothingOfTheSandbox) {
  CELL_REQUIRE(Need::sandbox);
  const std::string host_before = host_name();
  const ProbeRun r =
      run_probe({"unshare-user", "status", "umount", "/proc/sys", "umount", "/proc/keys", "umount",
                 "/dev/null", "umount", "/", "sethostname", "pwned", "attempt", "clock_settime",
                 "mount-fs", "tmpfs", "/tmp/own", "ls", "/proc/sys/kernel"},
                no_filter);
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  ASSERT_EQ(r.facts.get("unshare"), "ok") << r.describe();
  EXPECT_EQ(r.facts.get("userns_maps"), "ok");
  EXPECT_EQ(r.facts.get("NoNewPrivs"), "1");
  for (const std::string& u : r.facts.all("umount"))
    EXPECT_EQ(u, "EINVAL") << "a locked mount came off";
  EXPECT_EQ(r.facts.get("sethostname"), "EPERM");
  EXPECT_EQ(r.facts.get("hostname"), "cell");
  expect_refused(call_fact(r.facts, "attempt", "clock_settime"), {"EPERM"}, "clock_settime");
  EXPECT_EQ(r.facts.get("mount_tmpfs"), "ok") << "its own mount namespace: allowed, harmless";
  EXPECT_EQ(host_name(), host_before);
}

TEST(Hostname, ChangesAreRefusedAndNeverReachTheHost) {
  CELL_REQUIRE(Need::sandbox);
  const std::string before = host_name();
  for (const char* profile : {"standard", "minimal"}) {
    SCOPED_TRACE(profile);
    const ProbeRun r =
        run_probe({"sethostname", "pwned-by-cell"}, [&](RunSpec& s) { s.profile = profile; });
    ASSERT_EQ(r.result.status, Status::ok) << r.describe();
    EXPECT_EQ(r.facts.get("sethostname"), "EPERM");
    EXPECT_EQ(r.facts.get("setdomainname"), "EPERM");
    EXPECT_EQ(r.facts.get("hostname"), "cell");
  }
  EXPECT_EQ(host_name(), before);
}

// What a setuid binary that gained nothing reports about itself (`ids status mount-opts`,
// printed by the setuid binary after the exec): its ids, no capability, no_new_privs, and
// every mount nosuid. Both walls are asserted, so that losing either one fails here even
// while the other still holds. The exception are the /proc masks, binds of /dev/null: a
// character device, on which no binary can live.
void expect_setuid_gave_nothing(const Facts& f, const std::string& uid, const std::string& text) {
  for (const char* k : {"uid", "euid", "suid"}) EXPECT_EQ(f.get(k), uid) << k << "\n" << text;
  EXPECT_EQ(f.get("CapEff"), "0000000000000000") << text;
  EXPECT_EQ(f.get("CapPrm"), "0000000000000000") << text;
  EXPECT_EQ(f.get("NoNewPrivs"), "1") << "the setuid binary runs without no_new_privs\n" << text;
  const std::vector<std::string> mounts = f.all("mount_opts");
  ASSERT_GE(mounts.size(), 3u) << text;
  for (const std::string& m : mounts) {
    std::istringstream in(m);
    std::string path, opts, type;
    in >> path >> opts >> type;
    if (type == "chr") continue;
    EXPECT_NE(("," + opts + ",").find(",nosuid,"), std::string::npos)
        << "a sandbox mount without nosuid: " << m << "\n"
        << text;
  }
}

const std::vector<std::string> kSuidChecks = {"stat", "/suid-probe", "exec",      "/suid-probe",
                                              "ids",  "status",      "mount-opts"};

// A setuid-root copy of the probe, prepared by the host's root. Owned by the host's root it
// is unmapped inside (the kernel ignores the bit); owned by the host uid that the sandbox's
// root maps to, only no_new_privs and the nosuid mount stand between it and euid 0.
TEST(Setuid, ASetuidRootBinaryGivesNothing) {
  CELL_REQUIRE(Need::sandbox, Need::root);
  const TestRootfs rootfs;
  const std::string suid = rootfs.dir().sub("suid-probe");
  fs::copy_file(probe_path(), suid);
  const ProbeRun ids = run_probe({"ids"}, [&](RunSpec& s) { s.rootfs = rootfs.path(); });
  ASSERT_EQ(ids.result.status, Status::ok) << ids.describe();
  std::string map = ids.facts.get("uid_map");  // "0 HOSTUID COUNT"
  const unsigned long ns_root = std::stoul(map.substr(map.find(' ') + 1));

  for (const unsigned long owner : {0ul, ns_root}) {
    SCOPED_TRACE("setuid file owned by host uid " + std::to_string(owner));
    ASSERT_EQ(::chown(suid.c_str(), static_cast<uid_t>(owner), static_cast<gid_t>(owner)), 0);
    ASSERT_EQ(::chmod(suid.c_str(), 04755), 0);
    for (const char* profile : {"standard", "hardened"}) {
      const ProbeRun r = run_probe(kSuidChecks, [&](RunSpec& s) {
        s.rootfs = rootfs.path();
        s.profile = profile;
      });
      ASSERT_EQ(r.result.status, Status::ok) << r.describe();
      EXPECT_EQ(r.facts.get("stat_mode"), "104755") << "the bit is visible inside";
      if (owner == ns_root) {
        EXPECT_EQ(r.facts.get("stat_uid"), "0") << "owned by root inside";
      }
      expect_setuid_gave_nothing(r.facts, "65534", r.describe());
    }
  }
}

// The same file (owned by the host's root: unmapped inside), run by the cell CLI as an
// unprivileged user (a rootless sandbox). A rootless single-id map holds only the caller's
// uid, so no file can be owned by another mapped user: the subid case below has one.
TEST(Setuid, ASetuidRootBinaryGivesNothingRootless) {
  CELL_REQUIRE(Need::sandbox, Need::root);
  const TestRootfs rootfs;
  const std::string suid = rootfs.dir().sub("suid-probe");
  fs::copy_file(probe_path(), suid);
  ASSERT_EQ(::chown(suid.c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod(suid.c_str(), 04755), 0);
  std::vector<std::string> args = {"run", "--rootfs", rootfs.path(), "--", "/cell-probe"};
  args.insert(args.end(), kSuidChecks.begin(), kSuidChecks.end());
  const Finished f = cell_as(65534, 65534, args);
  ASSERT_EQ(f.exit_code, 0) << f.describe();
  const Facts facts(f.out);
  EXPECT_EQ(facts.get("stat_uid"), "65534") << "unmapped: the overflow uid\n" << f.out;
  expect_setuid_gave_nothing(facts, "65534", f.describe());
}

// Rootless with --idmap subid ($CELL_TEST_SUBID_USER): the sandbox's root is the caller, and
// sandbox uid 1000 a subordinate id. (1) A setuid file the host's root gave to the caller:
// owned by root inside, run by uid 1000. (2) One the sandbox's root made itself on its tmpfs
// (copy, chmod 4755), run after dropping to uid 1000 inside.
TEST(Setuid, ASetuidBinaryOfTheSandboxRootGivesNothingSubid) {
  CELL_REQUIRE(Need::sandbox, Need::root);
  const char* name = std::getenv("CELL_TEST_SUBID_USER");
  if (name == nullptr || *name == '\0')  // not asked for: a skip even when strict
    GTEST_SKIP() << "needs CELL_TEST_SUBID_USER, a user with /etc/subuid ranges (run-tests.sh)";
  const std::optional<SubidUser> user = subid_user();
  if (!user) CELL_MISSING("CELL_TEST_SUBID_USER=" + std::string(name) + ": no such user");
  if (::access("/usr/bin/newuidmap", X_OK) != 0)
    CELL_MISSING("needs newuidmap (apt install uidmap)");
  const TestRootfs rootfs;
  const std::string suid = rootfs.dir().sub("suid-probe");
  fs::copy_file(probe_path(), suid);
  ASSERT_EQ(::chown(suid.c_str(), user->uid, user->gid), 0);
  ASSERT_EQ(::chmod(suid.c_str(), 04755), 0);
  std::vector<std::string> args = {"run",      "--idmap",     "subid", "--user",     "1000:1000",
                                   "--rootfs", rootfs.path(), "--",    "/cell-probe"};
  args.insert(args.end(), kSuidChecks.begin(), kSuidChecks.end());
  const Finished f = cell_as(user->uid, user->gid, args);
  ASSERT_EQ(f.exit_code, 0) << f.describe();
  const Facts facts(f.out);
  EXPECT_EQ(facts.get("stat_uid"), "0") << "owned by the sandbox's root\n" << f.out;
  EXPECT_EQ(facts.get("stat_mode"), "104755") << f.out;
  expect_setuid_gave_nothing(facts, "1000", f.describe());

  rootfs.dir().write("setuid.yaml",
                     "name: setuid-maker\n"
                     "user: {uid: 0, gid: 0}\n"
                     "capabilities: [CAP_SETUID, CAP_SETGID]\n"
                     "mounts:\n"
                     "  - {type: tmpfs, target: /tmp, size: 8M}\n");
  const Finished made = cell_as(
      user->uid, user->gid,
      {"run",         "--idmap",     "subid", "--profile",   rootfs.dir().sub("setuid.yaml"),
       "--rootfs",    rootfs.path(), "--",    "/cell-probe", "copy",
       "/cell-probe", "/tmp/suid",   "chmod", "/tmp/suid",   "4755",
       "stat",        "/tmp/suid",   "drop",  "1000",        "1000",
       "exec",        "/tmp/suid",   "ids",   "status",      "mount-opts"});
  ASSERT_EQ(made.exit_code, 0) << made.describe();
  const Facts m(made.out);
  EXPECT_EQ(m.get("copy"), "ok") << made.out;
  EXPECT_EQ(m.get("chmod"), "ok") << made.out;
  EXPECT_EQ(m.get("stat_mode"), "104755") << made.out;
  EXPECT_EQ(m.get("stat_uid"), "0") << made.out;
  EXPECT_EQ(m.get("drop"), "ok") << made.out;
  expect_setuid_gave_nothing(m, "1000", made.describe());
}

// Other syscall ABIs: every profile's filter kills any i386 (int 0x80) or x32 call, even
// getpid; if the kernel has no i386 entry at all, int 0x80 faults (SIGSEGV): contained too.
struct AbiCase {
  std::string profile, abi, call;
};
void PrintTo(const AbiCase& c, std::ostream* os) {
  *os << c.profile << "/" << c.abi << "/" << c.call;
}
class OtherAbi : public ::testing::TestWithParam<AbiCase> {};

TEST_P(OtherAbi, IsKilled) {
  CELL_REQUIRE(Need::sandbox);
  const AbiCase& c = GetParam();
  const ProbeRun r =
      run_probe({c.abi, c.call, "echo", "after=1"}, [&](RunSpec& s) { s.profile = c.profile; });
  if (c.abi == "i386" && r.result.status == Status::signalled &&
      r.result.signal == std::optional<int>(SIGSEGV))
    GTEST_SKIP() << "this kernel has no i386 entry (int 0x80 faults)";
  expect_violation(r, c.call, c.abi);
}

std::vector<AbiCase> abi_cases() {
  std::vector<AbiCase> v;
  for (const char* p : {"minimal", "standard"})
    for (const char* abi : {"i386", "x32"})
      for (const char* call : {"getpid", "mount", "ptrace", "unshare", "chroot"})
        v.push_back({p, abi, call});
  return v;
}

INSTANTIATE_TEST_SUITE_P(Profiles, OtherAbi, ::testing::ValuesIn(abi_cases()),
                         [](const ::testing::TestParamInfo<AbiCase>& i) {
                           return i.param.profile + "_" + i.param.abi + "_" + i.param.call;
                         });

}  // namespace
}  // namespace cell::test::sec
