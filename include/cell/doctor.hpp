// What this host allows: the facts `cell doctor` prints.
#pragma once

#include <string>
#include <vector>

namespace cell {

struct DoctorCheck {
  std::string name;    // "userns (root)", "cgroup", "seccomp", ...
  bool ok = false;
  bool required = false;  // cell run cannot work without it
  std::string detail;  // what was found
  std::string fix;     // how to make it work, empty when ok
};

struct DoctorReport {
  std::vector<DoctorCheck> checks;
  [[nodiscard]] bool can_run() const;  // every required check passed
};

// Probes the host for real (forks short-lived children to try namespaces and seccomp).
DoctorReport run_doctor(const std::string& runtime_dir = "");

}  // namespace cell
