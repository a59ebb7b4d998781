// The syscalls `cell-probe syscall NAME` knows how to try.
#pragma once

#include <string>

namespace cell_probe {

// Calls syscall NAME raw (no libc fallbacks) with harmless arguments: if a filter lets it
// through, it fails or does nothing. Returns its result (errno set), or -2 for an unknown NAME.
long try_syscall(const std::string& name);

}  // namespace cell_probe
