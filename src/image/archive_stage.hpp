// oci-archive and docker-archive files: one pass over the outer tarball moves every blob into
// the import's staging directory, named by digest (checking digest-named members against
// their names), and keeps the small JSON members in memory; the image is then read like an
// OCI layout whose blobs are local. Only members an image can refer to are staged:
// oci-layout, index.json, manifest.json and other top-level *.json (kept as text),
// blobs/ALG/HEX, DIR/layer.tar and top-level *.tar (staged as blobs); others are skipped.
#pragma once

#include <cell/error.hpp>
#include <cell/image.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace cell::image {

struct StagedArchive {
  std::map<std::string, std::string> texts;    // member path -> content (JSON, oci-layout)
  std::map<std::string, std::string> blobs;    // member path -> digest, now staged
  std::map<std::string, std::string> links;    // member path -> the member it links to
  std::map<std::string, std::uint64_t> sizes;  // digest -> bytes of the staged blob

  // The member `path` names after following links; empty if there is none.
  [[nodiscard]] std::string resolve(const std::string& path) const;
};

// `progress(done, total)` reports bytes of the archive file read. Blobs land in
// `staging`/HEX. Fails with "import interrupted" once `*cancel` is set (checked between members
// and chunks).
Result<StagedArchive> stage_archive(
    const std::string& file, const std::string& what, const std::string& staging,
    const ImageLimits& limits, const std::atomic<bool>* cancel,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress);

// Renames the file `tmp` to `dir`/HEX of `digest`, read-only.
Result<void> move_blob(const std::string& tmp, const std::string& dir, const std::string& digest);

}  // namespace cell::image
