// Inside the cgroup component: what detection reads from the host, and the two drivers as
// plans that can be compared before either changes anything.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "cgroup/cgroup.hpp"
#include "cgroup/parse.hpp"

namespace cell::cgroup {

// The controllers a run's limits need, in the order they are reported.
inline const std::vector<std::string>& limit_controllers() {
  static const std::vector<std::string> names = {"memory", "pids", "cpu", "cpuset"};
  return names;
}

struct HostView {
  std::vector<CgroupMount> mounts;   // from /proc/self/mountinfo
  std::vector<ProcCgroupLine> self;  // from /proc/self/cgroup
  int kernel = 0;                    // major * 1000 + minor
  pid_t pid = 0;
  uid_t euid = 0;
};
HostView read_host_view();

class PlannedDriver : public Driver {
 public:
  // How many of limit_controllers() this driver can enforce.
  [[nodiscard]] virtual int score() const = 0;
  // Makes the changes the plan needs (create the parent, enable controllers, move cell into its
  // own sub-cgroup). Called once, only for the driver detection picked, never when inspecting.
  virtual Result<void> prepare() = 0;
};

Result<std::unique_ptr<PlannedDriver>> plan_v2(const HostView& host, const DetectOptions& opts);
Result<std::unique_ptr<PlannedDriver>> plan_v1(const HostView& host, const DetectOptions& opts);

// A parent given by the user: a path inside the hierarchy ("/a/b" or "a/b"), or a directory
// under `mount_point` (/sys/fs/cgroup/a/b). Fails on "..".
Result<std::string> resolve_parent(const std::string& mount_point, const std::string& parent);

// The deepest existing directory on the way from `mount_point` to `dir`.
std::string existing_ancestor(const std::string& mount_point, const std::string& dir);

bool contains(const std::vector<std::string>& v, const std::string& s);

}  // namespace cell::cgroup
