// build_plan: the one place a request turns into what the child executes.
#include <sched.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include <cell/units.hpp>

#include <cmath>
#include <fstream>

#include "base/strings.hpp"
#include "plan/idmap.hpp"
#include "plan/mount_table.hpp"
#include "plan/plan.hpp"
#include "plan/root_layout.hpp"

namespace cell::plan {

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string env_value(const std::vector<std::pair<std::string, std::string>>& env,
                      const std::string& key) {
  for (const auto& [k, v] : env)
    if (k == key) return v;
  return {};
}

// Like execvp: a name without '/' is looked for in each PATH directory, in order.
std::vector<std::string> exec_candidates(const std::string& prog, const std::string& path) {
  if (prog.find('/') != std::string::npos) return {prog};
  std::vector<std::string> out;
  for (std::string dir : split(path.empty() ? kDefaultPath : path, ':')) {
    if (dir.empty()) dir = ".";
    out.push_back(dir + "/" + prog);
  }
  return out;
}

// Sets one rlimit, clamped to what the caller itself may grant (raising a hard limit needs
// CAP_SYS_RESOURCE in the host's namespace, which the child never has).
void add_clamped_rlimit(Plan& plan, int resource, std::uint64_t soft, std::uint64_t hard,
                        const std::string& name) {
  struct rlimit cur {};
  if (::getrlimit(static_cast<__rlimit_resource>(resource), &cur) == 0 && cur.rlim_max != RLIM_INFINITY) {
    const std::uint64_t max = cur.rlim_max;
    if (hard > max) {
      plan.degraded.push_back(name + ": " + std::to_string(hard) + " is above the caller's hard limit " +
                              std::to_string(max) + "; " + std::to_string(max) + " used");
      hard = max;
    }
    if (soft > hard) soft = hard;
  }
  plan.add_rlimit(resource, soft, hard, name);
}

void plan_rlimits(const Request& req, Plan& plan) {
  const Limits& l = req.profile.limits;
  plan.add_rlimit(RLIMIT_CORE, 0, 0, "core");
  if (l.fsize_bytes) add_clamped_rlimit(plan, RLIMIT_FSIZE, *l.fsize_bytes, *l.fsize_bytes, "fsize");
  if (l.nofile) add_clamped_rlimit(plan, RLIMIT_NOFILE, *l.nofile, *l.nofile, "nofile");
  if (l.stack_bytes) add_clamped_rlimit(plan, RLIMIT_STACK, *l.stack_bytes, *l.stack_bytes, "stack");
  if (l.cpu_time) {
    // A backstop only: the supervisor stops the run at the limit to the millisecond.
    const auto secs = static_cast<std::uint64_t>(std::ceil(static_cast<double>(l.cpu_time->count()) / 1e9)) + 1;
    add_clamped_rlimit(plan, RLIMIT_CPU, secs, secs + 1, "cpu");
  }
  if (req.memory_via_rlimit && l.memory_bytes) {
    add_clamped_rlimit(plan, RLIMIT_AS, *l.memory_bytes, *l.memory_bytes, "as");
    plan.degraded.push_back("memory: no writable cgroup; RLIMIT_AS used (counts address space, "
                            "not resident memory)");
  }
  if (req.pids_via_rlimit && l.pids) {
    add_clamped_rlimit(plan, RLIMIT_NPROC, *l.pids, *l.pids, "nproc");
    plan.degraded.push_back("pids: no writable cgroup; RLIMIT_NPROC used (per uid)");
  }
}

int last_cap() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int n = CAP_LAST_CAP;
  in >> n;
  return n;
}

Result<void> plan_caps(const Profile& p, Plan& plan) {
  plan.view.last_cap = last_cap();
  for (const std::string& name : p.capabilities) {
    cap_value_t v = 0;
    if (cap_from_name(name.c_str(), &v) != 0 || v < 0 || v > 63)
      return Error::make(ErrorKind::usage, "unknown capability '" + name + "'");
    plan.view.keep_caps |= 1ull << v;
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Plan>> build_plan(const Request& req) {
  auto plan = std::make_unique<Plan>();
  const Profile& p = req.profile;
  if (req.argv.empty() || req.argv[0].empty())
    return Error::make(ErrorKind::usage, "no program given");
  CELL_TRY(plan_ids(req, *plan));
  plan->view.hostname = plan->keep(p.hostname);
  plan->view.loopback_up = p.network == Network::loopback;
  plan->clone_flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
                      CLONE_NEWCGROUP | (p.network == Network::host ? 0 : CLONE_NEWNET);
  plan->view.stage = plan->keep(req.stage_dir);
  plan->root_display = req.root.display;

  MountTable table(*plan, req.stage_dir);
  CELL_TRY(add_root_layout(table, req, *plan));
  std::string workdir = req.workdir;
  if (workdir.empty()) {
    workdir = "/tmp";
    for (const Mount& m : p.mounts)
      if (m.target == "/workspace") workdir = "/workspace";
  }
  std::string why;
  std::string normalized;
  if (!normalize_abs_path(workdir, normalized, why))
    return Error::make(ErrorKind::usage, "working directory '" + workdir + "' " + why);
  CELL_TRY(table.ensure(table.describe("the working directory " + normalized), normalized, false));
  plan->view.workdir = plan->keep(normalized);

  std::vector<std::string> env;
  for (const auto& [k, v] : p.env) env.push_back(k + "=" + v);
  plan->set_exec(req.argv, env, exec_candidates(req.argv[0], env_value(p.env, "PATH")));
  plan_rlimits(req, *plan);
  CELL_TRY(plan_caps(p, *plan));
  plan->finalize(req.filter);
  return plan;
}

}  // namespace cell::plan
