// Building test inputs at test time: tarballs (libarchive's writer, so hostile entries are
// easy to make), OCI image layouts, and snapshots of trees to compare.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cell::test {

struct TarEntry {
  enum class Type { file, dir, symlink, hardlink, fifo, chr, blk };
  Type type = Type::file;
  std::string path;
  std::string data;  // file contents
  std::string link;  // symlink or hardlink target
  unsigned mode = 0644;
  unsigned uid = 0, gid = 0;
  unsigned major = 0, minor = 0;
  std::int64_t mtime = 1700000000;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

TarEntry file(std::string path, std::string data, unsigned mode = 0644);
TarEntry dir(std::string path, unsigned mode = 0755);
TarEntry symlink(std::string path, std::string target);
TarEntry hardlink(std::string path, std::string target);
TarEntry whiteout(const std::string& dir, const std::string& name);  // dir/.wh.name
TarEntry opaque(const std::string& dir);                             // dir/.wh..wh..opq

enum class Compression { none, gzip, zstd };
std::string make_tar(const std::vector<TarEntry>& entries, Compression c = Compression::none);
std::string layer_media_type(Compression c);
std::string sha256_of(const std::string& data);  // "sha256:<hex>"
// A layer blob without its gzip or zstd compression (as is when it has none or is broken).
std::string decompress(const std::string& data);
// The digest of the decompressed layer: what a config's rootfs.diff_ids lists.
std::string diff_id_of(const std::string& layer);

// An OCI image layout being written.
class OciLayout {
 public:
  explicit OciLayout(std::string dir);
  struct Layer {
    std::string data;
    std::string media_type;
  };
  // Writes blobs/sha256/HEX; returns the digest.
  std::string blob(const std::string& data) const;
  // Writes the layers, a config (diff_ids of the decompressed layers, `config` merged in) and
  // a manifest; returns the manifest's descriptor for index.json.
  nlohmann::json image(const std::vector<Layer>& layers, const std::string& tag,
                       const nlohmann::json& config = nlohmann::json::object()) const;
  void write_index(const std::vector<nlohmann::json>& manifests) const;
  [[nodiscard]] const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// A layout with one image of the given layers (gzip), tagged `tag`.
void write_simple_layout(const std::string& dir, const std::vector<std::vector<TarEntry>>& layers,
                         const std::string& tag = "latest");

// The directories and files below `dir` as tar entries named relative to it, sorted (an
// oci-archive of a layout: make_tar(entries_of(layout))).
std::vector<TarEntry> entries_of(const std::string& dir);
void write_bytes(const std::string& path, const std::string& data);

// path -> "type mode size sha256/target" for every entry below `root` (not following links).
std::map<std::string, std::string> snapshot(const std::string& root);
// The names below `dir` (recursively), for "nothing left behind" checks.
std::vector<std::string> list_tree(const std::string& dir);

// Runs a shell command; returns its exit status (-1 if it could not run).
int sh(const std::string& command);
bool have_tool(const std::string& name);

}  // namespace cell::test
