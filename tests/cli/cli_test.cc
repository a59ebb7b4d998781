// End-to-end tests of the `cell` binary: exit codes (passthrough and judge), --json,
// --result, profile errors with file:line:col, `cell profile`, `cell doctor` (bad input:
// cli_usage_test.cc). The program is cell-probe in the test rootfs.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "cli/cli_support.hpp"
#include "support/requirements.hpp"
#include "support/sandbox.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"

namespace cell::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------
// Exit codes: one row per status.

struct ExitCase {
  std::string name;
  std::vector<std::string> options;
  std::vector<std::string> probe;
  int passthrough;  // -1: not fixed by SPEC (only "not 0" is checked)
  int judge;
  std::string status;
};

void PrintTo(const ExitCase& c, std::ostream* os) {
  *os << c.name;
}

std::vector<ExitCase> exit_cases() {
  return {
      {"ok", {}, {"exit", "0"}, 0, 0, "ok"},
      {"nonzero_exit", {}, {"exit", "3"}, 3, 1, "nonzero_exit"},
      {"signalled", {}, {"raise", "TERM"}, 128 + SIGTERM, 1, "signalled"},
      {"abort", {}, {"abort"}, 128 + SIGABRT, 1, "signalled"},
      {"time_limit_cpu", {"--cpu-time", "300ms"}, {"spin-forever"}, 124, 1, "time_limit_cpu"},
      {"time_limit_wall", {"--wall-time", "500ms"}, {"sleep", "60"}, 124, 1, "time_limit_wall"},
      {"output_limit",
       {"--output-limit", "64K", "--stdout", "capture", "--json"},  // capture needs a result
       {"print", "16777216"},
       -1,
       1,
       "output_limit"},
      {"disk_limit",
       {"--fsize", "64K"},
       {"fill", "/tmp/f", "1048576"},
       128 + SIGXFSZ,
       1,
       "disk_limit"},
      {"seccomp_violation", {}, {"syscall", "ptrace"}, -1, 1, "seccomp_violation"},
      {"setup_error",
       {"--bind", "/nonexistent-cell-test:/data"},
       {"exit", "0"},
       125,
       2,
       "setup_error"},
  };
}

class ExitCodes : public ::testing::TestWithParam<ExitCase> {};

TEST_P(ExitCodes, PassthroughAndJudge) {
  CELL_REQUIRE(Need::sandbox);
  const ExitCase& c = GetParam();
  const Finished pass = cell_run(c.options, c.probe);
  EXPECT_EQ(pass.signal, 0) << pass.describe();
  if (c.passthrough >= 0)
    EXPECT_EQ(pass.exit_code, c.passthrough) << pass.describe();
  else
    EXPECT_NE(pass.exit_code, 0) << pass.describe();

  std::vector<std::string> judge_opts = c.options;
  judge_opts.insert(judge_opts.end(), {"--exit-mode", "judge"});
  if (std::find(judge_opts.begin(), judge_opts.end(), "--json") == judge_opts.end())
    judge_opts.push_back("--json");
  const Finished judge = cell_run(judge_opts, c.probe);
  EXPECT_EQ(judge.exit_code, c.judge) << judge.describe();
  EXPECT_EQ(parse_json(judge).value("status", ""), c.status) << judge.describe();
}

INSTANTIATE_TEST_SUITE_P(Statuses, ExitCodes, ::testing::ValuesIn(exit_cases()),
                         [](const ::testing::TestParamInfo<ExitCase>& i) { return i.param.name; });

TEST(ExitCodes, ProgramNotFoundIs127AndNotExecutableIs126) {
  CELL_REQUIRE(Need::sandbox);
  const TestRootfs rootfs;
  rootfs.dir().write("not-executable", "#!/cell-probe\n", 0644);
  const Finished missing = cell({"run", "--rootfs", rootfs.path(), "--", "/no-such-program"});
  EXPECT_EQ(missing.exit_code, 127) << missing.describe();
  const Finished noexec = cell({"run", "--rootfs", rootfs.path(), "--", "/not-executable"});
  EXPECT_EQ(noexec.exit_code, 126) << noexec.describe();
  const Finished judged =
      cell({"run", "--exit-mode", "judge", "--rootfs", rootfs.path(), "--", "/no-such-program"});
  EXPECT_EQ(judged.exit_code, 2) << judged.describe();
}

