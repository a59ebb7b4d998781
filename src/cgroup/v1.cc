// cgroup v1 (hybrid hosts and older distros): one leaf per hierarchy under the cgroups cell is
// in; the child moves itself into each as its first step; the freezer stops the tree before
// it is killed.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "base/errno_names.hpp"
#include "base/scope_exit.hpp"
#include "base/strings.hpp"
#include "cgroup/drivers.hpp"
#include "cgroup/fs.hpp"
#include "cgroup/sampler.hpp"

namespace cell::cgroup {

namespace {

constexpr std::uint64_t kPeriodUs = 100000;
constexpr std::uint64_t kDrainNs = 5000 * fs::kMs;
constexpr std::uint64_t kUserHzNs = 10000000;  // cpuacct.stat counts USER_HZ (100) ticks

// The hierarchies cell uses: the four that limit, cpuacct to measure, freezer to stop.
const std::vector<std::string>& v1_controllers() {
  static const std::vector<std::string> names = {"memory", "pids",    "cpu",
                                                 "cpuset", "cpuacct", "freezer"};
  return names;
}

struct Hierarchy {
  std::string mount;
  std::vector<std::string> controllers;  // those of v1_controllers() bound to it
  std::string parent;                    // where leaves go
  std::string create_from;               // set: `parent` must be created below this
};

// One run's directories, by controller (co-mounted controllers share a directory).
struct LeafDirs {
  std::map<std::string, std::string> by_controller;
  std::vector<std::string> all;  // each directory once, in creation order

  [[nodiscard]] std::string of(const std::string& c) const {
    const auto it = by_controller.find(c);
    return it == by_controller.end() ? std::string() : it->second;
  }
};

class V1Leaf final : public Leaf {
 public:
  V1Leaf(LeafDirs dirs, const LeafLimits& limits, bool owned)
      : d_(std::move(dirs)), reserved_pids_(limits.reserved_pids) {
    if (limits.pids) pids_max_ = *limits.pids + limits.reserved_pids;
    const std::string pids = d_.of("pids");
    has_pids_peak_ = !pids.empty() && fs::exists(fs::join(pids, "pids.peak"));
    if (owned && !pids.empty() && !has_pids_peak_)  // before 6.12: poll pids.current
      sampler_ =
          std::make_unique<PeakSampler>(std::vector<std::string>{fs::join(pids, "pids.current")});
  }
  ~V1Leaf() override { (void)destroy(); }

  Result<std::vector<JoinFile>> open_join_files() override {
    std::vector<JoinFile> files;
    for (const std::string& dir : d_.all) {
      std::string path = fs::join(dir, "tasks");
      const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        return Error::make(ErrorKind::io,
                           "cgroup: cannot open " + path + ": " + errno_describe(errno), errno);
      files.push_back({UniqueFd(fd), std::move(path)});
    }
    return files;
  }

  Result<void> join(pid_t pid) override {
    for (const std::string& dir : d_.all)
      CELL_TRY(fs::write(fs::join(dir, "cgroup.procs"), std::to_string(pid)));
    return {};
  }

  std::optional<std::uint64_t> cpu_ns() override {
    const std::string acct = d_.of("cpuacct");
    if (acct.empty()) return std::nullopt;
    return fs::read_u64(fs::join(acct, "cpuacct.usage"));
  }

  Usage usage() override {
    if (sampler_) sampler_->stop();
    Usage u;
    read_cpu(u);
    if (const std::string mem = d_.of("memory"); !mem.empty()) {
      u.memory_peak_bytes = fs::read_u64(fs::join(mem, "memory.max_usage_in_bytes"));
      if (u.memory_peak_bytes) u.memory_peak_source = "cgroup1.memory.max_usage_in_bytes";
      auto oom = fs::read_keyed(fs::join(mem, "memory.oom_control"));
      if (oom.count("oom_kill")) {  // 4.13+
        u.oom_kills = oom["oom_kill"];
        u.memory_limit_hit = u.oom_kills > 0;
      } else {  // older kernels count every charge that hit the limit, page cache included
        u.memory_limit_hit = fs::read_u64(fs::join(mem, "memory.failcnt")).value_or(0) > 0;
      }
    }
    if (const std::string pids = d_.of("pids"); !pids.empty()) {
      u.pids_limit_hit = fs::read_keyed(fs::join(pids, "pids.events"))["max"] > 0;
      std::optional<std::uint64_t> peak = has_pids_peak_ ? fs::read_u64(fs::join(pids, "pids.peak"))
                                          : sampler_     ? sampler_->peak(0)
                                                         : std::nullopt;
      if (u.pids_limit_hit && pids_max_) peak = std::max(peak.value_or(0), *pids_max_);
      if (peak) u.pids_peak = *peak > reserved_pids_ ? *peak - reserved_pids_ : 0;
    }
    return u;
  }

