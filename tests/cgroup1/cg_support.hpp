// Shared by the cgroup1 (this host, as root) and cgroup2 (the VM, root and delegated user)
// suites: the same tests run against whichever driver the suite expects.
#pragma once

#include <gtest/gtest.h>

#include <cell/cell.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cgroup/cgroup.hpp"
#include "cgroup/fs.hpp"
#include "cgroup/parse.hpp"
#include "support/temp_dir.hpp"

namespace cell::cgtest {

constexpr std::uint64_t kMiB = 1 << 20;

inline std::string expected_mode() {
  return CELL_EXPECT_CGROUP;
}
inline bool in_vm() {
  return std::getenv("VMRUN") != nullptr;
}
// Built-in paths, or copies elsewhere (tools/vm-test.sh stages them where an unprivileged user
// can reach them): CELL_TEST_CG_PROG, CELL_TEST_CLI.
inline std::string from_env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}
inline std::string cg_prog_path() {
  return from_env("CELL_TEST_CG_PROG", CELL_CG_PROG);
}
inline std::string cli_path() {
  return from_env("CELL_TEST_CLI", CELL_CLI);
}
inline std::string prog_dir() {
  return cgroup::fs::dirname(cg_prog_path());
}
inline const char* kProg = "/opt/cg/cg_prog";

// Why this suite cannot run here, or "" when the expected driver is usable with all limits.
inline std::string missing_driver() {
  auto d = cgroup::detect({.parent = "", .inspect_only = true});
  if (!d.ok()) return "no usable cgroup driver: " + d.error().what();
  if ((*d)->mode() != expected_mode())
    return "this suite needs cgroup " + expected_mode() + ", but runs would use " +
           (*d)->describe() +
           (expected_mode() == "v2" ? " (run it in the VM: tools/vm-test.sh)" : "");
  for (const char* c : {"memory", "pids", "cpu"})
    if (!(*d)->supports(c))
      return std::string("the ") + c + " controller is not available: " + (*d)->describe();
  return "";
}

// CELL_TEST_STRICT=1 (CI, and the VM) turns the skip into a failure: there the driver must work.
inline bool strict_tests() {
  const char* v = std::getenv("CELL_TEST_STRICT");
  return v != nullptr && std::string(v) == "1";
}

#define CELL_REQUIRE_DRIVER()                                                       \
  do {                                                                              \
    if (const std::string why = ::cell::cgtest::missing_driver(); !why.empty()) {   \
      if (::cell::cgtest::strict_tests()) FAIL() << why << " (CELL_TEST_STRICT=1)"; \
      GTEST_SKIP() << why;                                                          \
    }                                                                               \
  } while (0)

// A spec running cg_prog (bound read-only at /opt/cg) with captured output.
inline RunSpec prog_spec(std::vector<std::string> args) {
  RunSpec s;
  s.argv = {kProg};
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  Mount m;
  m.source = prog_dir();
  m.target = "/opt/cg";
  s.mounts.push_back(m);
  s.stdin_ = Stdio::null();
  s.stdout_ = Stdio::capture();
  s.stderr_ = Stdio::capture();
  s.limits.wall_time = std::chrono::seconds(in_vm() ? 120 : 30);
  s.require_cgroup = true;
  return s;
}

inline bool has_hit(const RunResult& r, const std::string& limit) {
  return std::find(r.limits_hit.begin(), r.limits_hit.end(), limit) != r.limits_hit.end();
}

inline std::string describe(const RunResult& r) {
  return r.to_json(-1).substr(0, 4000);
}

// Prints a measurement into the test log (CI keeps it) and the XML report.
inline void measured(const std::string& what, double value, const char* unit) {
  std::printf("[ measured ] %s = %.3f %s\n", what.c_str(), value, unit);
  ::testing::Test::RecordProperty(what, std::to_string(value));
}

// Leaves of this process's runs still present under the driver's parents.
inline std::vector<std::string> own_leaves() {
  std::vector<std::string> out;
  auto d = cgroup::detect({.parent = "", .inspect_only = true});
  if (!d.ok()) return out;
  for (const std::string& p : (*d)->parent_dirs())
    for (const std::string& name : cgroup::fs::subdirs(p))
      if (auto o = cgroup::run_leaf_owner(name); o && o->pid == ::getpid())
        out.push_back(p + "/" + name);
  return out;
}

// The runtime's directories under `dir`, which the sandbox's mapped users must traverse.
inline Runtime open_runtime(const test::TempDir& dir) {
  ::chmod(dir.path().c_str(), 0755);
  RuntimeOptions o;
  o.runtime_dir = dir.sub("run");
  o.data_dir = dir.sub("data");
  auto rt = Runtime::open(o);
  if (!rt.ok()) throw std::runtime_error(rt.error().what());
  return std::move(rt).value();
}

}  // namespace cell::cgtest
