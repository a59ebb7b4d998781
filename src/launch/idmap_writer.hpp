#pragma once

#include <cell/error.hpp>

#include <sys/types.h>

#include "plan/plan.hpp"

namespace cell::launch {

// Writes /proc/PID/{setgroups,gid_map,uid_map}, or runs newgidmap/newuidmap.
// Errors carry the step (write_setgroups, write_gid_map, write_uid_map) and a hint.
Result<void> write_id_maps(pid_t pid, const plan::IdMap& map);

}  // namespace cell::launch
