// Turns what went wrong during setup into one line that names the step, the object and a hint.
#pragma once

#include <cell/error.hpp>
#include <cell/result.hpp>

#include "child/steps.hpp"
#include "plan/plan.hpp"

namespace cell::launch {

// `item` is the plan table index the step reported (-1 if none).
Error setup_error(child::Step step, int err, int item, const plan::Plan* plan);
// The RunResult.error form of an Error.
RunError to_run_error(const Error& e);
// Host-aware hint for user-namespace problems (sysctl, AppArmor), or "".
std::string userns_hint(int err);

}  // namespace cell::launch
