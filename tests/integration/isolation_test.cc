// What a program sees from inside a sandbox: identity, privileges, processes, hostname,
// network, file descriptors, rlimits and environment. Each test runs cell-probe for real.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "integration/common.hpp"

namespace cell::test {
namespace {

constexpr const char* kZeroCaps = "0000000000000000";

TEST(Identity, RunsAsTheProfileUserMappedToANonRootHostUid) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"ids"});
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  for (const char* k : {"uid", "euid", "suid", "gid", "egid", "sgid"})
    EXPECT_EQ(r.facts.get(k), "65534") << k;
  // No supplementary group of the host's survives (unmapped ones would show as 65534).
  std::stringstream groups(r.facts.get("groups"));
  for (std::string g; std::getline(groups, g, ',');) EXPECT_EQ(g, "65534") << "group " << g;

  const std::vector<MapLine> uids = parse_map(r.facts.all("uid_map"));
  const std::vector<MapLine> gids = parse_map(r.facts.all("gid_map"));
  ASSERT_FALSE(uids.empty()) << r.describe();
  ASSERT_TRUE(host_id(uids, 65534).has_value());
  EXPECT_NE(*host_id(uids, 65534), 0u);
  EXPECT_FALSE(maps_host_root(uids)) << "the host's root uid is mapped into the sandbox";
  EXPECT_FALSE(maps_host_root(gids)) << "the host's root gid is mapped into the sandbox";
}

TEST(Identity, RootlessMapsOnlyTheCallersOwnIds) {
  CELL_REQUIRE(Need::sandbox, Need::rootless);
  const ProbeRun r = run_probe({"ids"});
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  const std::vector<MapLine> uids = parse_map(r.facts.all("uid_map"));
  const std::vector<MapLine> gids = parse_map(r.facts.all("gid_map"));
  ASSERT_EQ(uids.size(), 1u) << r.describe();
  ASSERT_EQ(gids.size(), 1u) << r.describe();
  EXPECT_EQ(uids[0].count, 1u);
  EXPECT_EQ(host_id(uids, 65534), std::optional<std::uint64_t>(::geteuid()));
  EXPECT_EQ(host_id(gids, 65534), std::optional<std::uint64_t>(::getegid()));
  EXPECT_EQ(r.facts.get("setgroups"), "deny");
}

TEST(Identity, AsRootTheSandboxGetsARangeOfUnusedHostIds) {
  CELL_REQUIRE(Need::sandbox, Need::root);
  const ProbeRun r = run_probe({"ids"});
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  const std::vector<MapLine> uids = parse_map(r.facts.all("uid_map"));
  ASSERT_EQ(uids.size(), 1u) << r.describe();
  EXPECT_EQ(uids[0].inside, 0u);
  EXPECT_EQ(uids[0].count, 65536u);
  EXPECT_GE(uids[0].outside, 65536u) << "the range overlaps ordinary host users";
}

TEST(Identity, RootInsideIsNeverTheHostRoot) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"ids", "status"}, [](RunSpec& s) { s.profile = "minimal"; });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.get("uid"), "0");
  const std::vector<MapLine> uids = parse_map(r.facts.all("uid_map"));
  ASSERT_TRUE(host_id(uids, 0).has_value()) << r.describe();
  EXPECT_NE(*host_id(uids, 0), 0u);
  EXPECT_FALSE(maps_host_root(uids));
  EXPECT_EQ(r.facts.get("CapEff"), kZeroCaps) << "root inside keeps no capabilities";
}

TEST(Identity, UserFlagChoosesTheSandboxIds) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"ids"}, [](RunSpec& s) {
    s.uid = 1000;
    s.gid = 1001;
  });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.get("uid"), "1000");
  EXPECT_EQ(r.facts.get("gid"), "1001");
}

class Privileges : public ::testing::TestWithParam<std::string> {};

TEST_P(Privileges, NoCapabilitiesNoNewPrivsAndAFilter) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"status"}, [](RunSpec& s) { s.profile = GetParam(); });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  for (const char* k : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
    EXPECT_EQ(r.facts.get(k), kZeroCaps) << k;
  EXPECT_EQ(r.facts.get("NoNewPrivs"), "1");
  EXPECT_EQ(r.facts.get("Seccomp"), "2") << "2 = filter mode";
  EXPECT_TRUE(r.result.enforcement.seccomp);
  EXPECT_TRUE(r.result.enforcement.userns);
}

INSTANTIATE_TEST_SUITE_P(Profiles, Privileges,
                         ::testing::Values("minimal", "standard", "hardened"));

TEST(Seccomp, TurningItOffIsVisibleAndReported) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r =
      run_probe({"status", "syscall", "ptrace"}, [](RunSpec& s) { s.seccomp = "off"; });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.get("Seccomp"), "0");
  EXPECT_EQ(r.facts.get("NoNewPrivs"), "1");
  EXPECT_FALSE(r.result.enforcement.seccomp);
  EXPECT_TRUE(any_mentions(r.result.enforcement.degraded, "seccomp"))
      << "a protection turned off must be listed in enforcement.degraded";
}

// The caller's ignored and blocked signals must not reach the payload (CLONE_CLEAR_SIGHAND
// keeps SIG_IGN, and SIG_IGN survives execve).
TEST(Signals, CallersIgnoredAndBlockedSignalsAreNotInherited) {
  CELL_REQUIRE(Need::sandbox);
  struct sigaction ign {
  }, old_pipe{}, old_int{};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old_pipe);
  ::sigaction(SIGINT, &ign, &old_int);
  sigset_t usr1, old_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &usr1, &old_mask);
  const ProbeRun r = run_probe({"status"});
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ::sigaction(SIGINT, &old_int, nullptr);
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.get("SigIgn"), kZeroCaps);
  EXPECT_EQ(r.facts.get("SigBlk"), kZeroCaps);
}

