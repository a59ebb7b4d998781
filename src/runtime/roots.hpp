// Where a run's root comes from: the host view, a directory, or an imported image.
#pragma once

#include <cell/error.hpp>
#include <cell/runtime.hpp>

#include "plan/plan.hpp"

namespace cell::runtime {

Result<plan::RootSource> resolve_root(const RunSpec& spec, const std::string& data_dir);

}  // namespace cell::runtime
