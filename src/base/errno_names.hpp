#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cell {

// "ENOENT" for ENOENT; "E<n>" for numbers it does not know.
std::string errno_name(int err);
// strerror text, thread-safe.
std::string errno_text(int err);
// "No such file or directory (ENOENT)"
std::string errno_describe(int err);
// "EPERM" -> EPERM
std::optional<int> errno_from_name(std::string_view name) noexcept;

}  // namespace cell
