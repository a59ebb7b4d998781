// The on-disk image store under DATA/images (docs/images.md has the full picture):
//   lock                    flock: exclusive while refs or image directories change
//   refs.json               {"refs": {"NAME:TAG": "sha256:..."}}
//   blobs/sha256/HEX        content-addressed blobs (layers, configs, manifests), read-only
//   roots/HEX/image.json    the image record (HEX: the config digest, i.e. the image id)
//   roots/HEX/rootfs/       the flattened tree runs bind read-only as their root
//   roots/HEX/lock          held shared by runs, exclusively by `image rm`
//   tmp/NAME/ + NAME.lock   work of imports and removals in progress; stale ones are cleaned
#pragma once

#include <cell/error.hpp>
#include <cell/image.hpp>

#include <map>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"

namespace cell::image {

using Refs = std::map<std::string, std::string>;  // "name:tag" -> "sha256:..."

// A directory under tmp/ owned by one operation; its lock file marks it alive.
struct WorkDir {
  std::string path;
  UniqueFd lock;
};

class Store {
 public:
  explicit Store(std::string root) : root_(std::move(root)) {}

  Result<void> init() const;
  // flock on DATA/images/lock; released when the fd closes.
  Result<UniqueFd> lock(bool exclusive) const;

  [[nodiscard]] const std::string& root() const { return root_; }
  [[nodiscard]] std::string blob_path(const std::string& digest) const;
  [[nodiscard]] std::string image_dir(const std::string& id) const;
  [[nodiscard]] bool has_blob(const std::string& digest) const;
  [[nodiscard]] bool has_image(const std::string& id) const;

  Result<Refs> read_refs() const;
  Result<void> write_refs(const Refs& refs) const;  // under the exclusive lock
  // The record of image `id`, with its names from `refs` and its rootfs path.
  Result<ImageInfo> read_record(const std::string& id, const Refs& refs) const;
  [[nodiscard]] std::vector<std::string> image_ids() const;
  // NAME[:TAG], sha256:HEX or a unique id prefix (at least 4 hex digits) -> image id.
  Result<std::string> resolve(const std::string& ref, const Refs& refs) const;

  // Under the exclusive lock: a fresh tmp/PREFIX-XXXXXX directory whose lock is held.
  Result<WorkDir> make_work_dir(const std::string& prefix) const;
  // Under the exclusive lock: removes work directories nobody holds (crashed imports).
  Result<void> clean_stale() const;
  // Under the exclusive lock: drops names whose image is missing, deletes blobs no image uses
  // (skipped while an import runs: its blobs are not referenced yet) and detaches unnamed images no
  // run holds; the caller deletes the returned work directories after unlocking.
  Result<std::vector<WorkDir>> collect_garbage() const;
  // Under the exclusive lock: moves image `id` out of roots/ unless a run holds it; the
  // returned work directory is then deleted outside the lock.
  Result<WorkDir> detach_image(const std::string& id, const std::string& display) const;

 private:
  [[nodiscard]] bool imports_running() const;
  std::string root_;
};

// The image record's JSON (image.json); `names` and `rootfs` are not stored.
std::string record_to_json(const ImageInfo& info);
Result<ImageInfo> record_from_json(const std::string& text, const std::string& what);

// UTC now as RFC 3339 with seconds.
std::string utc_now();

}  // namespace cell::image
