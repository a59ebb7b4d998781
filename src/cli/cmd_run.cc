// cell run [OPTIONS] [--] PROGRAM [ARGS...]: flags -> RunSpec -> Runtime::run -> exit code.
#include <limits.h>
#include <stdlib.h>

#include <cstdio>
#include <fstream>

#include "base/clock.hpp"
#include "base/io.hpp"
#include "base/strings.hpp"
#include "cli/cli.hpp"
#include "cli/result_file.hpp"
#include "cli/run_options.hpp"

namespace cell::cli {

namespace {

// CELL_DEBUG_TIMING=1: the phases of the run on stderr, in microseconds (bench/README.md).
const std::uint64_t g_static_init_ns = monotonic_ns();  // about where process start ends

bool debug_timing() {
  const char* v = std::getenv("CELL_DEBUG_TIMING");
  return v != nullptr && *v != '\0' && std::string_view(v) != "0";
}

void print_debug(LogLevel level, std::string_view message) {
  if (level == LogLevel::debug)
    std::fprintf(stderr, "cell: %.*s\n", static_cast<int>(message.size()), message.data());
}

std::string us_since(std::uint64_t from_ns, std::uint64_t to_ns) {
  return std::to_string((to_ns - from_ns + 500) / 1000);
}

int passthrough_code(const RunResult& r) {
  switch (r.status) {
    case Status::time_limit_cpu:
    case Status::time_limit_wall:
      return 124;
    case Status::setup_error:
      if (r.error && r.error->step == "exec") {
        if (r.error->errno_name == "ENOENT") return 127;
        if (r.error->errno_name == "EACCES" || r.error->errno_name == "ENOEXEC") return 126;
      }
      return 125;
    case Status::internal_error:
    case Status::cancelled:
      return 125;
    default:
      if (r.exit_code) return *r.exit_code;
      if (r.signal) return 128 + *r.signal;
      return r.status == Status::ok ? 0 : 1;
  }
}

int judge_code(const RunResult& r) {
  switch (r.status) {
    case Status::ok:
      return 0;
    case Status::setup_error:
      return 2;
    case Status::internal_error:
    case Status::cancelled:
      return 3;
    default:
      return 1;
  }
}

int exit_code(const RunOptions& o, const RunResult& r) {
  return o.judge_mode ? judge_code(r) : passthrough_code(r);
}

int usage_failure(const RunOptions& o, const Error& e) {
  return run_usage_failure(e, o.json, o.judge_mode);
}

// A short summary on stderr when the program did not simply run to completion.
void report_to_terminal(const RunResult& r) {
  if (r.status == Status::ok || r.status == Status::nonzero_exit) return;
  std::fprintf(stderr, "cell: %s: %s\n", std::string(to_string(r.status)).c_str(),
               r.message.c_str());
}

}  // namespace

Runner add_run_command(CLI::App& app, std::vector<std::string>& program) {
  CLI::App* run = app.add_subcommand("run", "Run one program in a fresh sandbox");
  auto opts = std::make_shared<RunOptions>();
  register_run_options(*run, *opts);
  return [opts, &program]() -> int {
    RunOptions& o = *opts;
    o.argv = program;
    Result<RunSpec> spec = to_run_spec(o);
    if (!spec.ok()) return usage_failure(o, spec.error());
    if (!o.result_file.empty())
      if (auto c = check_result_file(o.result_file); !c.ok()) return usage_failure(o, c.error());
    RuntimeOptions ro;
    const bool timing = debug_timing();
    if (timing) ro.log = print_debug;
    const std::uint64_t open_ns = monotonic_ns();
    Result<Runtime> rt = Runtime::open(ro);
    if (!rt.ok()) return usage_failure(o, rt.error());
    const std::uint64_t run_ns = monotonic_ns();
    Result<RunResult> r = rt->run(*spec);
    if (!r.ok()) return usage_failure(o, r.error());
    const std::uint64_t result_ns = monotonic_ns();
    const std::string json = r->to_json();
    if (!o.result_file.empty()) {
      if (auto w = write_result_file(o.result_file, json + "\n"); !w.ok()) {
        print_error(w.error());
        return o.judge_mode ? 3 : 125;
      }
    }
    if (o.json)
      std::puts(json.c_str());
    else
      report_to_terminal(*r);
    if (timing)
      print_debug(LogLevel::debug, "timing: cli " + us_since(g_static_init_ns, open_ns) +
                                       " us (static init to Runtime::open), open " +
                                       us_since(open_ns, run_ns) + " us, result " +
                                       us_since(result_ns, monotonic_ns()) + " us");
    return exit_code(o, *r);
  };
}

}  // namespace cell::cli
