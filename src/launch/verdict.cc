#include "launch/verdict.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstring>

#include "launch/report.hpp"

namespace cell::launch {

namespace {

std::string seconds(std::uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(ns) / 1e9);
  return buf;
}

void add_hit(RunResult& r, const char* limit) {
  for (const std::string& h : r.limits_hit)
    if (h == limit) return;
  r.limits_hit.emplace_back(limit);
}

// The leaf's total less cell's own share (pid 1's setup), the user/system split scaled to it.
void set_program_cpu(Usage& u, std::uint64_t total, std::uint64_t user, std::uint64_t sys,
                     std::uint64_t base) {
  u.cpu_ns = total > base ? total - base : 0;
  if (user + sys == 0) {
    u.user_ns = u.cpu_ns, u.sys_ns = 0;
    return;
  }
  u.sys_ns = static_cast<std::uint64_t>(static_cast<long double>(u.cpu_ns) * sys / (user + sys));
  u.user_ns = u.cpu_ns - u.sys_ns;
}

void fill_usage(RunResult& r, const VerdictInputs& in) {
  const Outcome& o = *in.outcome;
  Usage& u = r.usage;
  if (o.exec_seen) {
    u.setup_ns = o.exec_ns > in.run_start_ns ? o.exec_ns - in.run_start_ns : 0;
    u.wall_ns = o.end_ns > o.exec_ns ? o.end_ns - o.exec_ns : 0;
  } else {
    u.setup_ns = o.end_ns > in.run_start_ns ? o.end_ns - in.run_start_ns : 0;
  }
  if (o.reaper) {
    u.user_ns = static_cast<std::uint64_t>(o.reaper->user_ns);
    u.sys_ns = static_cast<std::uint64_t>(o.reaper->sys_ns);
    u.cpu_ns = u.user_ns + u.sys_ns;
    u.memory_peak_bytes = static_cast<std::uint64_t>(o.reaper->maxrss_kb) * 1024;
    u.memory_peak_source = "rusage.maxrss";
  }
  // Without a cgroup the reaper's rusage misses what was still running at the end; the limit
  // timer's last reading of the process tree includes it.
  if (o.cpu_seen_ns && *o.cpu_seen_ns > u.cpu_ns) u.cpu_ns = *o.cpu_seen_ns;
  if (in.cgroup_usage) {
    const cgroup::Usage& c = *in.cgroup_usage;
    if (c.cpu_ns) set_program_cpu(u, *c.cpu_ns, c.user_ns.value_or(0), c.sys_ns.value_or(0),
                                  o.cpu_base_ns);
    if (c.memory_peak_bytes) {
      u.memory_peak_bytes = *c.memory_peak_bytes;
      u.memory_peak_source = c.memory_peak_source;
    }
    if (c.pids_peak) u.pids_peak = *c.pids_peak;
    u.oom_kills = c.oom_kills;
  }
}

void setup_failed(RunResult& r, const VerdictInputs& in) {
  const child::FailureRecord& f = *in.outcome->failure;
  const Error e = setup_error(f.step, f.err, f.item, in.plan);
  r.status = Status::setup_error;
  r.message = e.what();
  r.error = to_run_error(e);
}

// Records every limit observed exceeded, whoever stopped the program.
void observe_limits(RunResult& r, const VerdictInputs& in, int sig) {
  const Outcome& o = *in.outcome;
  const Limits& l = in.limits;
  if (o.killed == KillReason::cpu_time || sig == SIGXCPU || (l.cpu_time && r.usage.cpu_ns > static_cast<std::uint64_t>(l.cpu_time->count())))
    add_hit(r, "cpu_time");
  if (o.killed == KillReason::wall_time) add_hit(r, "wall_time");
  if (r.usage.oom_kills > 0 || (in.cgroup_usage && in.cgroup_usage->memory_limit_hit && sig == SIGKILL))
    add_hit(r, "memory");
  if (o.killed == KillReason::output || (l.output_bytes && (o.out.size_bytes > *l.output_bytes || o.err.size_bytes > *l.output_bytes)))
    add_hit(r, "output");
  if (sig == SIGXFSZ) add_hit(r, "fsize");
  if (in.cgroup_usage && in.cgroup_usage->pids_limit_hit) add_hit(r, "pids");
}

bool hit(const RunResult& r, std::string_view limit) {
  for (const std::string& h : r.limits_hit)
    if (h == limit) return true;
  return false;
}

void decide(RunResult& r, const VerdictInputs& in, bool exited, int code, int sig) {
  const Outcome& o = *in.outcome;
  const Limits& l = in.limits;
  const bool failed = !exited || code != 0;
  if (o.violation || o.killed == KillReason::seccomp || sig == SIGSYS) {
    // Without a listener (kill_process compiled as SECCOMP_RET_KILL_PROCESS) only SIGSYS tells.
    if (!r.violation) r.violation = Violation{"seccomp", "", -1, "x86_64"};
    r.status = Status::seccomp_violation;
    const Violation& v = *r.violation;
    r.message = "blocked syscall " + (v.syscall.empty() ? std::string("#") + std::to_string(v.nr) : v.syscall) +
                " (" + std::to_string(v.nr) + ", " + v.arch + ")";
  } else if (r.usage.oom_kills > 0 && failed && o.killed == KillReason::none) {
    // (When cell killed the program, the limit that made it kill is the status.)
    r.status = Status::memory_limit;
    r.killed_by = "kernel_oom";
    r.message = "memory limit exceeded" + (l.memory_bytes ? ": peak " + std::to_string(r.usage.memory_peak_bytes) + " bytes, limit " + std::to_string(*l.memory_bytes) : std::string());
  } else if (o.killed == KillReason::cpu_time || (hit(r, "cpu_time") && o.killed == KillReason::none)) {
    r.status = Status::time_limit_cpu;
    r.message = "CPU time limit exceeded: " + seconds(r.usage.cpu_ns) + " > " + seconds(static_cast<std::uint64_t>(l.cpu_time ? l.cpu_time->count() : 0));
  } else if (o.killed == KillReason::wall_time) {
    r.status = Status::time_limit_wall;
    r.message = "wall time limit exceeded: " + seconds(r.usage.wall_ns) + " > " + seconds(static_cast<std::uint64_t>(l.wall_time ? l.wall_time->count() : 0));
  } else if (o.killed == KillReason::output) {
    r.status = Status::output_limit;
    r.message = "output limit exceeded: more than " + std::to_string(l.output_bytes.value_or(0)) + " bytes on " +
                (o.out.size_bytes > l.output_bytes.value_or(0) ? "stdout" : "stderr");
  } else if (sig == SIGXFSZ) {
    r.status = Status::disk_limit;
    r.message = "file size limit exceeded (SIGXFSZ)";
  } else if (hit(r, "pids") && failed) {
    r.status = Status::pids_limit;
    r.message = "process limit reached (fork failed at " + std::to_string(l.pids.value_or(0)) + " processes) and the program failed";
  } else if (!exited) {
    r.status = Status::signalled;
    r.message = "killed by signal " + signal_name(sig);
  } else if (code != 0) {
    r.status = Status::nonzero_exit;
    r.message = "exited with code " + std::to_string(code);
  } else {
    r.status = Status::ok;
    r.message = "exited with code 0";
  }
}

}  // namespace

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

