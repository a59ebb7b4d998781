// Opens what the payload gets as 0, 1, 2: the caller's fds, /dev/null, files, capture pipes.
#pragma once

#include <cell/error.hpp>
#include <cell/runtime.hpp>

#include "base/unique_fd.hpp"
#include "launch/launcher.hpp"

namespace cell::runtime {

struct PreparedStdio {
  launch::StdioFds child;     // what the payload gets
  UniqueFd child_owned[3];    // our copies of the child's ends: close right after launch
  UniqueFd capture_read[3];   // read ends of capture pipes (1 and 2 only)
};

Result<void> prepare_stdio(const RunSpec& spec, PreparedStdio& out);

}  // namespace cell::runtime
