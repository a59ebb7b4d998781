// Parsed built-in profiles kept on disk between `cell run` invocations: yaml-cpp takes about
// 0.3-0.5 ms per parse of a built-in profile, reading a small JSON file a tenth of that.
//
// An entry is named by sha256 of the profile's YAML text, its name and this build of cell
// (seccomp/cache_file.hpp: cache_environment), so it always reflects exactly what parsing the
// text would give; files are trusted only when the caller's own uid wrote them.
#pragma once

#include <cell/profile.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace cell::config {

// The built-in profile `name`, read from `dir` when it holds a valid entry, else parsed and
// then stored there (best effort). nullopt when `name` is not a built-in profile, when it does
// not parse, or when caching is off (no build-id): the caller loads it the usual way, which
// also reports the problem.
std::optional<Profile> cached_builtin_profile(std::string_view name, const std::string& dir);

// The cache's encoding: every field of a Profile, as JSON; decode gives nullopt on anything
// that is not exactly such a document.
std::string encode_profile(const Profile& p);
std::optional<Profile> decode_profile(std::string_view json);

}  // namespace cell::config
