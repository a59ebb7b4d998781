#include "integration/common.hpp"

#include <sstream>

namespace cell::test {

std::vector<MapLine> parse_map(const std::vector<std::string>& lines) {
  std::vector<MapLine> out;
  for (const std::string& l : lines) {
    std::istringstream in(l);
    MapLine m;
    if (in >> m.inside >> m.outside >> m.count) out.push_back(m);
  }
  return out;
}

std::optional<std::uint64_t> host_id(const std::vector<MapLine>& map, std::uint64_t inside) {
  for (const MapLine& m : map)
    if (inside >= m.inside && inside < m.inside + m.count) return m.outside + (inside - m.inside);
  return std::nullopt;
}

bool maps_host_root(const std::vector<MapLine>& map) {
  for (const MapLine& m : map)
    if (m.outside == 0 && m.count > 0) return true;
  return false;
}

Profile builtin(const std::string& name) {
  Result<Profile> p = load_profile(name);
  if (!p.ok()) throw std::runtime_error("load_profile " + name + ": " + p.error().what());
  return std::move(p).value();
}

}  // namespace cell::test