  // SIGKILL everything at once (a CPU hog stops within microseconds), then freeze so nothing
  // forked meanwhile can escape, SIGKILL what is left, and thaw so those kills land.
  // Freezing is skipped when there was nothing to kill (the usual end of a run: the pid
  // namespace died with its init): only a member's fork or a migration by cell puts a task in
  // the leaf, so an empty leaf stays empty. It is done once: after a frozen kill every task has
  // SIGKILL queued and cannot fork any more, so later calls only signal the dying.
  Result<void> kill_all() override {
    int signalled = 0;
    for (const std::string& dir : d_.all) signalled += fs::kill_procs(dir);
    if (signalled == 0 || stopped_) return {};
    const std::string freezer = d_.of("freezer");
    const std::string state = fs::join(freezer, "freezer.state");
    const bool frozen = !freezer.empty() && fs::write(state, "FROZEN").ok();
    if (frozen)
      fs::wait_until([&] { return trim(fs::read(state).value_or("")) == "FROZEN"; }, 100 * fs::kMs);
    for (const std::string& dir : d_.all) fs::kill_procs(dir);
    if (!frozen) return {};
    CELL_TRY(fs::write(state, "THAWED"));
    stopped_ = true;
    return {};
  }

  Result<void> destroy() override {
    if (destroyed_) return {};
    if (sampler_) sampler_->stop();
    (void)kill_all();
    fs::wait_until(
        [&] {
          bool empty = true;
          for (const std::string& dir : d_.all) empty = empty && fs::procs(dir).empty();
          if (!empty) (void)kill_all();
          return empty;
        },
        kDrainNs);
    Result<void> first;  // every hierarchy gets its try; the first problem is reported
    for (const std::string& dir : d_.all)
      if (auto r = fs::remove_tree(dir, kDrainNs); !r.ok() && first.ok()) first = std::move(r);
    destroyed_ = first.ok();
    return first;
  }

  [[nodiscard]] std::string path() const override {
    const std::string mem = d_.of("memory");
    return mem.empty() && !d_.all.empty() ? d_.all.front() : mem;
  }

 private:
  void read_cpu(Usage& u) const {
    const std::string acct = d_.of("cpuacct");
    if (acct.empty()) return;
    u.cpu_ns = fs::read_u64(fs::join(acct, "cpuacct.usage"));
    u.user_ns = fs::read_u64(fs::join(acct, "cpuacct.usage_user"));
    u.sys_ns = fs::read_u64(fs::join(acct, "cpuacct.usage_sys"));
    if (!u.user_ns || !u.sys_ns) {  // before 4.7: ticks only
      auto stat = fs::read_keyed(fs::join(acct, "cpuacct.stat"));
      u.user_ns = stat["user"] * kUserHzNs;
      u.sys_ns = stat["system"] * kUserHzNs;
    }
    if (u.cpu_ns) split_like_the_kernel(*u.cpu_ns, u.user_ns, u.sys_ns);
  }

  // The user/system split is sampled at ticks (a short run may show 0 and 0) while the total is
  // exact: scale the split to the total, as cgroup2's cpu.stat does (kernel cputime_adjust).
  static void split_like_the_kernel(std::uint64_t total, std::optional<std::uint64_t>& user,
                                    std::optional<std::uint64_t>& sys) {
    const std::uint64_t u = user.value_or(0), s = sys.value_or(0);
    if (s == 0) {
      user = total, sys = 0;
    } else if (u == 0) {
      user = 0, sys = total;
    } else {
      const auto scaled = static_cast<std::uint64_t>(static_cast<long double>(total) * s / (u + s));
      sys = scaled, user = total - scaled;
    }
  }

  LeafDirs d_;
  std::uint32_t reserved_pids_;
  std::optional<std::uint64_t> pids_max_;
  bool has_pids_peak_ = false;
  std::unique_ptr<PeakSampler> sampler_;
  bool stopped_ = false;  // a frozen kill_all has run: every task left is dying
  bool destroyed_ = false;
};

class V1Driver final : public PlannedDriver {
 public:
  explicit V1Driver(std::vector<Hierarchy> h) : h_(std::move(h)) {}

