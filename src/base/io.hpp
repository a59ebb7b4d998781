// File and fd helpers for parent-side code. Errors name the path.
#pragma once

#include <cell/error.hpp>

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace cell {

// Retries EINTR; returns bytes read (short only at EOF) or -1.
ssize_t read_full(int fd, void* buf, std::size_t len) noexcept;
// Retries EINTR and short writes; returns 0 or -1.
int write_full(int fd, const void* buf, std::size_t len) noexcept;

Result<std::string> read_file(const std::string& path, std::size_t max_bytes = 64 << 20);
// Writes with open(O_WRONLY|O_TRUNC) (no O_CREAT): for /proc and cgroup files.
Result<void> write_existing_file(const std::string& path, std::string_view data);
// Creates or replaces `path` atomically (temp file + rename), with `mode`.
Result<void> write_file_atomic(const std::string& path, std::string_view data, unsigned mode = 0644);
// mkdir -p with `mode` for the directories it creates.
Result<void> make_dirs(const std::string& path, unsigned mode = 0755);

bool path_exists(const std::string& path) noexcept;
bool is_directory(const std::string& path) noexcept;

}  // namespace cell
