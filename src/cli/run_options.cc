#include "cli/run_options.hpp"

#include <limits.h>
#include <stdlib.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/errno_names.hpp"
#include "base/io.hpp"
#include "base/strings.hpp"

namespace cell::cli {

namespace {
// Like docker and bwrap: a scalar flag given twice keeps its last value.
void last_wins(CLI::Option* opt) {
  opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}
}  // namespace

void register_run_options(CLI::App& run, RunOptions& o) {
  last_wins(
      run.add_option("--image", o.image, "imported image NAME[:TAG] or sha256:..., or `host`"));
  last_wins(run.add_option("--rootfs", o.rootfs, "a directory used as the read-only root"));
  last_wins(
      run.add_option("--profile", o.profile, "minimal | standard | hardened | paranoid | FILE"));
  last_wins(run.add_option("-w,--workdir", o.workdir,
                           "working directory inside (default /tmp, or /workspace)"));
  run.add_option("-v,--bind", o.binds, "HOST:PATH[:ro|rw] (ro by default)");
  run.add_option("--tmpfs", o.tmpfs, "PATH[:SIZE]");
  last_wins(run.add_option("--workspace", o.workspace,
                           "HOSTDIR bound read-write at /workspace (the workdir)"));
  last_wins(run.add_option("--user", o.user, "UID[:GID] inside"));
  last_wins(run.add_option("--hostname", o.hostname, "hostname inside"));
  last_wins(run.add_option("--network", o.network, "none | loopback | host"));
  run.add_option("-e,--env", o.env, "KEY=VAL (or KEY: take the caller's value)");
  run.add_option("--env-file", o.env_files, "file of KEY=VAL lines");
  last_wins(
      run.add_option("--seccomp", o.seccomp, "profile NAME|FILE whose policy to use, or `off`"));
  last_wins(run.add_option("--cpu-time", o.cpu_time, "CPU time limit, e.g. 1.5s"));
  last_wins(run.add_option("--wall-time", o.wall_time, "wall time limit, e.g. 10s"));
  last_wins(run.add_option("--memory", o.memory, "memory limit, e.g. 256M"));
  last_wins(run.add_option("--pids", o.pids, "process limit"));
  last_wins(run.add_option("--cpus", o.cpus, "CPU bandwidth, e.g. 1.5"));
  last_wins(run.add_option("--cpuset", o.cpuset, "CPUs allowed, e.g. 0-1"));
  last_wins(run.add_option("--fsize", o.fsize, "largest file the program may write"));
  last_wins(run.add_option("--nofile", o.nofile, "open file limit"));
  last_wins(run.add_option("--stack", o.stack, "stack size or `unlimited`"));
  last_wins(run.add_option("--output-limit", o.output_limit, "limit per captured stream"));
  last_wins(run.add_option("--stdin", o.stdin_, "FILE | - | none"));
  last_wins(run.add_option("--stdout", o.stdout_, "FILE | - | capture"));
  last_wins(run.add_option("--stderr", o.stderr_, "FILE | - | capture"));
  run.add_flag("--json", o.json, "capture stdout/stderr and print the result JSON on stdout");
  last_wins(run.add_option("--result", o.result_file, "write the result JSON to FILE"));
  last_wins(run.add_option("--exit-mode", o.exit_mode, "passthrough | judge"));
  last_wins(run.add_option("--idmap", o.idmap,
                           "auto | single | subid: how sandbox uids map to host uids"));
  run.add_flag("--require-cgroup", o.require_cgroup, "fail instead of degrading without cgroups");
  last_wins(run.add_option("--cgroup-parent", o.cgroup_parent,
                           "cgroup to create the run's cgroup under"));
}

namespace {

Error bad(const std::string& flag, const std::string& value, const std::string& why) {
  return Error::make(ErrorKind::usage, flag + " '" + value + "': " + why);
}

std::string host_path(const std::string& p) {
  char real[PATH_MAX];
  if (::realpath(p.c_str(), real) != nullptr) return real;
  return std::filesystem::absolute(p).lexically_normal().string();
}

Result<void> parse_duration_flag(const std::string& flag, const std::string& v,
                                 std::optional<Nanos>& out) {
  if (v.empty()) return {};
  std::string why;
  auto d = parse_duration(v, why);
  if (!d || d->count() <= 0) return bad(flag, v, d ? "must be positive" : why);
  out = *d;
  return {};
}

Result<void> parse_size_flag(const std::string& flag, const std::string& v,
                             std::optional<std::uint64_t>& out, bool allow_unlimited = false) {
  if (v.empty()) return {};
  if (allow_unlimited && v == "unlimited") {
    out = Limits::kUnlimited;
    return {};
  }
  std::string why;
  auto s = parse_size(v, why);
  if (!s) return bad(flag, v, why);
  out = *s;
  return {};
}

// A positive whole number no larger than `max`.
Result<void> parse_count_flag(const std::string& flag, const std::string& v,
                              std::optional<std::uint64_t>& out, std::uint64_t max) {
  if (v.empty()) return {};
  char* end = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (end == v.c_str() || *end != '\0' || n == 0 || !std::isdigit(static_cast<unsigned char>(v[0])))
    return bad(flag, v, "must be a positive whole number");
  if (errno == ERANGE || n > max)
    return bad(flag, v, "is too large (at most " + std::to_string(max) + ")");
  out = n;
  return {};
}

// A CPU list as cpuset.cpus takes it: N or N-M (N <= M), comma-separated.
bool valid_cpu_list(const std::string& list) {
  for (const std::string& item : split(list, ',')) {
    const std::vector<std::string> ends = split(item, '-');
    if (ends.size() > 2) return false;
    unsigned long bounds[2] = {0, 0};
    for (std::size_t i = 0; i < ends.size(); ++i) {
      const std::string& e = ends[i];
      if (e.empty() || e.size() > 6 || e.find_first_not_of("0123456789") != std::string::npos)
        return false;
      bounds[i] = std::stoul(e);
    }
    if (ends.size() == 2 && bounds[0] > bounds[1]) return false;
  }
  return true;
}

Result<void> parse_limits(const RunOptions& o, Limits& l) {
  CELL_TRY(parse_duration_flag("--cpu-time", o.cpu_time, l.cpu_time));
  CELL_TRY(parse_duration_flag("--wall-time", o.wall_time, l.wall_time));
  CELL_TRY(parse_size_flag("--memory", o.memory, l.memory_bytes));
  if (l.memory_bytes == 0u) return bad("--memory", o.memory, "must be more than 0 bytes");
  // The run's cgroup holds the sandbox's init too: pids.max takes at most 4194304 (PID_MAX_LIMIT).
  CELL_TRY(parse_count_flag("--pids", o.pids, l.pids, 4194303));
  CELL_TRY(parse_size_flag("--fsize", o.fsize, l.fsize_bytes));
  // Above the caller's hard limit, the launcher lowers it and says so in `degraded`.
  CELL_TRY(parse_count_flag("--nofile", o.nofile, l.nofile, UINT32_MAX));
  CELL_TRY(parse_size_flag("--stack", o.stack, l.stack_bytes, true));
  if (l.stack_bytes == 0u) return bad("--stack", o.stack, "must be more than 0 bytes");
  CELL_TRY(parse_size_flag("--output-limit", o.output_limit, l.output_bytes));
  if (!o.cpus.empty()) {
    char* end = nullptr;
    const double c = std::strtod(o.cpus.c_str(), &end);
    if (end == o.cpus.c_str() || *end != '\0' || !(c >= 0.01) || c > 4096)
      return bad("--cpus", o.cpus,
                 "must be a number from 0.01 (the kernel's smallest CPU quota) to 4096");
    l.cpus = c;
  }
  if (!o.cpuset.empty()) {
    if (!valid_cpu_list(o.cpuset))
      return bad("--cpuset", o.cpuset, "must be a CPU list like 0-1,3 (N or N-M with N <= M)");
    l.cpuset = o.cpuset;
  }
  return {};
}

Result<void> parse_mounts(const RunOptions& o, RunSpec& s) {
  for (const std::string& b : o.binds) {
    std::vector<std::string> parts = split(b, ':');
    bool writable = false;
    if (parts.size() == 3 && (parts[2] == "ro" || parts[2] == "rw")) {
      writable = parts[2] == "rw";
      parts.pop_back();
    }
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty())
      return bad("--bind", b, "expected HOST:PATH[:ro|rw]");
    s.mounts.push_back(
        {Mount::Kind::bind, host_path(parts[0]), parts[1], writable, 0, "--bind " + b});
  }
  for (const std::string& t : o.tmpfs) {
    const std::vector<std::string> parts = split(t, ':');
    Mount m{Mount::Kind::tmpfs, "", parts[0], true, 0, "--tmpfs " + t};
    if (parts.size() > 2 || parts[0].empty()) return bad("--tmpfs", t, "expected PATH[:SIZE]");
    if (parts.size() == 2) {
      std::string why;
      auto size = parse_size(parts[1], why);
      if (!size) return bad("--tmpfs", t, why);
      m.size_bytes = *size;
    }
    s.mounts.push_back(m);
  }
  if (!o.workspace.empty()) {
    s.mounts.push_back(
        {Mount::Kind::bind, host_path(o.workspace), "/workspace", true, 0, "--workspace"});
    if (s.workdir.empty()) s.workdir = "/workspace";
  }
  return {};
}

Result<void> parse_env(const RunOptions& o, RunSpec& s) {
  auto add = [&](const std::string& kv, const std::string& where) -> Result<void> {
    const std::size_t eq = kv.find('=');
    if (eq == 0) return bad(where, kv, "expected KEY=VAL");
    if (eq == std::string::npos) {  // KEY: the caller's value, which must exist
      const char* v = std::getenv(kv.c_str());
      if (v == nullptr) return bad(where, kv, "is not set in cell's environment (give KEY=VAL)");
      s.env.emplace_back(kv, v);
      return {};
    }
    s.env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    return {};
  };
  for (const std::string& file : o.env_files) {
    if (is_directory(file)) return bad("--env-file", file, "is a directory");
    std::ifstream in(file);
    if (!in) return bad("--env-file", file, "cannot be read: " + errno_describe(errno));
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      const std::string t(trim(line));
      if (t.empty() || t[0] == '#') continue;
      CELL_TRY(add(t, "--env-file " + file + ":" + std::to_string(n)));
    }
  }
  for (const std::string& kv : o.env) CELL_TRY(add(kv, "--env"));
  return {};
}