  [[nodiscard]] std::string mode() const override { return "v1"; }
  [[nodiscard]] bool supports(std::string_view c) const override {
    const Hierarchy* h = find(std::string(c));
    if (h == nullptr) return false;
    // CFS bandwidth control is a kernel option: without it the cpu hierarchy cannot limit.
    return c != "cpu" || !h->create_from.empty() ||
           fs::exists(fs::join(h->parent, "cpu.cfs_quota_us"));
  }
  [[nodiscard]] int score() const override {
    return static_cast<int>(std::count_if(limit_controllers().begin(), limit_controllers().end(),
                                          [&](const std::string& c) { return supports(c); }));
  }

  Result<void> prepare() override {
    for (Hierarchy& h : h_) {
      if (h.create_from.empty()) continue;
      CELL_TRY(create_parent(h));
      h.create_from.clear();
    }
    return {};
  }

  Result<std::unique_ptr<Leaf>> create(const std::string& name, const LeafLimits& limits) override {
    LeafDirs dirs;
    ScopeExit undo([&] {
      for (const std::string& d : dirs.all) (void)fs::remove_tree(d, kDrainNs);
    });
    for (const Hierarchy& h : h_) {
      if (!needed(h, limits)) continue;
      const std::string dir = fs::join(h.parent, name);
      if (::mkdir(dir.c_str(), 0755) != 0)
        return Error::make(ErrorKind::io,
                           "cgroup: cannot create " + dir + ": " + errno_describe(errno), errno);
      dirs.all.push_back(dir);
      for (const std::string& c : h.controllers) dirs.by_controller[c] = dir;
    }
    CELL_TRY(write_limits(dirs, limits));
    undo.dismiss();
    return std::unique_ptr<Leaf>(std::make_unique<V1Leaf>(std::move(dirs), limits, true));
  }

  std::unique_ptr<Leaf> adopt(const std::string& name) override {
    LeafDirs dirs;
    for (const Hierarchy& h : h_) {
      const std::string dir = fs::join(h.parent, name);
      if (!fs::exists(dir)) continue;
      dirs.all.push_back(dir);
      for (const std::string& c : h.controllers) dirs.by_controller[c] = dir;
    }
    return std::make_unique<V1Leaf>(std::move(dirs), LeafLimits{}, false);
  }

  [[nodiscard]] std::vector<std::string> parent_dirs() const override {
    std::vector<std::string> out;
    for (const Hierarchy& h : h_) out.push_back(h.parent);
    return out;
  }

  [[nodiscard]] std::string describe() const override {
    std::vector<std::string> parts, missing;
    for (const Hierarchy& h : h_) parts.push_back(join(h.controllers, ",") + " " + h.parent);
    for (const std::string& c : limit_controllers())
      if (!supports(c)) missing.push_back(c);
    std::string s = "v1 parents " + join(parts, "; ");
    if (!missing.empty()) s += "; unavailable: " + join(missing, " ");
    return s;
  }

 private:
  const Hierarchy* find(const std::string& c) const {
    for (const Hierarchy& h : h_)
      if (contains(h.controllers, c)) return &h;
    return nullptr;
  }

  // cpu and cpuset leaves only when limited: a child left in the parent's is just unlimited.
  static bool needed(const Hierarchy& h, const LeafLimits& l) {
    for (const std::string& c : h.controllers)
      if ((c != "cpu" && c != "cpuset") || (c == "cpu" && l.cpus) || (c == "cpuset" && l.cpuset))
        return true;
    return false;
  }

  Result<void> write_limits(const LeafDirs& d, const LeafLimits& l) const {
    if (const std::string mem = d.of("memory"); !mem.empty() && l.memory_bytes) {
      const std::string bytes = std::to_string(*l.memory_bytes);
      CELL_TRY(fs::write(fs::join(mem, "memory.limit_in_bytes"), bytes));
      // memory+swap, when swap accounting is on; else ask reclaim not to swap.
      if (fs::exists(fs::join(mem, "memory.memsw.limit_in_bytes")))
        CELL_TRY(fs::write(fs::join(mem, "memory.memsw.limit_in_bytes"), bytes));
      else
        (void)fs::write(fs::join(mem, "memory.swappiness"), "0");
    }
    if (const std::string pids = d.of("pids"); !pids.empty() && l.pids)
      CELL_TRY(fs::write(fs::join(pids, "pids.max"), std::to_string(*l.pids + l.reserved_pids)));
    if (const std::string cpu = d.of("cpu"); !cpu.empty() && l.cpus) {
      CELL_TRY(fs::write(fs::join(cpu, "cpu.cfs_period_us"), std::to_string(kPeriodUs)));
      CELL_TRY(fs::write(fs::join(cpu, "cpu.cfs_quota_us"),
                         std::to_string(cpu_quota_us(*l.cpus, kPeriodUs))));
    }
    if (const std::string cs = d.of("cpuset"); !cs.empty()) CELL_TRY(init_cpuset(cs, l.cpuset));
    return {};
  }

