// The verdict of one run: cell.result/v1 (see SPEC).
#pragma once

#include <cell/profile.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cell {

// In precedence order: when several apply, the earlier one is the status.
enum class Status {
  internal_error,
  setup_error,
  cancelled,
  seccomp_violation,
  memory_limit,
  time_limit_cpu,
  time_limit_wall,
  output_limit,
  disk_limit,
  pids_limit,
  signalled,
  nonzero_exit,
  file_error,
  ok,
};
std::string_view to_string(Status s) noexcept;

struct Usage {
  std::uint64_t cpu_ns = 0;
  std::uint64_t user_ns = 0;
  std::uint64_t sys_ns = 0;
  std::uint64_t wall_ns = 0;
  std::uint64_t setup_ns = 0;
  std::uint64_t memory_peak_bytes = 0;
  std::string memory_peak_source;  // cgroup2.memory.peak | cgroup1.memory.max_usage_in_bytes | rusage.maxrss
  std::uint64_t pids_peak = 0;
  std::uint64_t oom_kills = 0;
};

struct StreamResult {
  bool captured = false;  // false: the stream was not captured (inherited, file, null)
  std::uint64_t size_bytes = 0;
  std::uint64_t captured_bytes = 0;
  bool truncated = false;
  std::string data;
};

struct Violation {
  std::string kind = "seccomp";
  std::string syscall;  // name, or "" if unknown
  int nr = -1;
  std::string arch;     // x86_64, x32, i386
};

struct RunError {
  std::string step;
  std::string errno_name;  // "ENOENT", "" if none
  std::string message;
  std::string hint;
};

struct Enforcement {
  std::string cgroup = "none";  // v2 | v1 | none
  bool userns = true;
  bool seccomp = false;
  std::vector<std::string> degraded;
};

struct RunResult {
  Status status = Status::internal_error;
  std::string message;
  std::vector<std::string> limits_hit;
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::string killed_by;  // "cell", "kernel_oom", or "" (nobody we know of)
  Usage usage;
  Limits limits;          // effective limits
  StreamResult stdout_;
  StreamResult stderr_;
  std::optional<Violation> violation;
  std::optional<RunError> error;
  Enforcement enforcement;
  std::chrono::system_clock::time_point started_at{};
  std::chrono::system_clock::time_point ended_at{};

  // cell.result/v1; indent < 0 prints one line.
  [[nodiscard]] std::string to_json(int indent = 2) const;
};

// A RunResult that reports `e` as a setup or internal error (for front ends that always answer
// with a result document).
RunResult result_from_error(const Error& e);

}  // namespace cell