// The sandbox's pid 1 killed from outside: cell's own failure, 125 / judge 3.
int exit_after_killing_init(const std::vector<std::string>& extra) {
  std::atomic<bool> killed{false};
  CommandOptions opts;
  opts.on_started = [&](pid_t cell_pid) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!killed && std::chrono::steady_clock::now() < deadline) {
      std::ifstream kids("/proc/" + std::to_string(cell_pid) + "/task/" + std::to_string(cell_pid) +
                         "/children");
      for (pid_t init; kids >> init;) {
        std::ifstream grandkids("/proc/" + std::to_string(init) + "/task/" + std::to_string(init) +
                                "/children");
        pid_t payload = -1;
        if (grandkids >> payload && cmdline_of(payload).rfind("/cell-probe sleep", 0) == 0)
          killed = ::kill(init, SIGKILL) == 0;
      }
      std::this_thread::sleep_for(5ms);
    }
  };
  const Finished f = cell_run(extra, {"sleep", "60"}, opts);
  EXPECT_TRUE(killed) << "never found the sandbox's pid 1\n" << f.describe();
  EXPECT_EQ(f.signal, 0) << f.describe();
  return f.exit_code;
}

TEST(ExitCodes, InternalErrorIs125OrJudge3) {
  CELL_REQUIRE(Need::sandbox);
  EXPECT_EQ(exit_after_killing_init({}), 125);
  EXPECT_EQ(exit_after_killing_init({"--exit-mode", "judge"}), 3);
}

// ---------------------------------------------------------------------------------------
// --json and --result

TEST(Json, HasTheSpecsFieldsAndTypes) {
  CELL_REQUIRE(Need::sandbox);
  const Finished f = cell_run({"--json"}, {"echo", "hello", "eprint", "warn", "abort"});
  EXPECT_EQ(f.exit_code, 128 + SIGABRT) << f.describe();
  const json j = parse_json(f);
  EXPECT_EQ(j.value("schema", ""), "cell.result/v1");
  EXPECT_EQ(j.value("status", ""), "signalled");
  EXPECT_EQ(j["signal"], SIGABRT);
  EXPECT_EQ(j["signal_name"], "SIGABRT");
  EXPECT_TRUE(j["exit_code"].is_null());
  EXPECT_TRUE(j["message"].is_string());
  EXPECT_TRUE(j["limits_hit"].is_array());
  for (const char* k : {"cpu_ns", "user_ns", "sys_ns", "wall_ns", "setup_ns", "memory_peak_bytes",
                        "pids_peak", "oom_kills"})
    EXPECT_TRUE(j["usage"][k].is_number_unsigned()) << "usage." << k;
  EXPECT_TRUE(j["limits"].is_object());
  EXPECT_EQ(j["stdout"]["data"], "hello\n");
  EXPECT_EQ(j["stdout"]["size_bytes"], 6);
  EXPECT_EQ(j["stdout"]["truncated"], false);
  EXPECT_EQ(j["stderr"]["data"], "warn\n");
  EXPECT_TRUE(j["violation"].is_null());
  EXPECT_TRUE(j["error"].is_null());
  EXPECT_TRUE(j["enforcement"]["cgroup"].is_string());
  EXPECT_EQ(j["enforcement"]["userns"], true);
  EXPECT_EQ(j["enforcement"]["seccomp"], true);
  EXPECT_TRUE(j["enforcement"]["degraded"].is_array());
  const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)");
  EXPECT_TRUE(std::regex_match(j.value("started_at", ""), iso)) << j["started_at"];
  EXPECT_TRUE(std::regex_match(j.value("ended_at", ""), iso)) << j["ended_at"];
}

