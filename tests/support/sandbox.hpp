// Running cell-probe in a real sandbox through cell::Runtime, and reading what it printed.
//
//   ProbeRun r = run_probe({"ids", "status"});
//   ASSERT_EQ(r.result.status, Status::ok) << r.describe();
//   EXPECT_EQ(r.facts.get("CapEff"), "0000000000000000");
#pragma once

#include <cell/cell.hpp>

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace cell::test {

// The cell-probe binary: $CELL_TEST_PROBE, else the one built with the tests (CELL_PROBE_PATH).
const char* probe_path();

// One Runtime for the whole test binary (default directories, like the CLI).
const Result<Runtime>& test_runtime();

// A minimal root filesystem for a sandbox: /cell-probe, empty /proc /dev /tmp /sys, and with
// busybox, /bin/busybox plus /bin/sh. World-readable, so a sandbox user mapped to any host
// uid can use it.
class TestRootfs {
 public:
  struct Options {
    bool busybox = false;
    bool mount_points = true;  // false: no /proc /dev /tmp /sys (cell must build a skeleton)
  };
  TestRootfs() : TestRootfs(Options{}) {}
  explicit TestRootfs(Options o);
  [[nodiscard]] const std::string& path() const { return dir_.path(); }
  [[nodiscard]] const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
};

// The rootfs run_probe uses by default (with busybox when the host has it), built once.
const TestRootfs& shared_rootfs();

// `key=value` lines as the probe prints them; keys may repeat.
class Facts {
 public:
  Facts() = default;
  explicit Facts(const std::string& text);
  [[nodiscard]] std::string get(const std::string& key) const;  // first value, "" if absent
  [[nodiscard]] std::vector<std::string> all(const std::string& key) const;
  [[nodiscard]] bool has(const std::string& key) const { return !all(key).empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> kv_;
};

struct ProbeRun {
  std::optional<Error> error;  // Runtime::run refused the request (no RunResult)
  RunResult result;
  Facts facts;  // parsed from the captured stdout
  // Status, message, error, stdout and stderr: for assertion messages.
  [[nodiscard]] std::string describe() const;
};

// A RunSpec for `/cell-probe ARGS...` in shared_rootfs(): stdout/stderr captured, stdin
// /dev/null, a 30 s wall-time backstop so a broken run cannot hang the suite.
RunSpec probe_spec(const std::vector<std::string>& args);
// Switches `spec` from the test rootfs to the host image, with the probe bound at /cell-probe.
void use_host_image(RunSpec& spec);

// probe_spec(args), then `tweak`, then Runtime::run.
ProbeRun run_probe(const std::vector<std::string>& args,
                   const std::function<void(RunSpec&)>& tweak = {});
ProbeRun run_spec(const RunSpec& spec);

// Direct children of this process (every thread), from /proc/self/task/*/children.
std::vector<pid_t> child_pids();
// The argv of a process, space-joined ("" if gone).
std::string cmdline_of(pid_t pid);

}  // namespace cell::test
