// Profiles: built-ins, round trips, the public helpers, and golden error messages.
// CELL_UPDATE_GOLDEN=1 rewrites tests/data/profiles/invalid/*.err from the current output.
#include <gtest/gtest.h>

#include <cell/profile.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "base/errno_names.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace cell {
namespace {

const std::string kData = CELL_TEST_DATA "/profiles";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Profile must_load(const std::string& name) {
  auto p = load_profile(name);
  EXPECT_TRUE(p.ok()) << name << ": " << p.error().message;
  return p.ok() ? *p : Profile{};
}

// --- built-ins ---------------------------------------------------------------------------

TEST(BuiltinProfiles, AllLoadWithTheirOwnNames) {
  EXPECT_EQ(builtin_profile_names(),
            (std::vector<std::string>{"minimal", "standard", "hardened", "paranoid"}));
  for (const std::string& name : builtin_profile_names()) {
    const Profile p = must_load(name);
    EXPECT_EQ(p.name, name);
    EXPECT_EQ(p.source, "builtin:" + name);
    EXPECT_FALSE(p.description.empty());
    EXPECT_TRUE(p.seccomp.enabled);
    EXPECT_EQ(p.network, Network::none);
    EXPECT_TRUE(p.capabilities.empty());
  }
}

bool denies(const Profile& p, const std::string& group) {
  for (const SeccompRule& r : p.seccomp.rules)
    if (r.action.kind != SeccompAction::Kind::allow &&
        std::find(r.syscalls.begin(), r.syscalls.end(), group) != r.syscalls.end())
      return true;
  return false;
}

TEST(BuiltinProfiles, StandardMatchesTheDocumentedValues) {
  const Profile p = must_load("standard");
  EXPECT_EQ(p.uid, 65534u);
  EXPECT_EQ(p.gid, 65534u);
  EXPECT_EQ(p.hostname, "cell");
  EXPECT_EQ(p.limits.cpu_time, Nanos(60s));
  EXPECT_EQ(p.limits.wall_time, Nanos(5min));
  EXPECT_EQ(p.limits.memory_bytes, 1ull << 30);
  EXPECT_EQ(p.limits.pids, 256u);
  EXPECT_EQ(p.limits.output_bytes, 64ull << 20);
  EXPECT_EQ(p.limits.fsize_bytes, 256ull << 20);
  EXPECT_EQ(p.limits.nofile, 1024u);
  EXPECT_EQ(p.limits.stack_bytes, 8ull << 20);
  ASSERT_EQ(p.mounts.size(), 1u);
  EXPECT_EQ(p.mounts[0].kind, Mount::Kind::tmpfs);
  EXPECT_EQ(p.mounts[0].target, "/tmp");
  EXPECT_EQ(p.mounts[0].size_bytes, 256ull << 20);
  EXPECT_TRUE(p.mounts[0].writable);
  EXPECT_EQ(p.mounts[0].origin.rfind("builtin:standard:", 0), 0u) << p.mounts[0].origin;
  EXPECT_EQ(p.env[1], (std::pair<std::string, std::string>{"HOME", "/tmp"}));
  EXPECT_EQ(p.seccomp.default_action.kind, SeccompAction::Kind::allow);
  for (const char* g : {"@mount", "@pivot_root", "@debug", "@module", "@reboot", "@bpf", "@perf",
                        "@keyring", "@userfaultfd", "@swap", "@clock", "@acct", "@handles",
                        "@namespaces", "@personality", "@io_uring", "@tty_inject"})
    EXPECT_TRUE(denies(p, g)) << g;
}

TEST(BuiltinProfiles, StrictnessGrows) {
  const Profile minimal = must_load("minimal"), hardened = must_load("hardened"),
                paranoid = must_load("paranoid");
  EXPECT_EQ(minimal.uid, 0u);
  EXPECT_FALSE(minimal.limits.memory_bytes);
  EXPECT_TRUE(denies(minimal, "@module"));
  EXPECT_FALSE(denies(minimal, "@namespaces"));
  EXPECT_EQ(hardened.limits.cpu_time, Nanos(10s));
  EXPECT_EQ(hardened.limits.memory_bytes, 256ull << 20);
  EXPECT_EQ(hardened.limits.pids, 64u);
  EXPECT_EQ(hardened.limits.nofile, 256u);
  for (const char* g : {"@chroot", "@raw_io", "@obsolete", "@quota"})
    EXPECT_TRUE(denies(hardened, g)) << g;
  EXPECT_EQ(paranoid.seccomp.default_action.kind, SeccompAction::Kind::kill_process);
  EXPECT_EQ(paranoid.limits.pids, 16u);
  EXPECT_EQ(paranoid.limits.cpu_time, Nanos(5s));
  EXPECT_EQ(paranoid.limits.wall_time, Nanos(15s));
  EXPECT_EQ(paranoid.mounts.at(0).size_bytes, 64ull << 20);
  ASSERT_FALSE(paranoid.seccomp.rules.empty());
  EXPECT_EQ(paranoid.seccomp.rules[0].action.kind, SeccompAction::Kind::allow);
  EXPECT_EQ(paranoid.seccomp.rules[0].syscalls, std::vector<std::string>{"@default"});
}

// --- round trip --------------------------------------------------------------------------

void expect_same(const Profile& a, const Profile& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.uid, b.uid);
  EXPECT_EQ(a.gid, b.gid);
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.network, b.network);
  EXPECT_EQ(a.mount_sys, b.mount_sys);
  const Limits &x = a.limits, &y = b.limits;
  EXPECT_EQ(x.cpu_time, y.cpu_time);
  EXPECT_EQ(x.wall_time, y.wall_time);
  EXPECT_EQ(x.memory_bytes, y.memory_bytes);
  EXPECT_EQ(x.pids, y.pids);
  EXPECT_EQ(x.cpus, y.cpus);
  EXPECT_EQ(x.cpuset, y.cpuset);
  EXPECT_EQ(x.output_bytes, y.output_bytes);
  EXPECT_EQ(x.fsize_bytes, y.fsize_bytes);
  EXPECT_EQ(x.nofile, y.nofile);
  EXPECT_EQ(x.stack_bytes, y.stack_bytes);
  ASSERT_EQ(a.mounts.size(), b.mounts.size());
  for (std::size_t i = 0; i < a.mounts.size(); ++i) {
    EXPECT_EQ(a.mounts[i].kind, b.mounts[i].kind);
    EXPECT_EQ(a.mounts[i].source, b.mounts[i].source);
    EXPECT_EQ(a.mounts[i].target, b.mounts[i].target);
    EXPECT_EQ(a.mounts[i].writable, b.mounts[i].writable);
    EXPECT_EQ(a.mounts[i].size_bytes, b.mounts[i].size_bytes);
  }
  EXPECT_EQ(a.env, b.env);
  EXPECT_EQ(a.capabilities, b.capabilities);
  EXPECT_EQ(a.seccomp.enabled, b.seccomp.enabled);
  EXPECT_EQ(a.seccomp.default_action, b.seccomp.default_action);
  EXPECT_EQ(a.seccomp.groups, b.seccomp.groups);
  ASSERT_EQ(a.seccomp.rules.size(), b.seccomp.rules.size());
  for (std::size_t i = 0; i < a.seccomp.rules.size(); ++i) {
    EXPECT_EQ(a.seccomp.rules[i].action, b.seccomp.rules[i].action);
    EXPECT_EQ(a.seccomp.rules[i].syscalls, b.seccomp.rules[i].syscalls);
  }
}

