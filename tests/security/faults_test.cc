// Faults: the cell process SIGKILLed mid-run, malformed profiles and requests, an unwritable
// data directory (the host's own faults, a full disk and blocked user namespaces, are in
// host_faults_test.cc). cell must leave nothing running or
// half-written behind, and answer with a clear error instead of crashing.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <thread>

#include "security/cli.hpp"
#include "security/common.hpp"
#include "support/subprocess.hpp"

namespace cell::test::sec {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Finished cell(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {cell_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions o;
  o.env = env;
  return run_command(argv, o);
}

// No crash, no sanitizer report, no C++ exception escaping; a failure says why in one line.
void expect_no_crash(const Finished& f, const std::string& what) {
  EXPECT_EQ(f.signal, 0) << what << ": cell crashed\n" << f.describe();
  EXPECT_LT(f.exit_code, 128) << what << "\n" << f.describe();
  for (const char* bad : {"terminate called", "AddressSanitizer", "runtime error:", "Aborted"})
    EXPECT_EQ(f.err.find(bad), std::string::npos) << what << "\n" << f.describe();
  if (f.exit_code != 0) {
    EXPECT_FALSE(f.err.empty()) << what << ": failed without a message";
  }
}

void expect_clean_failure(const Finished& f, const std::string& what) {
  expect_no_crash(f, what);
  EXPECT_NE(f.exit_code, 0) << what << " was accepted\n" << f.describe();
}

// --- SIGKILL of cell mid-run ----------------------------------------------------------------

// The sandbox's pid 1 has PR_SET_PDEATHSIG (SIGKILL) against cell: when cell dies, pid 1 dies
// and the kernel kills the rest of its pid namespace. `cell gc` then removes the run's cgroup.
TEST(KilledCell, LeavesNoRunningSandboxAndGcClearsTheRest) {
  CELL_REQUIRE(Need::sandbox);
  const TempDir runtime("cell-sec-rt");
  ::chmod(runtime.path().c_str(), 0755);
  const std::string token = unique_token("killed");
  std::chrono::milliseconds took{-1};
  std::vector<pid_t> survivors;
  pid_t cli = -1;
  bool payload_seen = false;  // the probe was running in the sandbox before cell was killed
  CommandOptions o;
  o.env = {"CELL_RUNTIME=" + runtime.path()};
  o.on_started = [&](pid_t pid) {
    cli = pid;
    const auto deadline = Clock::now() + 30s;
    auto payload_runs = [&] {
      for (pid_t p : processes_with(token))
        if (cmdline_of(p).rfind("/cell-probe", 0) == 0) return true;
      return false;
    };
    while (!(payload_seen = payload_runs()) && Clock::now() < deadline)
      std::this_thread::sleep_for(5ms);
    ::kill(pid, SIGKILL);
    const auto t0 = Clock::now();
    while (!(survivors = processes_with(token)).empty() && Clock::now() - t0 < 5s)
      std::this_thread::sleep_for(2ms);
    took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  };
  // Stdio away from our pipes, so that a surviving payload cannot keep this call waiting.
  const Finished f =
      run_command({cell_binary(), "run", "--rootfs", shared_rootfs().path(), "--wall-time", "60s",
                   "--stdin", "none", "--stdout", "/dev/null", "--stderr", "/dev/null", "--",
                   "/cell-probe", "echo", token, "sleep", "60"},
                  o);
  ASSERT_EQ(f.signal, SIGKILL) << f.describe();
  ASSERT_TRUE(payload_seen)
      << "the payload never showed up within 30 s: nothing was killed mid-run";
  std::printf("[ figures  ] sandbox gone %lld ms after SIGKILL of cell\n",
              static_cast<long long>(took.count()));
  EXPECT_TRUE(survivors.empty()) << survivors.size()
                                 << " process(es) of the run survive cell's SIGKILL, e.g. "
                                 << cmdline_of(survivors.front());
  EXPECT_LE(took, 1000ms) << "the sandbox took too long to go";

  const std::vector<std::string> env = {"CELL_RUNTIME=" + runtime.path()};
  const Finished gc = cell({"gc", "--owner", std::to_string(cli)}, env);
  if (rootless()) {
    EXPECT_EQ(gc.signal, 0) << gc.describe();  // no cgroup here: nothing to collect
  } else {
    EXPECT_EQ(gc.exit_code, 0) << gc.describe();
    const Finished again = cell({"gc", "--dry-run", "--owner", std::to_string(cli)}, env);
    EXPECT_EQ(again.exit_code, 0) << again.describe();
    EXPECT_EQ(again.out.find("would remove"), std::string::npos) << again.describe();
  }
  // The caches of compiled filters and parsed profiles are meant to outlive runs; nothing else.
  const fs::path rt(runtime.path());
  for (auto it = fs::recursive_directory_iterator(runtime.path());
       it != fs::recursive_directory_iterator(); ++it) {
    if (it->path() == rt / "seccomp" || it->path() == rt / "profiles") {
      it.disable_recursion_pending();
      continue;
    }
    EXPECT_TRUE(it->is_directory() && fs::is_empty(it->path()))
        << "left in the runtime directory: " << it->path();
  }
  survivors = processes_with(token);
  for (pid_t p : survivors) ::kill(p, SIGKILL);  // never leave a stray sleeper behind
}

// --- malformed profiles and requests --------------------------------------------------------

std::vector<std::pair<std::string, std::string>> malformed_profiles() {
  std::vector<std::pair<std::string, std::string>> v = {
      {"empty", ""},
      {"open_brace", "{"},
      {"open_bracket", "["},
      {"tab", "name:\tx\n\tlimits: 1"},
      {"nul", std::string("name: a\0b\n", 10)},
      {"invalid_utf8", "name: \xff\xfe\n"},
      {"scalar", "just a string"},
      {"list", "- a\n- b\n"},
      {"negative_memory", "name: x\nlimits: {memory: -1}\n"},
      {"huge_memory", "name: x\nlimits: {memory: 99999999999999999999999999G}\n"},
      {"huge_time", "name: x\nlimits: {wall_time: 1e308s}\n"},
      {"nan_cpus", "name: x\nlimits: {cpus: .nan}\n"},
      {"unknown_group", "name: x\nseccomp: {deny: ['@no-such-group']}\n"},
      {"bad_target", "name: x\nmounts: [{type: tmpfs, target: ../../x}]\n"},
      {"bind_root", "name: x\nmounts: [{type: bind, source: /, target: /}]\n"},
      {"alias_loop", "name: x\nenv: &a {A: *a}\n"},
      {"binary_name", "name: !!binary \"AAAA\"\nlimits: !!binary AAAA\n"},
      {"deep", std::string(20000, '[') + std::string(20000, ']')},
      {"long_key", std::string(100000, 'k') + ": 1\n"},
      {"many_errors",
       [] {
         std::string s = "name: x\n";
         for (int i = 0; i < 5000; ++i) s += "k" + std::to_string(i) + ": 1\n";
         return s;
       }()},
  };
  return v;
}

TEST(Malformed, ProfilesNeverCrashCell) {
  CELL_REQUIRE(Need::sandbox);
  const TempDir dir("cell-sec-profiles");
  ::chmod(dir.path().c_str(), 0755);
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& [name, text] : malformed_profiles()) {
    dir.write(name + ".yaml", text);
    files.emplace_back(name, dir.sub(name + ".yaml"));
  }
  const std::string data = CELL_TEST_DATA "/profiles/invalid";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(data, ec))
    if (e.path().extension() == ".yaml") files.emplace_back(e.path().filename(), e.path());
  files.emplace_back("dev_zero", "/dev/zero");
  files.emplace_back("directory", dir.path());
  files.emplace_back("proc_mem", "/proc/self/mem");
  for (const auto& [name, path] : files) {
    expect_clean_failure(cell({"profile", "check", path}), "profile check " + name);
    const Finished run = cell({"run", "--rootfs", shared_rootfs().path(), "--profile", path,
                               "--exit-mode", "judge", "--", "/cell-probe", "exit", "0"});
    expect_clean_failure(run, "run --profile " + name);
    EXPECT_EQ(run.exit_code, 2) << name << ": judge mode exits 2 for a bad profile";
  }
}

