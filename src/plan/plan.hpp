// Profile + request -> Plan: everything the child needs, owned here and viewed through
// child::ChildPlan. Built entirely before clone: nothing is looked up by name afterwards.
#pragma once

#include <cell/error.hpp>
#include <cell/profile.hpp>
#include <cell/runtime.hpp>

#include <sys/types.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "child/plan.hpp"
#include "seccomp/seccomp.hpp"

namespace cell::plan {

class IdmapCache;

// Where the sandbox's root comes from.
struct RootSource {
  enum class Kind { host, dir, overlay };
  Kind kind = Kind::host;
  std::string path;                    // dir: the rootfs directory
  std::vector<std::string> lowerdirs;  // overlay: image layers, topmost first
  std::string display;                 // "host", "rootfs /srv/root", "image python:3.11"
};

// The validated inputs of one run.
struct Request {
  Profile profile;  // effective: the request's overrides already applied
  RootSource root;
  std::vector<std::string> argv;
  std::string workdir;    // empty: /tmp, or /workspace when something is bound there
  std::string stage_dir;  // an existing host directory to assemble the root on
  IdMapMode idmap = IdMapMode::automatic;
  uid_t caller_uid = 0;
  gid_t caller_gid = 0;
  std::uint32_t uid_base = 0;  // host uid of sandbox uid 0 when the caller is root
  // Limits no cgroup enforces: approximated with rlimits and reported as degraded.
  bool memory_via_rlimit = false;
  bool pids_via_rlimit = false;
  const seccomp::CompiledFilter* filter = nullptr;  // null: no seccomp
  // Root with a ranged map: writable binds are idmapped so the sandbox user owns them inside.
  IdmapCache* idmaps = nullptr;
};

// How sandbox ids map to host ids, written by the parent before it releases the child.
struct IdMap {
  std::string uid_map;  // /proc/PID/uid_map text (direct write)
  std::string gid_map;
  bool deny_setgroups = false;  // write "deny" to /proc/PID/setgroups first
  bool use_helpers = false;     // run newuidmap/newgidmap with the args below instead
  std::vector<std::string> newuidmap_args;  // after the pid
  std::vector<std::string> newgidmap_args;
  std::string description;  // "0-65535 -> host 1610612736-..." for messages
};

class Plan {
 public:
  Plan() = default;
  Plan(const Plan&) = delete;  // the view points into this object
  Plan& operator=(const Plan&) = delete;

  child::ChildPlan view;
  IdMap idmap;
  std::vector<std::string> mount_descriptions;  // by MountOp::item
  std::vector<std::string> rlimit_names;        // by index in the rlimit table
  std::vector<std::string> exec_candidates;     // where argv[0] was looked for
  std::vector<std::string> join_paths;          // by index in view.join_fds (set by launch)
  std::vector<std::string> degraded;            // protections approximated or dropped
  std::string root_display;
  std::uint64_t clone_flags = 0;  // CLONE_NEW* namespaces to create

  // Stores `s` for the plan's lifetime and returns a pointer the child may use.
  const char* keep(std::string s);
  // Appends a mount op; its `item` must index mount_descriptions.
  void add_op(const child::MountOp& op) { ops_.push_back(op); }
  void add_rlimit(int resource, std::uint64_t soft, std::uint64_t hard, std::string name);
  // Keeps `fd` open for the plan's lifetime (the child inherits it); returns its number.
  int own(UniqueFd fd);
  // Points `view` at the owned tables. Call once everything is added.
  void finalize(const seccomp::CompiledFilter* filter);
  void set_exec(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                const std::vector<std::string>& candidates);

 private:
  std::deque<std::string> strings_;  // deque: stable addresses
  std::vector<UniqueFd> fds_;
  std::vector<child::MountOp> ops_;
  std::vector<child::RlimitOp> rlimits_;
  std::vector<const char*> exec_paths_;
  std::vector<char*> argv_;
  std::vector<char*> envp_;
  struct sock_fprog prog_ {};
};

Result<std::unique_ptr<Plan>> build_plan(const Request& req);

}  // namespace cell::plan
