// Profile loading internals shared with the runtime (the public API is in cell/profile.hpp).
#pragma once

#include <cell/profile.hpp>

#include <string>
#include <string_view>

namespace cell::config {

// The YAML text of a built-in profile (compiled into the library from profiles/*.yaml),
// or nullptr.
const char* builtin_profile_text(std::string_view name) noexcept;

}  // namespace cell::config