TEST(Malformed, RequestsNeverCrashCell) {
  CELL_REQUIRE(Need::sandbox);
  const std::vector<std::vector<std::string>> bad = {
      {"--memory", "1ZB"},
      {"--wall-time", "-1s"},
      {"--wall-time", "1e999s"},
      {"--cpu-time", "nan"},
      {"--cpus", "nan"},
      {"--cpus", "-1"},
      {"--cpus", "1e999"},
      {"--cpuset", "a-b"},
      {"--pids", "0"},
      {"--pids", "-1"},
      {"--nofile", "0"},
      {"--memory", "18446744073709551616"},
      {"--user", "abc"},
      {"--user", "4294967296"},
      {"--user", "1:"},
      {"--bind", ":::"},
      {"--bind", "/etc:relative"},
      {"--bind", "/etc:/"},
      {"--bind", "/etc:/proc"},
      {"--bind", "/etc:/x/../.."},
      {"--tmpfs", "relative"},
      {"--tmpfs", "/:1"},
      {"--tmpfs", "/x:-5"},
      {"--hostname", std::string(300, 'h')},
      {"--env", "=x"},
      {"-w", "relative"},
      {"-w", "/nonexistent/deeper"},
      {"--network", "bogus"},
      {"--seccomp", "/nonexistent"},
      {"--stdin", "/nonexistent"},
      {"--stdout", "/proc/nope/x"},
      {"--exit-mode", "bogus"},
      {"--profile", "no-such-profile"},
      {"--no-such-flag"},
      {"--bind", std::string(70000, 'b') + ":/x"},
  };
  // Odd but not necessarily wrong: answered either way, never a crash.
  const std::vector<std::vector<std::string>> odd = {
      {"--nofile", "99999999999999999999"},
      {"--hostname", ""},
      {"--stack", "0"},
      {"--fsize", "1"},
      {"--output-limit", "0"},
      {"--tmpfs", "/x:1"},
      {"--env", "A"},
      {"--cpuset", "99999"},
      {"--cpuset", "99999999999"},  // checked by the cgroup, if any
  };
  for (const bool must_fail : {true, false})
    for (const std::vector<std::string>& opts : must_fail ? bad : odd) {
      // Judge mode: 0-3 are cell's answers, so a code >= 128 can only be cell dying.
      std::vector<std::string> args = {"run", "--exit-mode", "judge", "--rootfs",
                                       shared_rootfs().path()};
      args.insert(args.end(), opts.begin(), opts.end());
      args.insert(args.end(), {"--", "/cell-probe", "exit", "0"});
      const std::string what =
          "run " + opts.front() + " " + (opts.size() > 1 ? opts[1].substr(0, 40) : "");
      const Finished f = cell(args);
      must_fail ? expect_clean_failure(f, what) : expect_no_crash(f, what);
    }
  expect_clean_failure(cell({"run", "--rootfs", shared_rootfs().path()}), "run without a program");
  expect_clean_failure(cell({"run", "--image", "../../etc", "--", "true"}), "image ../../etc");
  expect_clean_failure(cell({"run", "--rootfs", "/nonexistent", "--", "true"}), "rootfs missing");
  expect_clean_failure(cell({"no-such-command"}), "unknown command");
}

