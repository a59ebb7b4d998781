#pragma once

#include <cell/error.hpp>

#include "plan/mount_table.hpp"
#include "plan/plan.hpp"

namespace cell::plan {

// Appends the whole filesystem layout of the sandbox to `t`, in mount order.
Result<void> add_root_layout(MountTable& t, const Request& req, Plan& plan);

}  // namespace cell::plan
