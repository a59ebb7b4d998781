#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cell {

std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view trim(std::string_view s) noexcept;
bool starts_with(std::string_view s, std::string_view prefix) noexcept;
// Shell-style quoting for messages: 'a b' stays readable.
std::string quote(std::string_view s);
// Text from untrusted input (an image's tar names, JSON strings) made safe for a one-line
// message: control characters and bytes that are not UTF-8 become \n, \t, \xNN escapes, so a
// message stays one line, cannot drive a terminal and always serialises as JSON.
std::string printable(std::string_view s);
// Normalises an absolute sandbox path: collapses "//" and "/./"; fails on ".." or relative paths.
bool normalize_abs_path(std::string_view in, std::string& out, std::string& why);

}  // namespace cell