RunResult make_verdict(const VerdictInputs& in) {
  RunResult r;
  const Outcome& o = *in.outcome;
  r.limits = in.limits;
  r.stdout_ = o.out;
  r.stderr_ = o.err;
  r.violation = o.violation;
  fill_usage(r, in);
  if (o.failure) {
    setup_failed(r, in);
    return r;
  }
  if (!o.exec_seen && o.killed == KillReason::setup_timeout) {
    r.status = Status::setup_error;
    r.message = "sandbox setup did not finish in time";
    r.error = RunError{"setup", "ETIMEDOUT", r.message, "a mount source on a hung filesystem?"};
    return r;
  }
  bool exited = false;
  int code = 0, sig = 0;
  if (o.reaper && o.reaper->wait_status >= 0) {
    const int st = o.reaper->wait_status;
    exited = WIFEXITED(st);
    code = exited ? WEXITSTATUS(st) : 0;
    sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  } else if (o.killed != KillReason::none || (in.cgroup_usage && in.cgroup_usage->oom_kills > 0)) {
    // We killed pid 1, or the kernel did (an OOM kill with memory.oom.group takes the whole
    // cgroup), and with it the payload, before it could report.
    sig = SIGKILL;
  } else {
    r.status = Status::internal_error;
    r.message = "the sandbox's init process ended without reporting the program's exit (code " +
                std::to_string(o.init_code) + ", status " + std::to_string(o.init_status) + ")";
    r.error = RunError{"reaper", "", r.message, ""};
    return r;
  }
  if (exited) r.exit_code = code;
  if (!exited) r.signal = sig;
  if (o.killed != KillReason::none && o.killed != KillReason::seccomp) r.killed_by = "cell";
  if (o.killed == KillReason::seccomp) r.killed_by = "cell";
  observe_limits(r, in, sig);
  decide(r, in, exited, code, sig);
  return r;
}

}  // namespace cell::launch
