// Shared bits of the integration tests: they run the probe in real sandboxes (userns, and
// root when the binary runs as root) and assert what it saw.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/requirements.hpp"
#include "support/sandbox.hpp"

namespace cell::test {

// One uid_map/gid_map line, "INSIDE OUTSIDE COUNT".
struct MapLine {
  std::uint64_t inside = 0, outside = 0, count = 0;
};
std::vector<MapLine> parse_map(const std::vector<std::string>& lines);
// The host id that sandbox id `inside` maps to, if mapped.
std::optional<std::uint64_t> host_id(const std::vector<MapLine>& map, std::uint64_t inside);
// Whether any line maps something onto host id 0.
bool maps_host_root(const std::vector<MapLine>& map);

// A built-in profile, loaded (for tests that change one field through profile_value).
Profile builtin(const std::string& name);

template <class C>
std::set<std::string> as_set(const C& c) {
  return std::set<std::string>(c.begin(), c.end());
}

inline bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// True if some entry of `v` contains `needle`.
inline bool any_mentions(const std::vector<std::string>& v, const std::string& needle) {
  return std::any_of(v.begin(), v.end(),
                     [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

}  // namespace cell::test
