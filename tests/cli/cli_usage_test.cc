// How `cell` answers bad input: one `cell: ...` line naming what is wrong, exit 125 for
// `cell run` (2 in judge mode), 2 for other commands; with --json also a setup_error result on
// stdout, CLI11's own parse errors included. Nothing runs when a run could not be reported.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "support/requirements.hpp"
#include "support/sandbox.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"

namespace cell::test {
namespace {

using json = nlohmann::json;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// `cell run ARGS -- /bin/true` unless ARGS has its own `--`.
std::vector<std::string> run_args(std::vector<std::string> prefix,
                                  const std::vector<std::string>& args) {
  prefix.insert(prefix.begin(), "run");
  prefix.insert(prefix.end(), args.begin(), args.end());
  if (std::find(args.begin(), args.end(), "--") == args.end())
    prefix.insert(prefix.end(), {"--", "/bin/true"});
  return prefix;
}

// ---------------------------------------------------------------------------------------
// --json answers every usage error in JSON: CLI11's (unknown option, missing value) as well.

struct JsonUsageCase {
  std::vector<std::string> args;
  std::string named;  // what the error message must name
};

class JsonUsage : public ::testing::TestWithParam<JsonUsageCase> {};

TEST_P(JsonUsage, AnswersInJsonWith125OrJudge2) {
  const JsonUsageCase& c = GetParam();
  for (const auto& [mode, code] : {std::pair<std::string, int>{"passthrough", 125}, {"judge", 2}}) {
    const Finished f = cell(run_args({"--exit-mode", mode, "--json"}, c.args));
    EXPECT_EQ(f.signal, 0) << f.describe();
    EXPECT_EQ(f.exit_code, code) << mode << ": " << f.describe();
    const json j = parse_json(f);
    EXPECT_EQ(j.value("schema", ""), "cell.result/v1") << f.describe();
    EXPECT_EQ(j.value("status", ""), "setup_error") << f.describe();
    EXPECT_TRUE(contains(j["error"].value("message", ""), c.named)) << f.out;
    ASSERT_EQ(f.err_lines().size(), 1u) << f.describe();  // and one line for a human
    EXPECT_EQ(f.err_lines()[0].rfind("cell: ", 0), 0u) << f.err;
  }
}

void PrintTo(const JsonUsageCase& c, std::ostream* os) {
  for (const std::string& a : c.args) *os << a << " ";
}

INSTANTIATE_TEST_SUITE_P(
    Json, JsonUsage,
    ::testing::Values(JsonUsageCase{{"--cpu-time", "abc"}, "--cpu-time"},
                      JsonUsageCase{{"--bogus"}, "--bogus"},
                      JsonUsageCase{{"-x", "--", "/bin/true"}, "-x"},
                      JsonUsageCase{{"--cpu-time"}, "--cpu-time needs a value"},
                      JsonUsageCase{{"--memory", "--", "/bin/true"}, "--memory needs a value"},
                      JsonUsageCase{{"--memory="}, "--memory"},
                      JsonUsageCase{{"--exit-mode"}, "--exit-mode needs a value"}));

// The exit mode is known before the parse: the last --exit-mode wins, as in the parse.
TEST(JsonUsage, TheLastExitModeDecidesTheCode) {
  EXPECT_EQ(
      cell(run_args({"--exit-mode", "judge", "--exit-mode", "passthrough"}, {"--bogus"})).exit_code,
      125);
  EXPECT_EQ(cell(run_args({"--exit-mode=passthrough", "--exit-mode=judge"}, {"--bogus"})).exit_code,
            2);
}

// ---------------------------------------------------------------------------------------
// Bad flags of `cell run`: one line, 125 (passthrough) or 2 (judge), nothing on stdout.

class BadRunFlag : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(BadRunFlag, OneLineAnd125OrJudge2) {
  expect_one_line_error(cell(run_args({}, GetParam())), 125);
  expect_one_line_error(cell(run_args({"--exit-mode", "judge"}, GetParam())), 2);
}

using Args = std::vector<std::string>;
INSTANTIATE_TEST_SUITE_P(
    Flags, BadRunFlag,
    ::testing::Values(Args{"--cpu-time", "abc"}, Args{"--wall-time", "0"},
                      Args{"--cpu-time", "-1s"}, Args{"--memory", "12Q"}, Args{"--memory", "0"},
                      Args{"--memory", ""}, Args{"--memory", "--", "/bin/true"},
                      Args{"--pids", "-1"}, Args{"--pids", "99999999999999999999999"},
                      Args{"--pids", "4194304"}, Args{"--nofile", "99999999999999999999"},
                      Args{"--cpus", "0"}, Args{"--cpus", "0.001"}, Args{"--cpus", "nan"},
                      Args{"--cpuset", "3-1"}, Args{"--cpuset", "-"}, Args{"--cpuset", "1,,2"},
                      Args{"--cpuset", "0-"}, Args{"--network", "internet"}, Args{"--user", "root"},
                      Args{"--bind", "nocolon"}, Args{"--tmpfs", "/t:1X"}, Args{"--tmpfs", ""},
                      Args{"--stack", "huge"}, Args{"--stack", "0"},
                      Args{"--env-file", "/nonexistent-cell-test"}, Args{"--env-file", "/"},
                      Args{"-e", "CELL_TEST_SURELY_UNSET_VARIABLE"}, Args{"-e", ""},
                      Args{"--stdout", "capture"}, Args{"--stderr", "capture"},
                      Args{"--rootfs", "/nonexistent-cell-test"}, Args{"--image", "no-such-image"},
                      Args{"--profile", "no-such-profile"}, Args{"--seccomp", "no-such-policy"},
                      Args{"--no-such-flag"}, Args{"--cpu-time"}, Args{"--"},
                      Args{"--result", "/nonexistent-cell-test/dir/r.json"}));

std::string first_error_line(const std::vector<std::string>& args) {
  const Finished f = cell(args);
  const std::vector<std::string> lines = f.err_lines();
  return lines.empty() ? "" : lines[0];
}

TEST(BadRunFlag, MessagesNameTheFlagAndTheProblem) {
  EXPECT_EQ(first_error_line({"run", "--memory", "--", "/bin/true"}),
            "cell: --memory needs a value (see cell run --help)");
  const std::string capture = first_error_line({"run", "--stdout", "capture", "--", "/bin/true"});
  EXPECT_TRUE(contains(capture, "--stdout capture") && contains(capture, "--json") &&
              contains(capture, "--result"))
      << capture;
  const std::string pids = first_error_line({"run", "--pids", "99999999999999999999", "--", "x"});
  EXPECT_TRUE(contains(pids, "--pids") && contains(pids, "too large")) << pids;
  const std::string env = first_error_line({"run", "-e", "CELL_TEST_SURELY_UNSET", "--", "x"});
  EXPECT_TRUE(contains(env, "CELL_TEST_SURELY_UNSET") && contains(env, "not set")) << env;
  EXPECT_TRUE(contains(first_error_line({"run", "--env-file", "/", "--", "x"}), "directory"));
}

// ---------------------------------------------------------------------------------------
// --result FILE is checked before anything runs.

TEST(ResultFile, AnUnwritablePlaceFailsBeforeTheProgramRuns) {
  const TempDir dir("cell-cli");
  const std::string bad = dir.sub("no-such-dir/r.json");
  for (const std::string& target : {bad, dir.path()}) {
    const Finished f = cell_run({"--result", target}, {"echo", "RAN"});
    expect_one_line_error(f, 125);  // stdout empty: the program never ran
    EXPECT_TRUE(contains(f.err, "--result '" + target + "'")) << f.describe();
  }
  const Finished judged = cell_run({"--exit-mode", "judge", "--json", "--result", bad}, {"echo"});
  EXPECT_EQ(judged.exit_code, 2) << judged.describe();
  EXPECT_EQ(parse_json(judged).value("status", ""), "setup_error");
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));  // no temporary file left behind
}