TEST(Json, ViolationAndErrorObjects) {
  CELL_REQUIRE(Need::sandbox);
  const json v = parse_json(cell_run({"--json"}, {"syscall", "bpf"}));
  EXPECT_EQ(v.value("status", ""), "seccomp_violation");
  EXPECT_EQ(v["violation"]["kind"], "seccomp");
  EXPECT_EQ(v["violation"]["syscall"], "bpf");
  EXPECT_EQ(v["violation"]["nr"], 321);
  EXPECT_EQ(v["violation"]["arch"], "x86_64");

  const json e =
      parse_json(cell_run({"--json", "--bind", "/nonexistent-cell-test:/data"}, {"exit", "0"}));
  EXPECT_EQ(e.value("status", ""), "setup_error");
  EXPECT_EQ(e["error"]["step"], "bind_mount");
  EXPECT_EQ(e["error"]["errno"], "ENOENT");
  EXPECT_TRUE(e["error"]["message"].is_string());
  EXPECT_TRUE(e["error"]["hint"].is_string());
}

TEST(Json, ResultFileLeavesTheProgramsStdioAlone) {
  CELL_REQUIRE(Need::sandbox);
  const TempDir dir("cell-cli");
  const std::string file = dir.sub("result.json");
  const Finished f = cell_run({"--result", file}, {"echo", "to-stdout", "eprint", "to-stderr"});
  EXPECT_EQ(f.exit_code, 0) << f.describe();
  EXPECT_EQ(f.out, "to-stdout\n");
  EXPECT_EQ(f.err, "to-stderr\n");
  const json j = json::parse(dir.read("result.json"));
  EXPECT_EQ(j.value("schema", ""), "cell.result/v1");
  EXPECT_EQ(j.value("status", ""), "ok");
  EXPECT_EQ(j["exit_code"], 0);
}

// ---------------------------------------------------------------------------------------
// Profiles

// Three problems in one file: a bad unit, an unknown key, a wrong type.
constexpr const char* kBadProfile =
    "name: broken\n"
    "limits:\n"
    "  memory: 12Q\n"
    "  cpu_tme: 1s\n"
    "network: [none]\n";

const std::regex kProblemLine(R"(([^:\s]+):(\d+):(\d+): ([A-Za-z_.\[\]0-9]+): (.+))");

TEST(Profiles, CheckReportsEveryProblemWithFileLineColumn) {
  const TempDir dir("cell-cli");
  dir.write("bad.yaml", kBadProfile);
  const Finished f = cell({"profile", "check", dir.sub("bad.yaml")});
  EXPECT_EQ(f.exit_code, 1) << f.describe();
  const std::vector<std::string> lines = f.err_lines();
  EXPECT_EQ(lines.size(), 3u) << f.describe();
  std::set<std::string> at;
  for (const std::string& l : lines) {
    std::smatch m;
    EXPECT_EQ(l.rfind("cell: ", 0), 0u) << l;
    ASSERT_TRUE(std::regex_search(l, m, kProblemLine)) << l;
    EXPECT_EQ(m[1].str(), dir.sub("bad.yaml"));
    at.insert(m[2].str());
  }
  EXPECT_EQ(at, (std::set<std::string>{"3", "4", "5"})) << f.describe();
}

TEST(Profiles, RunWithABadProfileFileReportsItsProblems) {
  const TempDir dir("cell-cli");
  dir.write("bad.yaml", kBadProfile);
  for (const auto& [mode, code] : {std::pair<std::string, int>{"passthrough", 125}, {"judge", 2}}) {
    const Finished f =
        cell({"run", "--exit-mode", mode, "--profile", dir.sub("bad.yaml"), "--", "/bin/true"});
    EXPECT_EQ(f.exit_code, code) << f.describe();
    EXPECT_EQ(f.signal, 0);
    const std::vector<std::string> lines = f.err_lines();
    ASSERT_FALSE(lines.empty()) << f.describe();
    int problems = 0;
    for (const std::string& l : lines) problems += std::regex_search(l, kProblemLine) ? 1 : 0;
    EXPECT_EQ(problems, 3) << f.describe();
  }
}

TEST(Profiles, ShowPrintsAProfileThatChecksBackOk) {
  const TempDir dir("cell-cli");
  for (const char* name : {"minimal", "standard", "hardened", "paranoid"}) {
    const Finished show = cell({"profile", "show", name});
    ASSERT_EQ(show.exit_code, 0) << show.describe();
    dir.write(std::string(name) + ".yaml", show.out);
    const Finished check = cell({"profile", "check", dir.sub(std::string(name) + ".yaml")});
    EXPECT_EQ(check.exit_code, 0) << name << ": " << check.describe();
    EXPECT_EQ(check.err, "");
  }
}

