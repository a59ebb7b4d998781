// collect_garbage: leaves of dead runs (named by next_leaf_name) under the driver's parents.
#include <cell/gc.hpp>

#include <unistd.h>

#include <algorithm>
#include <set>

#include "cgroup/cgroup.hpp"
#include "cgroup/fs.hpp"
#include "cgroup/parse.hpp"

namespace cell {

namespace {

// A run's owner is alive while its pid names a process that started at the recorded time.
bool owner_alive(const cgroup::LeafOwner& o) {
  const std::optional<std::uint64_t> start = cgroup::fs::process_starttime(o.pid);
  return start && (o.starttime == 0 || *start == o.starttime);
}

unsigned count_procs(const std::vector<std::string>& parents, const std::string& name) {
  unsigned n = 0;
  for (const std::string& p : parents)
    n = std::max<unsigned>(n, cgroup::fs::procs(cgroup::fs::join(p, name)).size());
  return n;
}

}  // namespace

Result<GcReport> collect_garbage(const GcOptions& options) {
  auto driver = cgroup::detect({options.cgroup_parent, true});
  if (!driver.ok()) return driver.error();
  cgroup::Driver& d = **driver;
  GcReport report;
  report.cgroup_mode = d.mode();
  const std::vector<std::string> parents = d.parent_dirs();
  std::set<std::string> runs, selves;
  for (const std::string& p : parents)
    for (const std::string& name : cgroup::fs::subdirs(p)) {
      const auto run = cgroup::run_leaf_owner(name);
      const auto self = cgroup::self_leaf_owner(name);
      const int owner = run ? run->pid : self ? *self : 0;
      if (options.owner_pid != 0 && owner != options.owner_pid) continue;
      if (run) runs.insert(name);
      if (self) selves.insert(name);
    }
  for (const std::string& name : runs) {
    std::string where = cgroup::fs::join(parents.front(), name);
    for (const std::string& p : parents)
      if (cgroup::fs::exists(cgroup::fs::join(p, name))) {
        where = cgroup::fs::join(p, name);
        break;
      }
    if (owner_alive(*cgroup::run_leaf_owner(name))) {
      report.in_use.push_back(where);
      continue;
    }
    report.killed_processes += count_procs(parents, name);
    if (!options.dry_run) {
      if (auto r = d.adopt(name)->destroy(); !r.ok()) {
        report.problems.push_back(r.error().message);
        continue;
      }
    }
    report.removed.push_back(where);
  }
  // A rootless cell's own sub-cgroup (v2): removable once empty, i.e. its process is gone.
  for (const std::string& name : selves) {
    const std::string dir = cgroup::fs::join(parents.front(), name);
    if (!cgroup::fs::procs(dir).empty()) continue;
    if (!options.dry_run && ::rmdir(dir.c_str()) != 0) continue;  // raced with a new member
    report.removed.push_back(dir);
  }
  return report;
}

}  // namespace cell
