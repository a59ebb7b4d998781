// Syscalls the profiles deny, tried raw from inside: the run ends as seccomp_violation and
// the verdict names the syscall (the supervisor reads it from the user notification).
#include "integration/common.hpp"

namespace cell::test {
namespace {

struct Denied {
  std::string profile;
  std::string probe_name;  // what `cell-probe syscall` calls it
  std::string reported;    // the name the verdict must give
};

void PrintTo(const Denied& d, std::ostream* os) {
  *os << d.profile << "/" << d.probe_name;
}

class DeniedSyscall : public ::testing::TestWithParam<Denied> {};

TEST_P(DeniedSyscall, EndsTheRunAsASeccompViolationNamingIt) {
  CELL_REQUIRE(Need::sandbox);
  const Denied& d = GetParam();
  const ProbeRun r = run_probe({"echo", "before", "syscall", d.probe_name, "echo", "after"},
                               [&](RunSpec& s) { s.profile = d.profile; });
  ASSERT_FALSE(r.error) << r.describe();
  EXPECT_EQ(r.result.status, Status::seccomp_violation) << r.describe();
  ASSERT_TRUE(r.result.violation.has_value()) << r.describe();
  EXPECT_EQ(r.result.violation->kind, "seccomp");
  EXPECT_EQ(r.result.violation->syscall, d.reported);
  EXPECT_GE(r.result.violation->nr, 0);
  EXPECT_EQ(r.result.violation->arch, "x86_64");
  EXPECT_NE(r.result.message.find(d.reported), std::string::npos) << r.result.message;
  EXPECT_EQ(r.result.killed_by, "cell");
  // The program got as far as the syscall and no further.
  EXPECT_TRUE(r.result.stdout_.data.find("before") != std::string::npos) << r.describe();
  EXPECT_TRUE(r.result.stdout_.data.find("after") == std::string::npos) << r.describe();
}

std::vector<Denied> denied_cases() {
  std::vector<Denied> v;
  for (const char* name : {"ptrace",
                           "mount",
                           "umount2",
                           "pivot_root",
                           "unshare",
                           "setns",
                           "keyctl",
                           "add_key",
                           "request_key",
                           "bpf",
                           "perf_event_open",
                           "userfaultfd",
                           "io_uring_setup",
                           "io_uring_enter",
                           "reboot",
                           "kexec_load",
                           "kexec_file_load",
                           "init_module",
                           "finit_module",
                           "delete_module",
                           "swapon",
                           "swapoff",
                           "clock_settime",
                           "settimeofday",
                           "adjtimex",
                           "acct",
                           "open_by_handle_at",
                           "process_vm_readv"})
    v.push_back({"standard", name, name});
  v.push_back({"standard", "clone_newns", "clone"});  // clone with CLONE_NEWNS only
  v.push_back({"standard", "tiocsti", "ioctl"});      // ioctl(TIOCSTI) only
  v.push_back({"standard", "personality", "personality"});
  for (const char* name : {"chroot", "iopl", "syslog", "modify_ldt"})
    v.push_back({"hardened", name, name});
  for (const char* name : {"reboot", "kexec_file_load", "init_module", "finit_module",
                           "clock_settime", "adjtimex", "keyctl", "request_key", "swapoff", "iopl"})
    v.push_back({"minimal", name, name});
  return v;
}

INSTANTIATE_TEST_SUITE_P(Profiles, DeniedSyscall, ::testing::ValuesIn(denied_cases()),
                         [](const ::testing::TestParamInfo<Denied>& i) {
                           return i.param.profile + "_" + i.param.probe_name;
                         });

// Controls: what a profile allows runs and fails (or not) in the kernel, without a verdict.
TEST(AllowedSyscall, ChrootIsOnlyDeniedByHardened) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"syscall", "chroot", "syscall", "getpid"});
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_FALSE(r.result.violation.has_value());
  const std::vector<std::string> calls = r.facts.all("syscall");
  ASSERT_EQ(calls.size(), 2u) << r.describe();
  EXPECT_NE(calls[0].find("ret=-1"), std::string::npos) << calls[0];
  EXPECT_EQ(calls[1], "getpid ret=2 errno=0");
}

TEST(AllowedSyscall, Clone3FailsWithEnosysSoLibcFallsBackToClone) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"syscall", "clone3", "fork-orphan"});
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.get("syscall"), "clone3 ret=-1 errno=ENOSYS");
  EXPECT_EQ(r.facts.get("orphan_reaped"), "1") << "fork (clone) must still work";
}

// The `log` action: the call goes through (neither killed nor failed), the run is ok, and the
// filter is really on. The profile first denies the same syscalls, so a `log` rule that
// compiled to anything but an allow would show (kill: violation; errno: the call fails).
TEST(LoggedSyscall, RunsAndTheRunIsOk) {
  CELL_REQUIRE(Need::sandbox);
  const TempDir dir("cell-log-profile");
  dir.write("log.yaml",
            "name: log-test\n"
            "user: {uid: 65534}\n"
            "seccomp:\n"
            "  default: allow\n"
            "  deny_action: kill_process\n"
            "  deny: [getpid, getppid]\n"
            "  rules:\n"
            "    - {action: log, syscalls: [getpid]}\n"
            "    - {action: 'errno:EPERM', syscalls: [getppid]}\n");
  const ProbeRun r = run_probe({"echo", "before", "syscall", "getpid", "status", "echo", "after"},
                               [&](RunSpec& s) { s.profile = dir.sub("log.yaml"); });
  ASSERT_FALSE(r.error) << r.describe();
  EXPECT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_FALSE(r.result.violation.has_value()) << r.describe();
  EXPECT_EQ(r.facts.get("syscall"), "getpid ret=2 errno=0") << r.describe();
  EXPECT_EQ(r.facts.get("Seccomp"), "2") << "no filter was installed: " << r.describe();
  EXPECT_TRUE(r.result.enforcement.seccomp) << r.describe();
  EXPECT_NE(r.result.stdout_.data.find("after"), std::string::npos) << r.describe();
  // Control: the same filter's errno rule does act, so the filter is the one written above.
  const ProbeRun c =
      run_probe({"syscall", "getppid"}, [&](RunSpec& s) { s.profile = dir.sub("log.yaml"); });
  ASSERT_EQ(c.result.status, Status::ok) << c.describe();
  EXPECT_EQ(c.facts.get("syscall"), "getppid ret=-1 errno=EPERM") << c.describe();
}

TEST(AllowedSyscall, PrivilegedCallsStillFailWithTheFilterOff) {
  CELL_REQUIRE(Need::sandbox);
  // With the filter off, no_new_privs and the capability drop still hold.
  const ProbeRun r = run_probe({"syscall", "mount", "syscall", "reboot", "status"},
                               [](RunSpec& s) { s.seccomp = "off"; });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  for (const std::string& c : r.facts.all("syscall"))
    EXPECT_NE(c.find("ret=-1"), std::string::npos) << c;
  EXPECT_EQ(r.facts.get("CapEff"), "0000000000000000");
}

}  // namespace
}  // namespace cell::test
