// cgroup v2: one leaf per run under a delegated parent; the child is born inside it
// (CLONE_INTO_CGROUP), cgroup.kill stops the tree, memory.peak/memory.events/pids.events/cpu.stat
// give the verdict its numbers.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "base/errno_names.hpp"
#include "base/scope_exit.hpp"
#include "base/strings.hpp"
#include "base/unique_fd.hpp"
#include "cgroup/drivers.hpp"
#include "cgroup/fs.hpp"
#include "cgroup/sampler.hpp"

namespace cell::cgroup {

namespace {

constexpr std::uint64_t kPeriodUs = 100000;
constexpr std::uint64_t kDrainNs = 5000 * fs::kMs;  // processes get this long to die
constexpr int kCloneIntoCgroupKernel = 5007;

// What a delegation hands to its user besides the directory itself (systemd Delegate=yes).
const std::vector<std::string> kDelegatedFiles = {"cgroup.procs", "cgroup.subtree_control"};

std::vector<std::string> limit_controllers_in(const std::vector<std::string>& available) {
  std::vector<std::string> out;
  for (const std::string& c : limit_controllers())
    if (contains(available, c)) out.push_back(c);
  return out;
}

class V2Leaf final : public Leaf {
 public:
  V2Leaf(std::string dir, UniqueFd fd, bool clone_into, const LeafLimits& limits)
      : dir_(std::move(dir)),
        fd_(std::move(fd)),
        clone_into_(clone_into),
        reserved_pids_(limits.reserved_pids) {
    if (limits.pids) pids_max_ = *limits.pids + limits.reserved_pids;
    has_memory_peak_ = fs::exists(file("memory.peak"));
    has_pids_peak_ = fs::exists(file("pids.peak"));
    // Kernels before 5.19 (memory.peak) and 6.12 (pids.peak): poll the current values.
    // (Not for a leaf adopted by gc, which only removes it.)
    if (fd_.valid() && ((!has_memory_peak_ && fs::exists(file("memory.current"))) ||
                        (!has_pids_peak_ && fs::exists(file("pids.current")))))
      sampler_ = std::make_unique<PeakSampler>(
          std::vector<std::string>{file("memory.current"), file("pids.current")});
  }
  ~V2Leaf() override { (void)destroy(); }

  [[nodiscard]] int clone_into_fd() const override { return clone_into_ ? fd_.get() : -1; }

  Result<void> join(pid_t pid) override {
    return fs::write(file("cgroup.procs"), std::to_string(pid));
  }

  // The CPU-limit timer's reading. The scheduler charges a running task at each tick, so this
  // lags by up to one tick (4 ms at HZ=250); no interface reads another process's CPU time
  // more precisely (the kernel brings only the caller's own running thread up to date).
  std::optional<std::uint64_t> cpu_ns() override {
    const auto stat = fs::read_keyed(file("cpu.stat"));
    const auto it = stat.find("usage_usec");
    if (it == stat.end()) return std::nullopt;
    return it->second * 1000;
  }

  Usage usage() override {
    if (sampler_) sampler_->stop();
    Usage u;
    const auto cpu = fs::read_keyed(file("cpu.stat"));
    if (cpu.count("usage_usec")) u.cpu_ns = cpu.at("usage_usec") * 1000;
    if (cpu.count("user_usec")) u.user_ns = cpu.at("user_usec") * 1000;
    if (cpu.count("system_usec")) u.sys_ns = cpu.at("system_usec") * 1000;
    if (has_memory_peak_) {
      u.memory_peak_bytes = fs::read_u64(file("memory.peak"));
      u.memory_peak_source = "cgroup2.memory.peak";
    } else if (sampler_ && sampler_->peak(0)) {
      u.memory_peak_bytes = sampler_->peak(0);
      u.memory_peak_source = "cgroup2.memory.current";  // polled: may miss a short spike
    }
    auto events = fs::read_keyed(file("memory.events"));
    u.oom_kills = events["oom_kill"];
    u.memory_limit_hit = events["oom"] > 0 || u.oom_kills > 0;
    u.pids_limit_hit = fs::read_keyed(file("pids.events"))["max"] > 0;
    std::optional<std::uint64_t> pids = has_pids_peak_ ? fs::read_u64(file("pids.peak"))
                                        : sampler_     ? sampler_->peak(1)
                                                       : std::nullopt;
    // A fork failed at pids.max, so the count stood at the limit then.
    if (u.pids_limit_hit && pids_max_) pids = std::max(pids.value_or(0), *pids_max_);
    if (pids) u.pids_peak = *pids > reserved_pids_ ? *pids - reserved_pids_ : 0;
    return u;
  }

