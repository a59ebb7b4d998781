// Garbage collection of what runs leave behind when their cell process dies mid-run
// (SIGKILL, power loss of a server): the runs' cgroups and any processes still in them.
#pragma once

#include <cell/error.hpp>

#include <string>
#include <vector>

namespace cell {

struct GcOptions {
  std::string cgroup_parent;  // where the runs' cgroups were created (--cgroup-parent), "" = detect
  bool dry_run = false;       // report, change nothing
  int owner_pid = 0;          // only runs of this (dead) cell process; 0 = every dead owner's
};

struct GcReport {
  std::string cgroup_mode;            // v2 | v1 | none
  std::vector<std::string> removed;   // cgroup directories removed (or, dry run, to remove)
  std::vector<std::string> in_use;    // leaves whose cell process is alive: kept
  std::vector<std::string> problems;  // what could not be removed, and why
  unsigned killed_processes = 0;      // processes found in dead runs' cgroups and killed
};

// Removes the cgroup leaves of runs whose cell process is gone, killing what is left in them.
// A leaf is named cell-<pid>-<starttime>-<n>; its owner is alive while a process with that pid
// and start time exists in this pid namespace. Never touches anything else. An error only when
// no cgroup hierarchy can be inspected at all.
Result<GcReport> collect_garbage(const GcOptions& options = {});

}  // namespace cell
