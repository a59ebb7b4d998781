// Runtime::run: profile -> plan -> launch -> supervise -> verdict. The only orchestration.
#include <cell/runtime.hpp>

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>

#include "base/clock.hpp"
#include "base/io.hpp"
#include "cgroup/cgroup.hpp"
#include "config/profile_cache.hpp"
#include "launch/launcher.hpp"
#include "launch/report.hpp"
#include "launch/supervise.hpp"
#include "launch/timeline.hpp"
#include "launch/verdict.hpp"
#include "plan/idmap.hpp"
#include "plan/idmapped.hpp"
#include "plan/plan.hpp"
#include "runtime/filter_cache.hpp"
#include "runtime/merge.hpp"
#include "runtime/paths.hpp"
#include "runtime/roots.hpp"
#include "runtime/stdio.hpp"

namespace cell {

struct Runtime::State {
  RuntimeOptions options;
  std::string data_dir, runtime_dir, stage_dir;
  std::uint32_t uid_base = 0;
  runtime::FilterCache filters;
  plan::IdmapCache idmaps;
  std::shared_ptr<cgroup::Driver> cgroups;  // null: no usable cgroup
  std::string cgroup_problem;               // why, when null
  std::atomic<std::uint64_t> counter{0};
};

namespace {

constexpr std::uint32_t kDefaultUidBase = 0x60000000;  // in systemd's container uid range

std::uint32_t pick_uid_base(const RuntimeOptions& o) {
  if (o.uid_base) return *o.uid_base;
  if (const char* e = std::getenv("CELL_UID_BASE")) return static_cast<std::uint32_t>(std::strtoul(e, nullptr, 10));
  return kDefaultUidBase;
}

unsigned usable_cpus(const Limits& l) {
  if (l.cpus) return std::max(1u, static_cast<unsigned>(std::ceil(*l.cpus)));
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return 1;
}

// Built-in profiles come parsed from the runtime directory's cache (config/profile_cache.hpp).
RunSpec with_cached_profile(const RunSpec& spec, const std::string& runtime_dir) {
  RunSpec s = spec;
  if (!s.profile_value)
    s.profile_value = config::cached_builtin_profile(s.profile.empty() ? "standard" : s.profile,
                                                     runtime_dir + "/profiles");
  return s;
}

struct RunCgroup {
  std::unique_ptr<cgroup::Leaf> leaf;
  bool memory_via_rlimit = false;
  bool pids_via_rlimit = false;
  std::vector<std::string> degraded;
  std::string mode = "none";
};

Result<RunCgroup> make_cgroup(const Runtime::State& st, const RunSpec& spec, const Limits& l,
                              const std::string& name) {
  RunCgroup rc;
  cgroup::Driver* d = st.cgroups.get();
  std::shared_ptr<cgroup::Driver> custom;
  if (!spec.cgroup_parent.empty()) {
    auto r = cgroup::detect({spec.cgroup_parent});
    if (!r.ok()) return r.error();
    custom = std::move(r).value();
    d = custom.get();
  }
  if (d == nullptr) {
    if (spec.require_cgroup)
      return Error::make(ErrorKind::unsupported, "--require-cgroup: no usable cgroup: " + st.cgroup_problem);
    rc.memory_via_rlimit = l.memory_bytes.has_value();
    rc.pids_via_rlimit = l.pids.has_value();
    if (l.cpus) rc.degraded.push_back("cpus: no writable cgroup; not enforced");
    if (l.cpuset) rc.degraded.push_back("cpuset: no writable cgroup; not enforced");
    return rc;
  }
  cgroup::LeafLimits ll;
  // Each limit goes to the cgroup when its controller is there, else to its fallback.
  if (l.memory_bytes) {
    if (d->supports("memory")) ll.memory_bytes = l.memory_bytes;
    else rc.memory_via_rlimit = true;
  }
  if (l.pids) {
    if (d->supports("pids")) ll.pids = l.pids;
    else rc.pids_via_rlimit = true;
  }
  if (l.cpus) {
    if (d->supports("cpu")) ll.cpus = l.cpus;
    else rc.degraded.push_back("cpus: the cgroup has no cpu controller; not enforced");
  }
  if (l.cpuset) {
    if (d->supports("cpuset")) ll.cpuset = l.cpuset;
    else rc.degraded.push_back("cpuset: the cgroup has no cpuset controller; not enforced");
  }
  if (spec.require_cgroup && (rc.memory_via_rlimit || rc.pids_via_rlimit || !rc.degraded.empty()))
    return Error::make(ErrorKind::unsupported, "--require-cgroup: the cgroup (" + d->describe() +
                                                   ") lacks a controller this run needs");
  auto leaf = d->create(name, ll);
  if (!leaf.ok()) {
    Error e = leaf.error();
    e.kind = ErrorKind::setup;
    if (e.step.empty()) e.step = "create_cgroup";
    return e;
  }
  rc.leaf = std::move(leaf).value();
  rc.mode = d->mode();
  return rc;
}

}  // namespace

Result<Runtime> Runtime::open(RuntimeOptions options) {
  auto st = std::make_shared<State>();
  st->data_dir = options.data_dir.empty() ? runtime::default_data_dir() : options.data_dir;
  st->runtime_dir = options.runtime_dir.empty() ? runtime::default_runtime_dir() : options.runtime_dir;
  st->stage_dir = st->runtime_dir + "/stage";
  st->uid_base = pick_uid_base(options);
  st->options = std::move(options);
  if (auto r = make_dirs(st->stage_dir, 0755); !r.ok()) {
    Error e = r.error();
    e.message = "runtime directory: " + e.message;
    e.hint = "set CELL_RUNTIME to a writable directory";
    return e;
  }
  st->filters.use_directory(st->runtime_dir + "/seccomp");
  if (auto d = cgroup::detect({}); d.ok()) {
    st->cgroups = std::shared_ptr<cgroup::Driver>(std::move(d).value());
  } else {
    st->cgroup_problem = d.error().what();
  }
  return Runtime(std::move(st));
}

const std::string& Runtime::data_dir() const { return state_->data_dir; }
const std::string& Runtime::runtime_dir() const { return state_->runtime_dir; }

Result<RunResult> Runtime::run(const RunSpec& spec) const {
  const std::uint64_t t0 = monotonic_ns();
  const auto started = std::chrono::system_clock::now();
  launch::Timeline tl(t0);
  Result<Profile> prof = runtime::effective_profile(with_cached_profile(spec, state_->runtime_dir));
  if (!prof.ok()) return prof.error();
  Profile& p = *prof;
  tl.mark("profile");
  Result<runtime::ResolvedRoot> root = runtime::resolve_root(spec, state_->data_dir);
  if (!root.ok()) return root.error();
  runtime::apply_image_env(p, spec, *root);
  tl.mark("root");

  std::shared_ptr<const seccomp::CompiledFilter> filter;
  if (p.seccomp.enabled) {
    auto f = state_->filters.get(p.seccomp);
    if (!f.ok()) return f.error();
    filter = std::move(f).value();
  }
  tl.mark("seccomp");
  const std::string name = cgroup::next_leaf_name();  // process-wide unique; gc reads the owner
  Result<RunCgroup> cg = make_cgroup(*state_, spec, p.limits, name);
  const std::string cgroup_mode = cg.ok() ? cg->mode : "none";
  if (!cg.ok()) {
    if (cg.error().kind == ErrorKind::setup) return result_from_error(cg.error());
    return cg.error();
  }
  tl.mark("cgroup");

  plan::Request req;
  req.profile = p;
  req.root = root->source;
  req.argv = spec.argv;
  req.workdir = spec.workdir;
  req.stage_dir = state_->stage_dir;
  req.idmap = spec.idmap;
  req.caller_uid = ::geteuid();
  req.caller_gid = ::getegid();
  req.uid_base = state_->uid_base;
  req.memory_via_rlimit = cg->memory_via_rlimit;
  req.pids_via_rlimit = cg->pids_via_rlimit;
  req.filter = filter.get();
  const bool ranged =
      req.caller_uid == 0 && plan::holds_every_id() && spec.idmap == IdMapMode::automatic;
  req.idmaps = ranged ? &state_->idmaps : nullptr;
  Result<std::unique_ptr<plan::Plan>> built = plan::build_plan(req);
  if (!built.ok()) return built.error();
  plan::Plan& plan = **built;
  tl.mark("plan");

  runtime::PreparedStdio stdio;
  CELL_TRY(runtime::prepare_stdio(spec, stdio));
  tl.mark("stdio");
  cgroup::Leaf* leaf = cg->leaf.get();
  Result<launch::Launched> launched = launch::launch(plan, stdio.child, leaf, filter && filter->notify);
  for (UniqueFd& fd : stdio.child_owned) fd.reset();
  RunResult result;
  if (!launched.ok()) {
    result = result_from_error(launched.error());
  } else {
    launch::SuperviseConfig sc;
    sc.wall_ns = p.limits.wall_time ? std::optional<std::uint64_t>(p.limits.wall_time->count()) : std::nullopt;
    sc.cpu_ns = p.limits.cpu_time ? std::optional<std::uint64_t>(p.limits.cpu_time->count()) : std::nullopt;
    sc.output_limit = p.limits.output_bytes;
    sc.stdout_fd = stdio.capture_read[1].get();
    sc.stderr_fd = stdio.capture_read[2].get();
    sc.leaf = leaf;
    sc.cpus = usable_cpus(p.limits);
    launch::mark_launch(tl, *launched);
    const launch::Outcome outcome = launch::supervise(*launched, sc);
    tl.mark("child-setup+exec", outcome.exec_ns);
    tl.mark("payload", outcome.end_ns);
    tl.mark("drain");
    launch::VerdictInputs vi;
    vi.outcome = &outcome;
    vi.plan = &plan;
    vi.limits = p.limits;
    vi.run_start_ns = t0;
    if (leaf != nullptr) vi.cgroup_usage = leaf->usage();
    result = launch::make_verdict(vi);
    tl.mark("verdict");
  }
  if (leaf != nullptr) {
    if (auto r = leaf->destroy(); !r.ok())
      result.enforcement.degraded.push_back("cgroup cleanup: " + r.error().message);
  }
  tl.mark("teardown");
  if (state_->options.log) state_->options.log(LogLevel::debug, tl.describe());
  result.limits = p.limits;
  result.enforcement.cgroup = cgroup_mode;
  result.enforcement.userns = true;
  result.enforcement.seccomp = filter != nullptr;
  for (const std::string& d : plan.degraded) result.enforcement.degraded.push_back(d);
  for (const std::string& d : cg->degraded) result.enforcement.degraded.push_back(d);
  if (!p.seccomp.enabled) result.enforcement.degraded.push_back("seccomp: turned off by request");
  result.started_at = started;
  result.ended_at = std::chrono::system_clock::now();
  return result;
}

}  // namespace cell