Stdio parse_stdio(const std::string& v, bool input) {
  if (v.empty() || v == "-") return Stdio::inherit();
  if (input && v == "none") return Stdio::null();
  if (!input && v == "capture") return Stdio::capture();
  return Stdio::file(v);
}

// Captured output goes only into the result: without --json or --result it would be lost.
Result<void> check_capture(const RunOptions& o) {
  if (o.json || !o.result_file.empty()) return {};
  for (const auto& [flag, value] : {std::pair{"--stdout", &o.stdout_}, {"--stderr", &o.stderr_}})
    if (*value == "capture")
      return Error::make(ErrorKind::usage,
                         std::string(flag) +
                             " capture: captured output only goes into the result JSON; add "
                             "--json or --result FILE (or use " +
                             flag + " /dev/null to drop it)");
  return {};
}

Result<void> parse_identity(const RunOptions& o, RunSpec& s) {
  if (!o.user.empty()) {
    const std::vector<std::string> parts = split(o.user, ':');
    auto num = [](const std::string& t, std::uint32_t& out) {
      char* end = nullptr;
      const unsigned long v = std::strtoul(t.c_str(), &end, 10);
      if (t.empty() || *end != '\0' || v > 65535) return false;
      out = static_cast<std::uint32_t>(v);
      return true;
    };
    std::uint32_t uid = 0, gid = 0;
    if (parts.size() > 2 || !num(parts[0], uid) || (parts.size() == 2 && !num(parts[1], gid)))
      return bad("--user", o.user, "expected UID[:GID], numbers within 0-65535");
    s.uid = uid;
    s.gid = parts.size() == 2 ? gid : uid;
  }
  if (!o.hostname.empty()) s.hostname = o.hostname;
  if (!o.network.empty()) {
    auto n = parse_network(o.network);
    if (!n) return bad("--network", o.network, "expected none, loopback or host");
    s.network = *n;
  }
  if (o.idmap == "auto")
    s.idmap = IdMapMode::automatic;
  else if (o.idmap == "single")
    s.idmap = IdMapMode::single;
  else if (o.idmap == "subid")
    s.idmap = IdMapMode::subid;
  else
    return bad("--idmap", o.idmap, "expected auto, single or subid");
  return {};
}

}  // namespace

