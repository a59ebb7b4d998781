// Applies a RunSpec's overrides to its profile and checks the result.
#pragma once

#include <cell/error.hpp>
#include <cell/profile.hpp>
#include <cell/runtime.hpp>

namespace cell::runtime {

// Loads the spec's profile (or takes profile_value) and applies every override in the spec:
// user, hostname, network, env, mounts, limits, seccomp policy.
Result<Profile> effective_profile(const RunSpec& spec);

}  // namespace cell::runtime
