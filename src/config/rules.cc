// Rules that relate several fields of a profile.
#include <cell/units.hpp>

#include "config/reader.hpp"

namespace cell::config {
namespace {

Pos where(const Diagnostics& diag, const std::string& path) {
  auto it = diag.positions.find(path);
  return it == diag.positions.end() ? Pos{} : it->second;
}

// A wall-clock limit below the CPU limit makes the CPU limit unreachable for a single thread:
// almost always two values swapped.
void check_times(const Limits& l, Diagnostics& diag) {
  if (!l.cpu_time || !l.wall_time || *l.wall_time >= *l.cpu_time) return;
  diag.add(where(diag, "limits.wall_time"), "limits.wall_time",
           format_duration(*l.wall_time) + " is less than limits.cpu_time (" +
               format_duration(*l.cpu_time) + "); the wall clock must allow at least the CPU time");
}

}  // namespace

void check_profile(const Profile& p, Diagnostics& diag) {
  check_times(p.limits, diag);
}

}  // namespace cell::config