  // An unpopulated leaf (no process in its subtree) stays so: only a member's fork or a
  // migration by cell puts a task there. Nothing to kill, nothing to freeze.
  Result<void> kill_all() override {
    if (!populated()) return {};
    if (fs::exists(file("cgroup.kill"))) return fs::write(file("cgroup.kill"), "1");
    // Before 5.14: freeze so nothing forks while we kill, kill, thaw so the kills land. Once:
    // after a frozen kill every task has SIGKILL queued and cannot fork any more.
    if (stopped_) {
      kill_tree(dir_);
      return {};
    }
    const bool frozen = fs::write(file("cgroup.freeze"), "1").ok();
    if (frozen)
      fs::wait_until([&] { return fs::read_keyed(file("cgroup.events"))["frozen"] == 1; },
                     100 * fs::kMs);
    kill_tree(dir_);
    if (!frozen) return {};
    CELL_TRY(fs::write(file("cgroup.freeze"), "0"));
    stopped_ = true;
    return {};
  }

  Result<void> destroy() override {
    if (destroyed_) return {};
    if (sampler_) sampler_->stop();
    (void)kill_all();
    fs::wait_until(
        [&] {
          const auto events = fs::read_keyed(file("cgroup.events"));
          if (events.count("populated") == 0 || events.at("populated") == 0) return true;
          (void)kill_all();  // something forked or was mid-exit: again
          return false;
        },
        kDrainNs);
    fd_.reset();
    CELL_TRY(fs::remove_tree(dir_, kDrainNs));
    destroyed_ = true;
    return {};
  }

  [[nodiscard]] std::string path() const override { return dir_; }

 private:
  std::string file(std::string_view name) const { return fs::join(dir_, name); }

  // cgroup.events "populated"; true when it cannot be read (then kill as before).
  [[nodiscard]] bool populated() const {
    auto events = fs::read_keyed(file("cgroup.events"));
    const auto it = events.find("populated");
    return it == events.end() || it->second != 0;
  }

  static void kill_tree(const std::string& dir) {
    fs::kill_procs(dir);
    for (const std::string& sub : fs::subdirs(dir)) kill_tree(fs::join(dir, sub));
  }

  std::string dir_;
  UniqueFd fd_;
  bool clone_into_;
  std::uint32_t reserved_pids_;
  std::optional<std::uint64_t> pids_max_;
  bool has_memory_peak_ = false;
  bool has_pids_peak_ = false;
  std::unique_ptr<PeakSampler> sampler_;
  bool stopped_ = false;  // a frozen kill_all has run: every task left is dying
  bool destroyed_ = false;
};

struct V2Plan {
  std::string mount;                     // the cgroup2 mount point
  std::string parent;                    // where leaves go
  std::string origin;                    // how the parent was chosen (for describe)
  std::string create_from;               // set: `parent` does not exist yet; create below this
  bool move_self = false;                // cell leaves `parent` for parent/cell-self-<pid>
  std::vector<std::string> controllers;  // of limit_controllers(), those the parent can offer
  bool clone_into = false;
  pid_t pid = 0;
};

// Serialises changes to the hierarchy made by detection (several Runtime::open at once).
std::mutex& prepare_mutex() {
  static std::mutex mu;
  return mu;
}

class V2Driver final : public PlannedDriver {
 public:
  explicit V2Driver(V2Plan plan) : p_(std::move(plan)) {}

  [[nodiscard]] std::string mode() const override { return "v2"; }
  [[nodiscard]] bool supports(std::string_view c) const override {
    return contains(p_.controllers, std::string(c));
  }
  [[nodiscard]] int score() const override { return static_cast<int>(p_.controllers.size()); }

  Result<void> prepare() override {
    std::lock_guard lock(prepare_mutex());
    if (!p_.create_from.empty()) CELL_TRY(create_parent());
    if (p_.move_self) CELL_TRY(move_self());
    enable_controllers(p_.parent);
    p_.controllers =
        limit_controllers_in(fs::read_words(fs::join(p_.parent, "cgroup.subtree_control")));
    return {};
  }

  Result<std::unique_ptr<Leaf>> create(const std::string& name, const LeafLimits& limits) override {
    const std::string dir = fs::join(p_.parent, name);
    if (::mkdir(dir.c_str(), 0755) != 0)
      return Error::make(ErrorKind::io,
                         "cgroup: cannot create " + dir + ": " + errno_describe(errno), errno);
    ScopeExit undo([&] { (void)fs::remove_tree(dir, kDrainNs); });
    CELL_TRY(write_limits(dir, limits));
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid())
      return Error::make(ErrorKind::io, "cgroup: cannot open " + dir + ": " + errno_describe(errno),
                         errno);
    undo.dismiss();
    return std::unique_ptr<Leaf>(
        std::make_unique<V2Leaf>(dir, std::move(fd), p_.clone_into, limits));
  }

