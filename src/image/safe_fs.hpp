// Filesystem primitives that stay inside a directory: every lookup below an image root goes
// through openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so "..", absolute symlinks and
// symlinks pointing out are resolved as if the root were "/" and can never reach the host.
#pragma once

#include <cell/error.hpp>

#include <linux/openat2.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.hpp"

namespace cell::image {

constexpr std::uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
constexpr std::uint64_t kInRootNoSymlinks = kInRoot | RESOLVE_NO_SYMLINKS;

using Components = std::vector<std::string>;

// openat2(2) relative to `root_fd`; `rel` empty means the root itself. -1 with errno on failure.
int open_in_root(int root_fd, const std::string& rel, int flags, std::uint64_t resolve,
                 unsigned mode = 0) noexcept;

// Splits a tar member path into components, dropping "." and empty ones (so "./a//b/" is
// {"a","b"} and "./" is {}). Refuses absolute paths and ".." components.
bool split_member_path(std::string_view path, Components& out, std::string& why);
// Appends a symlink target's components to `base` (cleared first for an absolute target),
// clamping ".." at the root like RESOLVE_IN_ROOT.
Components resolve_components(Components base, std::string_view target);
// The first `n` components joined with '/' (all when n is npos).
std::string join_components(const Components& c, std::size_t n = std::string::npos);

// An image root being written: its fd and real host path (to resolve relative symlinks).
struct RootDir {
  UniqueFd fd;       // O_PATH | O_DIRECTORY
  std::string real;  // canonical host path
  static Result<RootDir> open(const std::string& path);
};

// Opens (O_PATH) the directory at the first `n` components, resolved inside the root, creating
// missing directories with mode 0755. A dangling symlink on the way is followed the way the
// kernel would inside a chroot: its target is created inside the root.
Result<UniqueFd> ensure_dir(const RootDir& root, const Components& comps, std::size_t n);

// mkdirat followed by fchmodat, so the process umask does not change the mode.
int make_dir_at(int dir_fd, const std::string& name, unsigned mode) noexcept;

// Removes dir_fd/name, recursively when it is a directory; never follows symlinks; a missing
// name is not an error. Directories without owner permissions are opened up first.
Result<void> remove_at(int dir_fd, const std::string& name);
// The names in a directory opened for reading (not "." and ".."), in readdir order.
Result<void> list_names(int dir_fd, std::vector<std::string>& names);

// remove_at on an absolute host path.
Result<void> remove_tree(const std::string& path);

}  // namespace cell::image