// A device (here through a symlink to /dev/null) is written in place, never renamed over.
TEST(ResultFile, ADeviceIsWrittenInPlace) {
  CELL_REQUIRE(Need::sandbox);
  const TempDir dir("cell-cli");
  const std::string link = dir.sub("null");
  ASSERT_EQ(::symlink("/dev/null", link.c_str()), 0);
  const Finished f = cell_run({"--result", link}, {"exit", "0"});
  EXPECT_EQ(f.exit_code, 0) << f.describe();
  struct stat st {};
  ASSERT_EQ(::lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the symlink was replaced";
}

TEST(ResultFile, CaptureGoesIntoTheResultFile) {
  CELL_REQUIRE(Need::sandbox);
  const TempDir dir("cell-cli");
  const Finished f = cell_run({"--stdout", "capture", "--result", dir.sub("r.json")},
                              {"echo", "captured", "eprint", "inherited"});
  EXPECT_EQ(f.exit_code, 0) << f.describe();
  EXPECT_EQ(f.out, "");
  EXPECT_EQ(f.err, "inherited\n");
  EXPECT_EQ(json::parse(dir.read("r.json"))["stdout"]["data"], "captured\n");
}

// ---------------------------------------------------------------------------------------
// Commands

TEST(BadCommand, NamesTheUnknownCommandAndListsTheOthers) {
  const Finished f = cell({"frob"});
  expect_one_line_error(f, 2);
  EXPECT_EQ(f.err.rfind("cell: unknown command 'frob' (commands: run, profile, doctor", 0), 0u)
      << f.err;
  const Finished sub = cell({"profile", "frob"});
  expect_one_line_error(sub, 2);
  EXPECT_TRUE(contains(sub.err, "'profile frob'") && contains(sub.err, "check, show")) << sub.err;
  const Finished missing = cell({"image"});
  expect_one_line_error(missing, 2);
  EXPECT_TRUE(contains(missing.err, "missing command after 'cell image'")) << missing.err;
  const Finished option = cell({"--no-such-flag"});
  expect_one_line_error(option, 2);
  EXPECT_TRUE(contains(option.err, "unknown option '--no-such-flag'")) << option.err;
}

TEST(BadCommand, OtherCommandsGiveOneLineAndExit2) {
  expect_one_line_error(cell({}), 2);
  expect_one_line_error(cell({"profile", "show", "no-such-profile"}), 2);
  expect_one_line_error(cell({"profile", "show"}), 2);
  expect_one_line_error(cell({"run", "--exit-mode", "sometimes", "--", "/bin/true"}), 125);
}

TEST(BadCommand, ProfileCheckErrorsStartWithCell) {
  const Finished missing = cell({"profile", "check", "/nonexistent-cell-test.yaml"});
  expect_one_line_error(missing, 1);
  EXPECT_TRUE(contains(missing.err, "/nonexistent-cell-test.yaml")) << missing.err;
  expect_one_line_error(cell({"profile", "check", "/tmp"}), 1);
}

// ---------------------------------------------------------------------------------------
// Never a crash

TEST(Robustness, StrangeInputsNeverCrash) {
  const TempDir dir("cell-cli");
  dir.write("empty.yaml", "");
  dir.write("binary.yaml", std::string("\0\xff\xfe:\n\t- [", 7));
  dir.write("deep.yaml", std::string(5000, '[') + std::string(5000, ']'));
  const std::vector<std::vector<std::string>> inputs = {
      {"run"},
      {"run", "--"},
      {"run", "--profile", dir.sub("empty.yaml"), "--", "/bin/true"},
      {"run", "--profile", dir.sub("binary.yaml"), "--", "/bin/true"},
      {"run", "--profile", dir.sub("deep.yaml"), "--", "/bin/true"},
      {"run", "--cpu-time", "99999999999999999999s", "--", "/bin/true"},
      {"run", "--wall-time", "1e400s", "--", "/bin/true"},
      {"run", "--memory", "-5M", "--", "/bin/true"},
      {"run", "--memory", "99999999999999T", "--", "/bin/true"},
      {"run", "--cpus", "1e999", "--", "/bin/true"},
      {"run", "--env", "=x", "--", "/bin/true"},
      {"run", "--user", "", "--", "/bin/true"},
      {"run", "--user", ":", "--", "/bin/true"},
      {"run", "--bind", ":", "--", "/bin/true"},
      {"run", "--tmpfs", ":", "--", "/bin/true"},
      {"run", "-w", "relative/dir", "--", "/bin/true"},
      {"run", "--bind", "/tmp:/proc", "--", "/bin/true"},
      {"run", "--hostname", std::string(300, 'h'), "--", "/bin/true"},
      {"run", "--", ""},
      {"profile", "check", dir.sub("binary.yaml")},
      {"profile", "check", dir.sub("deep.yaml")},
      {"profile", "check", dir.path()},
      {"profile", "check", ""},
      {"profile"},
      {""},
  };
  for (const std::vector<std::string>& in : inputs) {
    const Finished f = cell(in);
    std::string shown;
    for (const std::string& a : in) shown += a.substr(0, 40) + " ";
    EXPECT_EQ(f.signal, 0) << shown << f.describe();
    EXPECT_NE(f.exit_code, 0) << shown << f.describe();
    EXPECT_LT(f.exit_code, 128) << shown << f.describe();
    EXPECT_FALSE(f.err.empty()) << shown << "fails silently";
    for (const std::string& line : f.err_lines())
      EXPECT_EQ(line.rfind("cell: ", 0), 0u) << shown << f.describe();
  }
}

}  // namespace
}  // namespace cell::test