TEST(Processes, NoHostPidIsVisible) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"pids", "status"});
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  // pid 1 is cell's reaper, pid 2 the probe; nothing of the host's.
  EXPECT_EQ(as_set(r.facts.all("pid")), (std::set<std::string>{"1", "2"})) << r.describe();
  EXPECT_EQ(r.facts.get("NSpid"), "2") << "one pid namespace level, the probe is pid 2";
}

TEST(Processes, OrphanedGrandchildrenAreReaped) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"fork-orphan", "zombies"});
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.get("orphan_reaped"), "1") << r.describe();
  EXPECT_EQ(r.facts.get("zombies"), "0");
}

TEST(Uts, HostnameIsTheSandboxesOwn) {
  CELL_REQUIRE(Need::sandbox);
  char host_before[256] = {};
  ::gethostname(host_before, sizeof host_before);
  const ProbeRun def = run_probe({"hostname"});
  const ProbeRun named = run_probe({"hostname"}, [](RunSpec& s) { s.hostname = "judge-7"; });
  ASSERT_EQ(def.result.status, Status::ok) << def.describe();
  ASSERT_EQ(named.result.status, Status::ok) << named.describe();
  EXPECT_EQ(def.facts.get("hostname"), "cell");
  EXPECT_EQ(named.facts.get("hostname"), "judge-7");
  char host_after[256] = {};
  ::gethostname(host_after, sizeof host_after);
  EXPECT_STREQ(host_before, host_after) << "the host's hostname changed";
}

std::set<std::string> host_interfaces() {
  std::set<std::string> names;
  std::ifstream in("/proc/net/dev");
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string n = line.substr(0, colon);
    n.erase(0, n.find_first_not_of(' '));
    names.insert(n);
  }
  return names;
}

TEST(Network, NoneMeansOnlyLoopbackAndItIsDown) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"netifs"});
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.all("if"), std::vector<std::string>{"lo up=0"}) << r.describe();
}

TEST(Network, LoopbackBringsLoUp) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"netifs"}, [](RunSpec& s) { s.network = Network::loopback; });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.all("if"), std::vector<std::string>{"lo up=1"}) << r.describe();
}

TEST(Network, HostSharesTheHostsInterfaces) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"netifs"}, [](RunSpec& s) { s.network = Network::host; });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  std::set<std::string> seen;
  for (const std::string& f : r.facts.all("if")) seen.insert(f.substr(0, f.find(' ')));
  EXPECT_EQ(seen, host_interfaces());
}

// runc CVE-2024-21626: a host directory fd leaked into the container. Open fds without
// CLOEXEC in the caller, exactly the leak's shape, and check the payload has only 0, 1, 2.
TEST(Fds, OnlyStdioReachesThePayload) {
  CELL_REQUIRE(Need::sandbox);
  const int dir = ::open("/", O_RDONLY | O_DIRECTORY);  // no O_CLOEXEC on purpose
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  const ProbeRun r = run_probe({"fds"});
  ::close(dir);
  ::close(p[0]);
  ::close(p[1]);
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.get("fds"), "3") << r.describe();
  std::set<std::string> numbers;
  for (const std::string& f : r.facts.all("fd")) numbers.insert(f.substr(0, f.find(' ')));
  EXPECT_EQ(numbers, (std::set<std::string>{"0", "1", "2"}));
}

TEST(Rlimits, ProfileValuesAndCoreZero) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"rlimits"});
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.get("rlimit_core"), "0:0");
  EXPECT_EQ(r.facts.get("rlimit_fsize"), "268435456:268435456");  // standard: 256M
  EXPECT_EQ(r.facts.get("rlimit_nofile"), "1024:1024");
  EXPECT_EQ(r.facts.get("rlimit_stack"), "8388608:8388608");  // 8M
}

TEST(Rlimits, RequestOverridesTheProfile) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"rlimits"}, [](RunSpec& s) {
    s.limits.fsize_bytes = 1 << 20;
    s.limits.nofile = 64;
    s.limits.stack_bytes = 16 << 20;
  });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.get("rlimit_fsize"), "1048576:1048576");
  EXPECT_EQ(r.facts.get("rlimit_nofile"), "64:64");
  EXPECT_EQ(r.facts.get("rlimit_stack"), "16777216:16777216");
  EXPECT_EQ(r.facts.get("rlimit_core"), "0:0");
}

TEST(Environment, OnlyTheProfilesAndTheRequestsVariables) {
  CELL_REQUIRE(Need::sandbox);
  ::setenv("CELL_TEST_SECRET", "leaked", 1);
  const ProbeRun r =
      run_probe({"env", "cwd"}, [](RunSpec& s) { s.env.emplace_back("FOO", "bar"); });
  ::unsetenv("CELL_TEST_SECRET");
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  std::set<std::string> keys;
  for (const std::string& kv : r.facts.all("env")) keys.insert(kv.substr(0, kv.find('=')));
  EXPECT_EQ(keys, (std::set<std::string>{"PATH", "HOME", "LANG", "FOO"})) << r.describe();
  EXPECT_TRUE(contains(r.facts.all("env"), "FOO=bar"));
  EXPECT_EQ(r.facts.get("cwd"), "/tmp");
}

TEST(Environment, WorkdirIsHonoured) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"cwd"}, [](RunSpec& s) { s.workdir = "/dev/shm"; });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.get("cwd"), "/dev/shm");
}

}  // namespace
}  // namespace cell::test