  std::unique_ptr<Leaf> adopt(const std::string& name) override {
    return std::make_unique<V2Leaf>(fs::join(p_.parent, name), UniqueFd(), false, LeafLimits{});
  }

  [[nodiscard]] std::vector<std::string> parent_dirs() const override { return {p_.parent}; }

  [[nodiscard]] std::string describe() const override {
    std::vector<std::string> missing;
    for (const std::string& c : limit_controllers())
      if (!contains(p_.controllers, c)) missing.push_back(c);
    std::string s = "v2 parent " + p_.parent + " (" + p_.origin + "); controllers: " +
                    (p_.controllers.empty() ? "none" : join(p_.controllers, " "));
    if (!missing.empty()) s += "; not delegated: " + join(missing, " ");
    if (!p_.clone_into) s += "; no CLONE_INTO_CGROUP (kernel < 5.7): children join by pid";
    return s;
  }

 private:
  // Each controller separately: one the parent cannot give must not block the others.
  void enable_controllers(const std::string& dir) {
    const std::vector<std::string> enabled =
        fs::read_words(fs::join(dir, "cgroup.subtree_control"));
    for (const std::string& c :
         limit_controllers_in(fs::read_words(fs::join(dir, "cgroup.controllers"))))
      if (!contains(enabled, c)) (void)fs::write(fs::join(dir, "cgroup.subtree_control"), "+" + c);
  }

  Result<void> create_parent() {
    std::string dir = p_.create_from;
    const std::string rest = p_.parent.substr(p_.create_from.size());
    for (const std::string& part : split(rest, '/')) {
      if (part.empty()) continue;
      enable_controllers(dir);
      dir = fs::join(dir, part);
      if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        return Error::make(ErrorKind::io,
                           "cgroup: cannot create parent " + dir + ": " + errno_describe(errno),
                           errno);
    }
    return {};
  }

  // The no-internal-processes rule: a cgroup that holds processes cannot hand controllers to
  // children. When cell is alone in its delegated cgroup it moves itself one level down, as
  // systemd and crun do; it never moves any other process.
  // A cgroup cannot be removed by the process inside it, so each cell process that moved
  // leaves an empty cell-self-<pid> behind when it exits: the next one (or cell gc) clears them.
  Result<void> move_self() {
    for (const std::string& name : fs::subdirs(p_.parent))
      if (const auto owner = self_leaf_owner(name); owner && *owner != p_.pid && !alive(*owner))
        (void)::rmdir(fs::join(p_.parent, name).c_str());  // fails (EBUSY) if not empty
    const std::string self = fs::join(p_.parent, self_leaf_name(p_.pid));
    if (::mkdir(self.c_str(), 0755) != 0 && errno != EEXIST)
      return Error::make(ErrorKind::io,
                         "cgroup: cannot create " + self + ": " + errno_describe(errno), errno);
    return fs::write(fs::join(self, "cgroup.procs"), std::to_string(p_.pid));
  }

  static bool alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

  Result<void> write_limits(const std::string& dir, const LeafLimits& l) const {
    auto file = [&](const char* name) { return fs::join(dir, name); };
    if (supports("memory")) {
      // The whole tree dies together on an OOM kill; swap never extends the limit.
      CELL_TRY(fs::write(file("memory.oom.group"), "1"));
      if (fs::exists(file("memory.swap.max"))) CELL_TRY(fs::write(file("memory.swap.max"), "0"));
      if (l.memory_bytes) CELL_TRY(fs::write(file("memory.max"), std::to_string(*l.memory_bytes)));
    }
    if (l.pids && supports("pids"))
      CELL_TRY(fs::write(file("pids.max"), std::to_string(*l.pids + l.reserved_pids)));
    if (l.cpus && supports("cpu"))
      CELL_TRY(fs::write(file("cpu.max"), std::to_string(cpu_quota_us(*l.cpus, kPeriodUs)) + " " +
                                              std::to_string(kPeriodUs)));
    if (l.cpuset && supports("cpuset")) CELL_TRY(fs::write(file("cpuset.cpus"), *l.cpuset));
    return {};
  }

