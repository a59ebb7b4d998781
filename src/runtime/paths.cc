#include "runtime/paths.hpp"

#include <unistd.h>

#include <cstdlib>

namespace cell::runtime {

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}
}  // namespace

std::string default_data_dir() {
  if (const std::string d = env("CELL_DATA"); !d.empty()) return d;
  if (::geteuid() == 0) return "/var/lib/cell";
  if (const std::string x = env("XDG_DATA_HOME"); !x.empty()) return x + "/cell";
  if (const std::string h = env("HOME"); !h.empty() && h != "/nonexistent") return h + "/.local/share/cell";
  return "/tmp/cell-data-" + std::to_string(::geteuid());
}

std::string default_runtime_dir() {
  if (const std::string d = env("CELL_RUNTIME"); !d.empty()) return d;
  if (::geteuid() == 0) return "/run/cell";
  if (const std::string x = env("XDG_RUNTIME_DIR"); !x.empty()) return x + "/cell";
  return "/tmp/cell-" + std::to_string(::geteuid());
}

}  // namespace cell::runtime
