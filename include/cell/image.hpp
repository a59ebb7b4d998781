// Images: OCI layouts and archives, docker-archive tarballs, rootfs tarballs and directories,
// imported into a content-addressed store under the data directory and flattened into one
// read-only tree per image that runs bind as their root.
#pragma once

#include <cell/error.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cell {

// Guards against decompression bombs and absurd inputs. Every limit applies to one import.
struct ImageLimits {
  std::uint64_t max_unpacked_bytes = 32ull << 30;  // regular-file bytes over all layers
  std::uint64_t max_entries = 2'000'000;           // tar entries over all layers
  std::uint64_t max_blob_bytes = 16ull << 30;      // one compressed blob or archive member
  std::uint64_t max_staged_bytes = 32ull << 30;    // all members staged from an archive file
  std::size_t max_path_bytes = 4096;               // one entry's path (and link target)
  std::size_t max_json_bytes = 4 << 20;            // index.json, a manifest or a config
  std::size_t max_layers = 256;
};

struct ImportProgress {
  // "reading archive", "packing directory", "layer", "finishing", "publishing"
  std::string phase;
  std::size_t layer = 0;          // 1-based while applying layers
  std::size_t layers = 0;         // how many the image has (0 until known)
  std::uint64_t bytes_done = 0;   // compressed bytes read so far
  std::uint64_t bytes_total = 0;  // sum of the blob sizes (0 until known)
};

struct ImportOptions {
  std::string name;  // NAME[:TAG] to give the image; empty: taken from the source
  ImageLimits limits;
  // Called from the importing thread as bytes are read; must be cheap (throttle drawing).
  std::function<void(const ImportProgress&)> progress;
  // When set and *cancel becomes true (e.g. from a signal handler: std::atomic<bool> is
  // lock-free), the import stops at the next archive member, tar entry or blob chunk with an
  // "import interrupted" error and removes its work directory. Checked until the image is
  // published; an import that got that far completes.
  const std::atomic<bool>* cancel = nullptr;
};

struct ImageLayer {
  std::string digest;      // sha256:... of the blob as stored
  std::string media_type;  // OCI or docker layer media type
  std::uint64_t size = 0;  // blob bytes
};

struct ImageInfo {
  std::string id;                  // sha256:... of the image config
  std::vector<std::string> names;  // NAME:TAG references pointing at it
  std::string source;              // what was imported ("oci:/srv/py:3.11")
  std::string created;             // the config's creation time (RFC 3339), may be empty
  std::string imported_at;         // RFC 3339, UTC
  std::string os, architecture, variant;
  std::vector<std::string> env;         // config Env ("KEY=VALUE"), applied to runs
  std::vector<std::string> entrypoint;  // config Entrypoint and Cmd (informational)
  std::vector<std::string> cmd;
  std::string workdir, user;                  // config WorkingDir and User (informational)
  std::map<std::string, std::string> labels;  // config Labels (language images: cell.run, ...)
  std::vector<ImageLayer> layers;             // bottom first
  std::uint64_t size_bytes = 0;               // bytes of regular files in the flattened tree
  std::uint64_t entries = 0;                  // tar entries applied
  std::vector<std::string> warnings;          // what the import could not keep (device nodes...)
  std::string rootfs;                         // host path of the flattened, read-only tree
  std::string imported_as;  // import() results only: the NAME:TAG this import gave

  [[nodiscard]] std::string to_json(int indent = 2) const;
};

// Parses NAME[:TAG] (TAG defaults to "latest"); false with `why` on a malformed reference.
bool parse_image_name(std::string_view ref, std::string& name, std::string& tag, std::string& why);

// Holds a shared lock on an image while a run uses it: `cell image rm` refuses meanwhile.
class ImageLease {
 public:
  ImageLease() = default;
  ImageLease(ImageLease&& other) noexcept;
  ImageLease& operator=(ImageLease&& other) noexcept;
  ImageLease(const ImageLease&) = delete;
  ImageLease& operator=(const ImageLease&) = delete;
  ~ImageLease();

  [[nodiscard]] const ImageInfo& image() const { return info_; }

 private:
  friend class ImageStore;
  ImageInfo info_;
  int fd_ = -1;
};

// The image store under `data_dir`/images. Every method is safe to call from several threads
// and processes at once (file locks); imports write to a temporary directory and publish with
// one rename, so a failed or killed import leaves nothing visible.
class ImageStore {
 public:
  static Result<ImageStore> open(const std::string& data_dir);

  // SOURCE: oci:DIR[:TAG] | oci-archive:FILE[:TAG] | docker-archive:FILE[:REF|:@N] |
  // rootfs-tar:FILE | DIR.
  Result<ImageInfo> import(const std::string& source, const ImportOptions& options = {}) const;
  Result<std::vector<ImageInfo>> list() const;
  // REF: NAME[:TAG], sha256:HEX (or a unique prefix of at least 4 hex digits).
  Result<ImageInfo> inspect(const std::string& ref) const;
  // Removes the name REF; the image goes when no name is left (or REF is its id). Refuses
  // while a run holds a lease on it.
  Result<std::vector<std::string>> remove(const std::string& ref) const;
  // Copies the flattened tree into DIR (created; must be missing or empty).
  Result<void> export_rootfs(const std::string& ref, const std::string& dir) const;
  // Removes leftovers of interrupted imports and blobs no image uses.
  Result<void> gc() const;
  // Resolves REF and holds it against removal until the lease is destroyed.
  Result<ImageLease> acquire(const std::string& ref) const;

  [[nodiscard]] const std::string& root() const { return root_; }

 private:
  explicit ImageStore(std::string root) : root_(std::move(root)) {}
  std::string root_;  // data_dir + "/images"
};

}  // namespace cell
