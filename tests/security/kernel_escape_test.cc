// Escapes through the kernel's interfaces: mounts and namespaces, a nested user namespace's
// capabilities, setuid binaries under no_new_privs, hostname, clocks, modules, reboot,
// keyrings, BPF, perf, userfaultfd, io_uring, file handles, and the i386 and x32 ABIs. The
// probe calls each with arguments that would do something if allowed.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

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

// A setuid-root copy of the probe, prepared by the host's root. Owned by the host's root it
// is unmapped inside (the kernel ignores the bit); owned by the host uid that the sandbox's
// root maps to, only no_new_privs (and the nosuid mount) stand between it and euid 0.
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
      const ProbeRun r = run_probe({"stat", "/suid-probe", "exec", "/suid-probe", "ids", "status"},
                                   [&](RunSpec& s) {
                                     s.rootfs = rootfs.path();
                                     s.profile = profile;
                                   });
      ASSERT_EQ(r.result.status, Status::ok) << r.describe();
      EXPECT_EQ(r.facts.get("stat_mode"), "104755") << "the bit is visible inside";
      if (owner == ns_root) {
        EXPECT_EQ(r.facts.get("stat_uid"), "0") << "owned by root inside";
      }
      for (const char* k : {"uid", "euid", "suid"}) EXPECT_EQ(r.facts.get(k), "65534") << k;
      EXPECT_EQ(r.facts.get("CapEff"), "0000000000000000");
    }
  }
}

// The same file, run by the cell CLI as an unprivileged user (a rootless sandbox).
TEST(Setuid, ASetuidRootBinaryGivesNothingRootless) {
  CELL_REQUIRE(Need::sandbox, Need::root);
  const char* cell = std::getenv("CELL_TEST_CELL");
  const std::string cli = cell != nullptr ? cell : CELL_BIN;
  const TestRootfs rootfs;
  const std::string suid = rootfs.dir().sub("suid-probe");
  fs::copy_file(probe_path(), suid);
  ASSERT_EQ(::chown(suid.c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod(suid.c_str(), 04755), 0);
  const Finished f =
      run_command({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                   "/usr/bin/env", "-u", "CELL_RUNTIME", "-u", "XDG_RUNTIME_DIR", cli, "run",
                   "--rootfs", rootfs.path(), "--", "/suid-probe", "ids", "status"});
  ASSERT_EQ(f.exit_code, 0) << f.describe();
  const Facts facts(f.out);
  for (const char* k : {"uid", "euid", "suid"}) EXPECT_EQ(facts.get(k), "65534") << k;
  EXPECT_EQ(facts.get("CapEff"), "0000000000000000");
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
