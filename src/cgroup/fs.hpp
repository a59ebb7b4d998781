// Small cgroupfs helpers shared by the v1 and v2 drivers and gc. Errors name the file.
#pragma once

#include <cell/error.hpp>

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cell::cgroup::fs {

constexpr std::uint64_t kMs = 1000000;

std::string join(const std::string& dir, std::string_view name);
std::string dirname(const std::string& path);
std::string basename(const std::string& path);

bool exists(const std::string& path);
// Writable for this process in the cgroup sense: the directory (to mkdir leaves) and, when
// given, the files a delegation hands over (cgroup.procs, cgroup.subtree_control).
bool writable(const std::string& dir, const std::vector<std::string>& files = {});

std::optional<std::string> read(const std::string& path);  // nullopt: missing or unreadable
std::optional<std::uint64_t> read_u64(const std::string& path);
std::map<std::string, std::uint64_t> read_keyed(const std::string& path);  // empty if missing
std::vector<std::string> read_words(const std::string& path);  // cgroup.controllers & co.
Result<void> write(const std::string& path, std::string_view value);

std::vector<pid_t> procs(const std::string& dir);  // cgroup.procs
// SIGKILLs every process listed in dir/cgroup.procs; returns how many were signalled.
int kill_procs(const std::string& dir);
std::vector<std::string> subdirs(const std::string& dir);

// Polls `done` with a short backoff until it holds or `timeout_ns` passes.
bool wait_until(const std::function<bool()>& done, std::uint64_t timeout_ns);
// rmdir of `dir` and, first, of any cgroups below it; retries EBUSY (processes still exiting)
// until `timeout_ns`. A missing directory is not an error.
Result<void> remove_tree(const std::string& dir, std::uint64_t timeout_ns);

// Field 22 of /proc/PID/stat (start time in clock ticks after boot); nullopt if no such process.
std::optional<std::uint64_t> process_starttime(pid_t pid);

}  // namespace cell::cgroup::fs
