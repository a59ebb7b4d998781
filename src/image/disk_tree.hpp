// Whole directory trees on the host: copying an image out, packing a directory into a layer
// tarball, and measuring a tree. libarchive's disk reader walks without following symlinks.
#pragma once

#include <cell/error.hpp>

#include <atomic>
#include <cstdint>
#include <string>

namespace cell::image {

// Copies `src` into the existing empty directory `dest`, keeping modes, mtimes, xattrs,
// symlinks and hardlinks, and owners and device nodes when `privileged`.
Result<void> copy_tree(const std::string& src, const std::string& dest, bool privileged);

// Writes `src` as an uncompressed pax tarball to `out_fd` with member names relative to it
// ("./", "./etc", ...). Stops with "import interrupted" between entries once `*cancel` is set.
Result<void> tar_directory(const std::string& src, int out_fd,
                           const std::atomic<bool>* cancel = nullptr);

// Bytes of regular files below the directory `dir_fd` (hardlinks counted once).
std::uint64_t tree_bytes(int dir_fd);

}  // namespace cell::image