  // A v1 cpuset starts empty and takes no tasks until cpus and mems are set.
  static Result<void> init_cpuset(const std::string& dir, const std::optional<std::string>& cpus) {
    const std::string up = fs::dirname(dir);
    CELL_TRY(fs::write(fs::join(dir, "cpuset.mems"),
                       trim(fs::read(fs::join(up, "cpuset.mems")).value_or(""))));
    const std::string inherited(trim(fs::read(fs::join(up, "cpuset.cpus")).value_or("")));
    return fs::write(fs::join(dir, "cpuset.cpus"), cpus ? *cpus : inherited);
  }

  static Result<void> create_parent(const Hierarchy& h) {
    std::string dir = h.create_from;
    for (const std::string& part : split(h.parent.substr(h.create_from.size()), '/')) {
      if (part.empty()) continue;
      dir = fs::join(dir, part);
      if (::mkdir(dir.c_str(), 0755) != 0) {
        if (errno == EEXIST) continue;
        return Error::make(ErrorKind::io,
                           "cgroup: cannot create parent " + dir + ": " + errno_describe(errno),
                           errno);
      }
      if (contains(h.controllers, "cpuset")) CELL_TRY(init_cpuset(dir, std::nullopt));
    }
    return {};
  }

  std::vector<Hierarchy> h_;
};

bool already_found(const std::vector<Hierarchy>& found,
                   const std::vector<std::string>& controllers) {
  for (const Hierarchy& f : found)
    if (f.controllers == controllers) return true;
  return false;
}

}  // namespace

Result<std::unique_ptr<PlannedDriver>> plan_v1(const HostView& host, const DetectOptions& opts) {
  std::vector<Hierarchy> found;
  std::vector<std::string> problems;
  for (const CgroupMount& m : host.mounts) {
    if (m.v2) continue;
    std::vector<std::string> ours;
    for (const std::string& c : m.controllers)
      if (contains(v1_controllers(), c)) ours.push_back(c);
    if (ours.empty() || already_found(found, ours)) continue;  // not ours, or mounted twice
    Hierarchy h;
    h.mount = m.mount_point;
    h.controllers = std::move(ours);
    const ProcCgroupLine* line = nullptr;
    for (const ProcCgroupLine& l : host.self)
      if (l.controllers == m.controllers) line = &l;
    if (line == nullptr) continue;
    if (!opts.parent.empty()) {
      auto dir = resolve_parent(m.mount_point, opts.parent);
      if (!dir.ok()) return dir.error();
      h.parent = *dir;
    } else {
      if (m.root != "/" && !starts_with(line->path, m.root)) continue;
      const std::string rel = line->path.substr(m.root == "/" ? 0 : m.root.size());
      h.parent = rel.empty() || rel == "/" ? m.mount_point : m.mount_point + rel;
    }
    const std::string base = existing_ancestor(m.mount_point, h.parent);
    if (!fs::writable(base)) {
      problems.push_back(join(h.controllers, ",") + ": " + base + " is not writable");
      continue;
    }
    if (base != h.parent) h.create_from = base;
    found.push_back(std::move(h));
  }
  if (found.empty()) {
    Error e = Error::make(
        ErrorKind::unsupported,
        "cgroup v1: " + (problems.empty() ? std::string("no v1 hierarchy with memory, pids, cpu, "
                                                        "cpuacct, cpuset or freezer is mounted")
                                          : join(problems, "; ")));
    if (host.euid != 0)
      e.hint = "cgroup v1 cannot be delegated safely to unprivileged users; run as root";
    return e;
  }
  return std::unique_ptr<PlannedDriver>(std::make_unique<V1Driver>(std::move(found)));
}

}  // namespace cell::cgroup
