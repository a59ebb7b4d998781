// --result FILE: checked before the program runs (nothing runs when the result could not be
// written), written after it.
#pragma once

#include <cell/error.hpp>

#include <string>

namespace cell::cli {

// A regular file (or none yet) must be creatable next to `path`, where the atomic write puts its
// temporary file; a device or a fifo (/dev/stdout, /dev/fd/3) must be writable; a directory is
// an error. Errors name the flag and the path.
Result<void> check_result_file(const std::string& path);
// Replaces a regular file atomically; writes a device or fifo in place.
Result<void> write_result_file(const std::string& path, const std::string& json);

}  // namespace cell::cli
