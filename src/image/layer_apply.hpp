// Applies layer tarballs, bottom first, onto one directory: regular files, directories,
// symlinks, hardlinks, FIFOs and (as root) device nodes, with the OCI whiteouts `.wh.NAME` and
// opaque directories `.wh..wh..opq`. Every path is resolved inside the root (safe_fs.hpp).
#pragma once

#include <cell/error.hpp>
#include <cell/image.hpp>

#include <sys/types.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "image/safe_fs.hpp"

struct archive;
struct archive_entry;

namespace cell::image {

class LayerApplier {
 public:
  // `privileged`: keep ownership and create device nodes (the caller is root on the host).
  LayerApplier(const RootDir& root, const ImageLimits& limits, bool privileged);

  // apply() stops with "import interrupted" between entries once `*flag` is set.
  void cancel_on(const std::atomic<bool>* flag) { cancel_ = flag; }
  // Reads every entry of `a` and applies it; `label` names the layer in errors.
  Result<void> apply(struct archive* a, const std::string& label);
  // Creates the mount points runs need (/proc, /dev, /sys, /tmp, /workspace) and sets the
  // directories' final modes, owners and mtimes (deferred so children can still be written).
  Result<void> finish();

  [[nodiscard]] std::uint64_t entries() const { return entries_; }
  [[nodiscard]] std::vector<std::string> warnings() const;

 private:
  struct Meta {
    unsigned mode = 0755;
    uid_t uid = 0;
    gid_t gid = 0;
    struct timespec mtime {};
  };

  Result<void> apply_entry(struct archive* a, struct archive_entry* e);
  Result<void> whiteout(const Components& parent, const std::string& name);
  Result<void> opaque(const Components& dir);
  Result<void> clear_lower(int dir_fd, const std::string& path, int depth);
  Result<void> make_node(struct archive* a, struct archive_entry* e, const Components& c,
                         int parent_fd);
  Result<void> write_file(struct archive* a, struct archive_entry* e, int parent_fd,
                          const std::string& name, const std::string& path);
  Result<void> make_hardlink(struct archive_entry* e, int parent_fd, const std::string& name,
                             const std::string& path);
  // Removes what is at parent_fd/name unless both are directories; true if a directory stays.
  Result<bool> replace(int parent_fd, const std::string& name, const std::string& path, bool dir);
  void set_xattrs(int fd, struct archive_entry* e);
  void set_owner(int parent_fd, const std::string& name, const Meta& m);
  void note_in_layer(const Components& c);
  void forget_dirs(const std::string& path);

  const RootDir& root_;
  ImageLimits limits_;
  bool privileged_;
  const std::atomic<bool>* cancel_ = nullptr;
  std::uint64_t entries_ = 0;
  std::uint64_t bytes_ = 0;
  bool stream_ended_ = false;  // a layer without its final padding (see write_file)
  // Paths this layer wrote (and their parents): whiteouts hide only what lower layers made.
  std::unordered_set<std::string> in_layer_;
  // Directories' final metadata, applied by finish() deepest first.
  std::map<std::string, Meta> dirs_;
  std::vector<std::string> devices_skipped_;
  std::uint64_t devices_skipped_count_ = 0;
  std::set<std::string> xattrs_skipped_;
  std::uint64_t owners_failed_ = 0;
  std::uint64_t other_skipped_ = 0;
};

}  // namespace cell::image