void expect_round_trip(const Profile& p) {
  const std::string yaml = profile_to_yaml(p);
  auto back = parse_profile(yaml, "roundtrip.yaml");
  ASSERT_TRUE(back.ok()) << back.error().message << "\n" << yaml;
  expect_same(p, *back);
  EXPECT_EQ(profile_to_yaml(*back), yaml);
}

TEST(ProfileYaml, BuiltinsRoundTrip) {
  for (const std::string& name : builtin_profile_names()) {
    SCOPED_TRACE(name);
    expect_round_trip(must_load(name));
  }
}

TEST(ProfileYaml, EveryFieldRoundTrips) {
  Profile p;
  p.name = "full";
  p.description = "all: the fields, \"quoted\"";
  p.uid = 1000;
  p.gid = 100;
  p.hostname = "box.example";
  p.network = Network::loopback;
  p.mount_sys = true;
  p.limits.cpu_time = 1500ms;
  p.limits.wall_time = 2min;
  p.limits.memory_bytes = 123456789;
  p.limits.pids = 7;
  p.limits.cpus = 0.1;
  p.limits.cpuset = "0-1,3";
  p.limits.output_bytes = 0;
  p.limits.fsize_bytes = 1ull << 40;
  p.limits.nofile = 99;
  p.limits.stack_bytes = Limits::kUnlimited;
  p.mounts.push_back({Mount::Kind::tmpfs, "", "/tmp", true, 4096, ""});
  p.mounts.push_back({Mount::Kind::tmpfs, "", "/ro", false, 0, ""});
  p.mounts.push_back({Mount::Kind::bind, "/srv/my data", "/data", false, 0, ""});
  p.mounts.push_back({Mount::Kind::bind, "/var/out", "/out", true, 0, ""});
  p.env = {{"Z", ""}, {"A", "true"}, {"N", "123"}, {"Q", "a: b # c"}, {"U", "ünï"}};
  p.capabilities = {"CAP_NET_BIND_SERVICE", "CAP_CHOWN"};
  p.seccomp.default_action = {SeccompAction::Kind::errno_code, EPERM};
  p.seccomp.groups = {{"mine", {"read", "@io"}}, {"io", {"write"}}};
  p.seccomp.rules = {{{SeccompAction::Kind::allow, 0}, {"@default", "@mine"}},
                     {{SeccompAction::Kind::log, 0}, {"ptrace"}},
                     {{SeccompAction::Kind::errno_code, ENOSYS}, {"clone3:enosys"}},
                     {{SeccompAction::Kind::kill_process, 0}, {}}};
  expect_round_trip(p);
  p.seccomp.enabled = false;
  p.seccomp.rules.erase(p.seccomp.rules.begin());
  expect_round_trip(p);
}