// The library answers bad RunSpecs with an error or a setup_error verdict, never a crash (the
// sanitizer build runs this too).
TEST(Malformed, RunSpecsAreAnsweredNotCrashedOn) {
  CELL_REQUIRE(Need::sandbox);
  std::vector<std::pair<std::string, std::function<void(RunSpec&)>>> cases = {
      {"empty argv", [](RunSpec& s) { s.argv.clear(); }},
      {"empty program", [](RunSpec& s) { s.argv = {""}; }},
      {"relative mount target",
       [](RunSpec& s) {
         s.mounts.push_back({Mount::Kind::tmpfs, "", "x", true, 0, "t"});
       }},
      {"root mount target",
       [](RunSpec& s) {
         s.mounts.push_back({Mount::Kind::tmpfs, "", "/", true, 0, "t"});
       }},
      {"dotdot target",
       [](RunSpec& s) {
         s.mounts.push_back({Mount::Kind::tmpfs, "", "/tmp/../../..", true, 0, "t"});
       }},
      {"tiny tmpfs",
       [](RunSpec& s) {
         s.mounts.push_back({Mount::Kind::tmpfs, "", "/t", true, 1, "t"});
       }},
      {"bind missing",
       [](RunSpec& s) {
         s.mounts.push_back({Mount::Kind::bind, "/nonexistent", "/b", false, 0, "t"});
       }},
      {"bind relative",
       [](RunSpec& s) {
         s.mounts.push_back({Mount::Kind::bind, "rel", "/b", false, 0, "t"});
       }},
      {"relative workdir", [](RunSpec& s) { s.workdir = "rel"; }},
      {"long hostname", [](RunSpec& s) { s.hostname = std::string(5000, 'h'); }},
      {"empty env key", [](RunSpec& s) { s.env.emplace_back("", "x"); }},
      {"env key with =", [](RunSpec& s) { s.env.emplace_back("A=B", "x"); }},
      {"env with NUL", [](RunSpec& s) { s.env.emplace_back("A", std::string("x\0y", 3)); }},
      {"argv with NUL", [](RunSpec& s) { s.argv.push_back(std::string("a\0b", 3)); }},
      {"uid max", [](RunSpec& s) { s.uid = 4294967295u; }},
      {"cpus nan", [](RunSpec& s) { s.limits.cpus = std::numeric_limits<double>::quiet_NaN(); }},
      {"cpus negative", [](RunSpec& s) { s.limits.cpus = -1; }},
      {"cpus huge", [](RunSpec& s) { s.limits.cpus = 1e300; }},
      {"cpuset junk", [](RunSpec& s) { s.limits.cpuset = "x,,-"; }},
      {"pids zero", [](RunSpec& s) { s.limits.pids = 0; }},
      {"memory zero", [](RunSpec& s) { s.limits.memory_bytes = 0; }},
      {"nofile zero", [](RunSpec& s) { s.limits.nofile = 0; }},
      {"nofile max", [](RunSpec& s) { s.limits.nofile = Limits::kUnlimited; }},
      {"wall zero", [](RunSpec& s) { s.limits.wall_time = Nanos(0); }},
      {"wall negative", [](RunSpec& s) { s.limits.wall_time = Nanos(-1); }},
      {"cpu negative", [](RunSpec& s) { s.limits.cpu_time = Nanos(-5); }},
      {"output zero", [](RunSpec& s) { s.limits.output_bytes = 0; }},
      {"stdin fd closed", [](RunSpec& s) { s.stdin_ = Stdio::borrowed(9999); }},
      {"stdout to dir", [](RunSpec& s) { s.stdout_ = Stdio::file("/"); }},
      {"stdin captured", [](RunSpec& s) { s.stdin_ = Stdio::capture(); }},
      {"image and rootfs", [](RunSpec& s) { s.image = "no-such-image"; }},
      {"no root at all",
       [](RunSpec& s) {
         s.rootfs.clear();
         s.image.clear();
       }},
      {"seccomp junk", [](RunSpec& s) { s.seccomp = "/dev/zero"; }},
      {"profile junk", [](RunSpec& s) { s.profile = "/dev/null"; }},
      {"cgroup parent junk", [](RunSpec& s) { s.cgroup_parent = "../../.."; }},
  };
  for (const auto& [name, tweak] : cases) {
    RunSpec spec = probe_spec({"exit", "0"});
    spec.limits.wall_time = 10s;
    tweak(spec);
    const ProbeRun r = run_spec(spec);
    if (r.error) {
      EXPECT_FALSE(r.error->message.empty()) << name;
      EXPECT_EQ(r.error->message.find('\n'), std::string::npos) << name << ": " << r.error->message;
      continue;
    }
    // Some of these are valid after all (a run happens); none may hang or crash.
    EXPECT_NE(r.result.status, Status::internal_error) << name << ": " << r.describe();
  }
}