// ---------------------------------------------------------------------------------------
// Doctor, version, and never a crash

TEST(Doctor, ExitsZeroWhereSandboxesWork) {
  CELL_REQUIRE(Need::sandbox);
  const Finished f = cell({"doctor"});
  EXPECT_EQ(f.exit_code, 0) << f.describe();
  EXPECT_FALSE(f.out.empty());
}

// `cell ARGS...` as root of a new user namespace whose user.max_user_namespaces is 0 (the
// sysctl is per namespace: the host's is untouched), so that no further one can be made there.
Finished cell_without_userns(const std::vector<std::string>& args, const TempDir& runtime) {
  const std::string script = "echo 0 > /proc/sys/user/max_user_namespaces || exit 99; exec \"$@\"";
  std::vector<std::string> argv = {"/usr/bin/unshare", "-U", "-r", "/bin/sh", "-c", script, "sh",
                                   cell_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions opts;
  opts.env = {"CELL_RUNTIME=" + runtime.path()};
  return run_command(argv, opts);
}

// With the user-namespace limit at 0 `cell run` cannot work: doctor says so (non-zero exit) and
// names the real cause and its fix, not a generic "not permitted" hint.
TEST(Doctor, FailsAndNamesTheSysctlWhenTheUsernsLimitIsReached) {
  CELL_REQUIRE(Need::userns);
  const TempDir runtime("cell-cli");
  const Finished f = cell_without_userns({"doctor"}, runtime);
  ASSERT_NE(f.exit_code, 99) << "could not set up the namespace\n" << f.describe();
  EXPECT_EQ(f.signal, 0) << f.describe();
  EXPECT_NE(f.exit_code, 0) << f.describe();
  EXPECT_NE(f.out.find("ENOSPC"), std::string::npos) << f.describe();
  EXPECT_NE(f.out.find("sysctl user.max_user_namespaces"), std::string::npos) << f.describe();
  EXPECT_EQ(f.out.find("run `cell doctor`"), std::string::npos) << f.describe();
  EXPECT_NE(f.out.find("cell run cannot work"), std::string::npos) << f.describe();
}

TEST(Doctor, RunThereGivesTheUsernsHint) {
  CELL_REQUIRE(Need::userns);
  const TempDir runtime("cell-cli");
  const Finished f = cell_without_userns({"run", "--", "/bin/true"}, runtime);
  ASSERT_NE(f.exit_code, 99) << "could not set up the namespace\n" << f.describe();
  EXPECT_EQ(f.exit_code, 125) << f.describe();
  EXPECT_NE(f.err.find("max_user_namespaces"), std::string::npos) << f.describe();
  const Finished j = cell_without_userns({"run", "--json", "--", "/bin/true"}, runtime);
  const json r = parse_json(j);
  EXPECT_EQ(r.value("status", ""), "setup_error") << j.describe();
  EXPECT_EQ(r["error"].value("errno", ""), "ENOSPC") << j.describe();
  EXPECT_NE(r["error"].value("hint", "").find("sysctl user.max_user_namespaces"), std::string::npos)
      << j.describe();
}

// Root of a user namespace that maps one id (`unshare -U -r`, a rootless container) owns no
// range of host ids to hand out: the run maps that one id, as an unprivileged caller's would.
TEST(NestedUserns, RootThereRunsWithItsOneId) {
  CELL_REQUIRE(Need::userns);
  const TempDir runtime("cell-cli");
  std::vector<std::string> argv = {
      "/usr/bin/unshare", "-U", "-r",      cell_binary(), "run",
      "--json",           "--", "/bin/sh", "-c",          "id -u; id -g"};
  CommandOptions opts;
  opts.env = {"CELL_RUNTIME=" + runtime.path()};
  const Finished f = run_command(argv, opts);
  const json r = parse_json(f);
  EXPECT_EQ(r.value("status", ""), "ok") << f.describe();
  EXPECT_EQ(r["stdout"].value("data", ""), "65534\n65534\n") << f.describe();
}

TEST(Version, PrintsTheVersion) {
  const Finished f = cell({"--version"});
  EXPECT_EQ(f.exit_code, 0) << f.describe();
  EXPECT_EQ(f.out.rfind("cell ", 0), 0u) << f.out;
}

}  // namespace
}  // namespace cell::test
