// Pure parsers for the text the kernel exposes about cgroups (/proc/self/cgroup,
// /proc/self/mountinfo, cgroupfs files). No I/O here, so unit tests can feed them any text.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cell::cgroup {

// One line of /proc/PID/cgroup: "4:memory:/a/b", "1:cpu,cpuacct:/", "0::/user.slice".
struct ProcCgroupLine {
  int hierarchy = -1;
  std::vector<std::string> controllers;  // empty for the v2 line (and for name= hierarchies)
  std::string path;
};
std::vector<ProcCgroupLine> parse_proc_cgroup(std::string_view text);

// A cgroup filesystem mount from /proc/PID/mountinfo.
struct CgroupMount {
  std::string mount_point;               // where it is mounted (octal escapes decoded)
  std::string root;                      // the cgroup that is the mount's root ("/" usually)
  bool v2 = false;                       // fstype cgroup2
  std::vector<std::string> controllers;  // v1: the controllers bound to this hierarchy
};
std::vector<CgroupMount> parse_mountinfo_cgroups(std::string_view text);

// "key value" lines (cpu.stat, memory.events, pids.events, memory.oom_control, cgroup.events,
// cpuacct.stat). Lines without a numeric value are skipped.
std::map<std::string, std::uint64_t> parse_flat_keyed(std::string_view text);

// A single number ("1234\n"); "max" (v2) reads as UINT64_MAX. nullopt on anything else.
std::optional<std::uint64_t> parse_u64(std::string_view text);

// One pid per line (cgroup.procs).
std::vector<pid_t> parse_pids(std::string_view text);

// Field 22 (starttime, clock ticks since boot) of /proc/PID/stat; comm may hold spaces and ')'.
std::optional<std::uint64_t> parse_stat_starttime(std::string_view text);

// "5.10.0-28-amd64" -> 5010; nullopt if it does not start with MAJOR.MINOR.
std::optional<int> parse_kernel_version(std::string_view release);

// cpu.max ("QUOTA PERIOD") / cfs quota for `cpus` CPUs over `period_us`; at least 1000 us.
std::uint64_t cpu_quota_us(double cpus, std::uint64_t period_us);

// A run's leaf is named "cell-<owner pid>-<owner starttime>-<n>": the owner is alive while a
// process with that pid and that start time exists (a reused pid has a later start time).
// A rootless cell on cgroup v2 may move itself into "cell-self-<pid>" (see v2.cc).
struct LeafOwner {
  pid_t pid = 0;
  std::uint64_t starttime = 0;
};
std::string format_run_leaf_name(pid_t pid, std::uint64_t starttime, std::uint64_t n);
std::optional<LeafOwner> run_leaf_owner(std::string_view name);
std::optional<pid_t> self_leaf_owner(std::string_view name);
std::string self_leaf_name(pid_t pid);

}  // namespace cell::cgroup