// --- an unwritable data directory -----------------------------------------------------------

TEST(DataDir, UnwritableGivesAClearError) {
  CELL_REQUIRE(Need::sandbox);
  const TempDir dir("cell-sec-data");
  ::chmod(dir.path().c_str(), 0755);
  dir.write("file", "not a directory\n");
  std::vector<std::string> unusable = {dir.sub("file/data"), "/proc/cell-data"};
  if (rootless()) {
    ::mkdir(dir.sub("readonly").c_str(), 0555);
    unusable.push_back(dir.sub("readonly/data"));
  }
  dir.write("rootfs.tar", "");
  const Finished tar = run_command(
      {"/usr/bin/tar", "-C", shared_rootfs().path(), "-cf", dir.sub("rootfs.tar"), "./cell-probe"});
  ASSERT_EQ(tar.exit_code, 0) << tar.describe();
  for (const std::string& data : unusable) {
    const std::vector<std::string> env = {"CELL_DATA=" + data};
    const Finished import = cell({"image", "import", "rootfs-tar:" + dir.sub("rootfs.tar")}, env);
    expect_clean_failure(import, "import into " + data);
    const std::vector<std::string> lines = import.err_lines();
    EXPECT_EQ(lines.size(), 1u) << "one line:\n" << import.err;
    EXPECT_NE(import.err.find(data), std::string::npos) << "the data directory is not named";
    EXPECT_NE(import.err.find("CELL_DATA"), std::string::npos) << "no hint: " << import.err;
    // Reading an unusable store: an empty list or an error, never a crash.
    expect_no_crash(cell({"image", "ls"}, env), "image ls with " + data);
    expect_clean_failure(cell({"run", "--image", "some-image", "--", "/cell-probe"}, env),
                         "run --image with " + data);
  }
}

}  // namespace
}  // namespace cell::test::sec