// --- public helpers ----------------------------------------------------------------------

TEST(ProfileApi, LimitsApplyReplacesOnlySetFields) {
  Limits base;
  base.cpu_time = 1s;
  base.memory_bytes = 100;
  base.nofile = 10;
  Limits over;
  over.memory_bytes = 200;
  over.pids = 5;
  over.stack_bytes = Limits::kUnlimited;
  base.apply(over);
  EXPECT_EQ(base.cpu_time, Nanos(1s));
  EXPECT_EQ(base.memory_bytes, 200u);
  EXPECT_EQ(base.pids, 5u);
  EXPECT_EQ(base.nofile, 10u);
  EXPECT_EQ(base.stack_bytes, Limits::kUnlimited);
  EXPECT_FALSE(base.wall_time);
  base.apply(Limits{});
  EXPECT_EQ(base.memory_bytes, 200u);
}

TEST(ProfileApi, NetworkNames) {
  for (Network n : {Network::none, Network::loopback, Network::host})
    EXPECT_EQ(parse_network(to_string(n)), n);
  EXPECT_FALSE(parse_network("internet"));
  EXPECT_FALSE(parse_network(""));
}

TEST(ProfileApi, SeccompActions) {
  std::string why;
  for (const char* s : {"allow", "kill_process", "log", "errno:EPERM", "errno:ENOSYS"}) {
    auto a = parse_seccomp_action(s, why);
    ASSERT_TRUE(a) << s;
    EXPECT_EQ(to_string(*a), s);
  }
  auto numeric = parse_seccomp_action("errno:1", why);
  ASSERT_TRUE(numeric);
  EXPECT_EQ(to_string(*numeric), "errno:EPERM");
  auto unnamed = parse_seccomp_action("errno:3000", why);
  ASSERT_TRUE(unnamed);
  EXPECT_EQ(to_string(*unnamed), "errno:3000");
  EXPECT_FALSE(parse_seccomp_action("errno:ENOPE", why));
  EXPECT_NE(why.find("errno"), std::string::npos);
  EXPECT_FALSE(parse_seccomp_action("errno:0", why));
  EXPECT_FALSE(parse_seccomp_action("errno:4096", why));
  EXPECT_FALSE(parse_seccomp_action("kill", why));
  EXPECT_NE(why.find("use allow, kill_process, log or errno:NAME"), std::string::npos) << why;
  EXPECT_FALSE(parse_seccomp_action("alow", why));
  EXPECT_NE(why.find("did you mean 'allow'"), std::string::npos) << why;
}