  V2Plan p_;
};

const CgroupMount* find_mount(const HostView& host, const std::string& path) {
  const CgroupMount* best = nullptr;
  for (const CgroupMount& m : host.mounts) {
    if (!m.v2) continue;
    const bool under = m.root == "/" || path == m.root || starts_with(path, m.root + "/");
    if (under && (best == nullptr || m.root.size() > best->root.size())) best = &m;
  }
  return best;
}

Error v2_error(std::string message, std::string hint = "") {
  Error e = Error::make(ErrorKind::unsupported, "cgroup v2: " + std::move(message));
  e.hint = std::move(hint);
  return e;
}

// Picks the parent when the user named none. Reads only; prepare() makes the changes.
Result<V2Plan> choose_parent(V2Plan p, const std::string& own, const HostView& host) {
  auto offered = [](const std::string& dir, const char* file) {
    return limit_controllers_in(fs::read_words(fs::join(dir, file)));
  };
  const std::string up = fs::dirname(own);
  if (!fs::exists(fs::join(own, "cgroup.type"))) {  // only the root cgroup lacks cgroup.type
    if (!fs::writable(own, kDelegatedFiles))
      return v2_error("cell runs in the root cgroup, which this user cannot write");
    p.parent = own;
    p.origin = "the root cgroup";
    p.controllers = offered(own, "cgroup.controllers");
  } else if (self_leaf_owner(fs::basename(own))) {
    if (!fs::writable(up, kDelegatedFiles)) return v2_error(up + " is not writable");
    p.parent = up;
    p.origin = "delegated; cell's own processes are in " + fs::basename(own);
    p.controllers = offered(up, "cgroup.controllers");
  } else if (fs::writable(own, kDelegatedFiles) && fs::procs(own) == std::vector<pid_t>{host.pid}) {
    p.parent = own;
    p.origin = "cell's own delegated cgroup; cell moves itself into " + self_leaf_name(host.pid);
    p.move_self = true;
    p.controllers = offered(own, "cgroup.controllers");
  } else if (host.euid == 0 && fs::writable(p.mount, kDelegatedFiles)) {
    p.parent = fs::join(p.mount, "cell");
    p.origin = "cell's cgroup at the top of the hierarchy";
    const bool made = fs::exists(p.parent);
    p.controllers = offered(made ? p.parent : p.mount, "cgroup.controllers");
    if (!made) p.create_from = p.mount;
  } else if (own != p.mount && fs::writable(up, kDelegatedFiles) &&
             !offered(up, "cgroup.subtree_control").empty()) {
    p.parent = up;
    p.origin = "the delegated parent of cell's cgroup";
    p.controllers = offered(up, "cgroup.controllers");
  } else {
    return v2_error(own + " is not delegated to this user, or holds other processes",
                    "start cell in a delegated cgroup (systemd-run --user --scope -p Delegate=yes "
                    "cell ...) or pass --cgroup-parent");
  }
  return p;
}

}  // namespace

Result<std::unique_ptr<PlannedDriver>> plan_v2(const HostView& host, const DetectOptions& opts) {
  const ProcCgroupLine* line = nullptr;
  for (const ProcCgroupLine& l : host.self)
    if (l.hierarchy == 0 && l.controllers.empty()) line = &l;
  if (line == nullptr) return v2_error("cell is in no cgroup2 hierarchy");
  const CgroupMount* m = find_mount(host, line->path);
  if (m == nullptr)
    return v2_error("cgroup2 is not mounted where cell can see its cgroup " + line->path);
  V2Plan p;
  p.mount = m->mount_point;
  p.clone_into = host.kernel >= kCloneIntoCgroupKernel;
  p.pid = host.pid;
  if (!opts.parent.empty()) {
    auto dir = resolve_parent(p.mount, opts.parent);
    if (!dir.ok()) return dir.error();
    p.parent = *dir;
    p.origin = "--cgroup-parent";
    const std::string base = existing_ancestor(p.mount, p.parent);
    if (!fs::writable(base)) return v2_error(base + " is not writable");
    if (base != p.parent) p.create_from = base;
    p.controllers = limit_controllers_in(fs::read_words(fs::join(base, "cgroup.controllers")));
  } else {
    const std::string rel = line->path.substr(m->root == "/" ? 0 : m->root.size());
    const std::string own = rel.empty() || rel == "/" ? p.mount : p.mount + rel;
    auto chosen = choose_parent(std::move(p), own, host);
    if (!chosen.ok()) return chosen.error();
    p = std::move(chosen).value();
  }
  return std::unique_ptr<PlannedDriver>(std::make_unique<V2Driver>(std::move(p)));
}

}  // namespace cell::cgroup