Result<RunSpec> to_run_spec(RunOptions& o) {
  RunSpec s;
  // The exit mode first: it decides how every later error is reported.
  if (o.exit_mode == "judge")
    o.judge_mode = true;
  else if (o.exit_mode != "passthrough")
    return bad("--exit-mode", o.exit_mode, "expected passthrough or judge");
  if (!o.argv.empty() && o.argv[0] == "--") o.argv.erase(o.argv.begin());
  if (o.argv.empty())
    return Error::make(ErrorKind::usage,
                       "run: no PROGRAM given (usage: cell run [OPTIONS] [--] PROGRAM [ARGS...])");
  s.argv = o.argv;
  if (!o.rootfs.empty() && o.image != "host")
    return Error::make(ErrorKind::usage, "--rootfs and --image cannot be combined");
  s.image = o.image;
  s.rootfs = o.rootfs;
  s.profile = o.profile;
  s.workdir = o.workdir;
  if (!o.seccomp.empty()) s.seccomp = o.seccomp;
  CELL_TRY(parse_identity(o, s));
  CELL_TRY(parse_limits(o, s.limits));
  CELL_TRY(parse_mounts(o, s));
  CELL_TRY(parse_env(o, s));
  CELL_TRY(check_capture(o));
  s.stdin_ = parse_stdio(o.stdin_, true);
  s.stdout_ = parse_stdio(o.json && o.stdout_ == "-" ? "capture" : o.stdout_, false);
  s.stderr_ = parse_stdio(o.json && o.stderr_ == "-" ? "capture" : o.stderr_, false);
  s.require_cgroup = o.require_cgroup;
  s.cgroup_parent = o.cgroup_parent;
  return s;
}

}  // namespace cell::cli