TEST(ProfileApi, LoadByNameOrPath) {
  auto unknown = load_profile("standrad");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, ErrorKind::not_found);
  EXPECT_NE(unknown.error().message.find("did you mean 'standard'"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("minimal, standard, hardened, paranoid"),
            std::string::npos);

  auto missing = load_profile("/nonexistent/x.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);

  test::TempDir dir;
  dir.write("mine.yml", "name: mine\nlimits: {pids: 3}\n");
  auto mine = load_profile(dir.sub("mine.yml"));
  ASSERT_TRUE(mine.ok()) << mine.error().message;
  EXPECT_EQ(mine->limits.pids, 3u);
  EXPECT_EQ(mine->source, dir.sub("mine.yml"));
  auto direct = load_profile_file(dir.sub("mine.yml"));
  ASSERT_TRUE(direct.ok());
}

TEST(ProfileApi, UserDefaultsGidToUid) {
  auto p = parse_profile("name: u\nuser: {uid: 1000}\n", "u.yaml");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->uid, 1000u);
  EXPECT_EQ(p->gid, 1000u);
}

TEST(ProfileApi, CapabilityNamesAreCanonical) {
  auto p = parse_profile("name: c\ncapabilities: [net_bind_service, CAP_CHOWN, cap_chown]\n", "c");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->capabilities, (std::vector<std::string>{"CAP_NET_BIND_SERVICE", "CAP_CHOWN"}));
}

TEST(ProfileApi, NullMeansUnset) {
  auto p = parse_profile("name: n\nlimits:\n  memory: ~\n  pids:\nseccomp:\n", "n");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_FALSE(p->limits.memory_bytes);
  EXPECT_FALSE(p->limits.pids);
}

// --- golden files ------------------------------------------------------------------------

std::vector<fs::path> files_in(const std::string& dir, const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ProfileGolden, InvalidProfilesReportEveryProblem) {
  const bool update = std::getenv("CELL_UPDATE_GOLDEN") != nullptr;
  const auto files = files_in(kData + "/invalid", ".yaml");
  ASSERT_GE(files.size(), 10u);
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.filename().string());
    auto p = parse_profile(slurp(f), "invalid/" + f.filename().string());
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().kind, ErrorKind::config);
    fs::path err = f;
    err.replace_extension(".err");
    if (update) {
      std::ofstream(err) << p.error().message << "\n";
      continue;
    }
    std::string want = slurp(err);
    while (!want.empty() && want.back() == '\n') want.pop_back();
    EXPECT_EQ(p.error().message, want);
  }
}

TEST(ProfileGolden, ValidProfilesParse) {
  const auto files = files_in(kData + "/valid", ".yaml");
  ASSERT_FALSE(files.empty());
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.filename().string());
    auto p = parse_profile(slurp(f), f.string());
    ASSERT_TRUE(p.ok()) << p.error().message;
    expect_round_trip(*p);
  }
}

// --- robustness (the fuzzer's appetiser) ---------------------------------------------------

TEST(ProfileRobustness, GarbageNeverCrashes) {
  const std::vector<std::string> inputs = {
      "",
      "\0\0\0",
      "name: x\n\t- bad indent",
      std::string(10000, '['),
      std::string(10000, '{'),
      "a: &a [*a]",
      "name: &n x\nhostname: *n\nlimits: *nope",
      "name: x\nseccomp: {groups: {a: [\"@a\"]}, deny: [\"@a\"]}",
      "name: x\nseccomp: {groups: {a: 1, b: [{}], c: [[]]}}",
      "name: x\nenv: {? [a]: b}",
      "name: x\nlimits: {pids: 99999999999999999999999}",
      "name: x\nlimits: {cpus: 1e999, memory: 1e30T}",
      "name: x\nmounts: [[], {}, 1, ~]",
      "--- \nname: a\n--- \nname: b\n",
      "name: !!binary aGVsbG8=\n",
      "%YAML 9.9\n---\nname: x",
  };
  for (const std::string& in : inputs) {
    auto p = parse_profile(in, "g.yaml");
    (void)p.ok();
  }
  std::mt19937 rng(1);
  const std::string alphabet = "name: {}[],-\n\t \"'&*!|>%@`#:0123456789abcdef~?";
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    const int len = static_cast<int>(rng() % 200);
    for (int j = 0; j < len; ++j) s += alphabet[rng() % alphabet.size()];
    auto p = parse_profile(s, "r.yaml");
    (void)p.ok();
  }
}

TEST(ProfileRobustness, ErrorFloodIsCapped) {
  std::string s = "name: x\ncapabilities: [";
  for (int i = 0; i < 500; ++i) s += "bogus" + std::to_string(i) + ", ";
  s += "]\n";
  auto p = parse_profile(s, "flood.yaml");
  ASSERT_FALSE(p.ok());
  const std::string& m = p.error().message;
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 100);
  EXPECT_NE(m.find("... and 400 more problems"), std::string::npos);
}

}  // namespace
}  // namespace cell
