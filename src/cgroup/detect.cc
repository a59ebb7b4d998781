#include "cgroup/cgroup.hpp"

namespace cell::cgroup {

// Replaced by the v2/v1 drivers (src/cgroup); until then every run degrades visibly.
Result<std::unique_ptr<Driver>> detect(const DetectOptions&) {
  return Error::make(ErrorKind::unsupported, "this build has no cgroup driver");
}

}  // namespace cell::cgroup
