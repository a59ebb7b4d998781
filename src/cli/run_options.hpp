// The flags of `cell run` (SPEC "cell run") and their translation into a RunSpec.
#pragma once

#include <CLI/CLI.hpp>

#include <cell/cell.hpp>

#include <string>
#include <vector>

namespace cell::cli {

struct RunOptions {
  std::string image = "host", rootfs, profile = "standard", workdir, workspace;
  std::vector<std::string> binds, tmpfs, env, env_files;
  std::string user, hostname, network, seccomp;
  std::string cpu_time, wall_time, memory, pids, cpus, cpuset, fsize, nofile, stack, output_limit;
  std::string stdin_, stdout_ = "-", stderr_ = "-";
  bool json = false;
  std::string result_file;
  std::string exit_mode = "passthrough";
  bool judge_mode = false;
  std::string idmap = "auto";
  bool require_cgroup = false;
  std::string cgroup_parent;
  std::vector<std::string> argv;
};

void register_run_options(CLI::App& run, RunOptions& o);
// Every flag's value is checked here; errors name the flag.
Result<RunSpec> to_run_spec(RunOptions& o);

}  // namespace cell::cli
