// OCI image-spec and Docker v2 JSON documents: index, manifest, config, and the media types
// the importer knows. Parsing checks what the importer relies on and names the document.
#pragma once

#include <cell/error.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cell::image {

enum class MediaKind { index, manifest, config, layer, unknown };
MediaKind media_kind(std::string_view media_type);

struct Platform {
  std::string os, architecture, variant;
  [[nodiscard]] std::string text() const;  // "linux/arm/v7"
};
// The platform images are picked for: linux and this machine's architecture in OCI terms.
Platform host_platform();
bool platform_matches(const Platform& want, const Platform& have);

struct Descriptor {
  std::string media_type;
  std::string digest;
  std::int64_t size = -1;
  std::map<std::string, std::string> annotations;
  bool has_platform = false;
  Platform platform;
  [[nodiscard]] std::string ref_name() const;  // org.opencontainers.image.ref.name
};

struct Index {
  std::vector<Descriptor> manifests;
};

struct Manifest {
  Descriptor config;
  std::vector<Descriptor> layers;
};

struct ImageConfig {
  std::string created;
  Platform platform;
  std::vector<std::string> env, entrypoint, cmd;
  std::string workdir, user;
  std::map<std::string, std::string> labels;
  std::vector<std::string> diff_ids;  // digests of the uncompressed layer tars
  bool has_diff_ids = false;
};

// `what` names the document in errors ("index.json", "manifest sha256:...").
Result<Index> parse_index(std::string_view text, const std::string& what);
Result<Manifest> parse_manifest(std::string_view text, const std::string& what);
Result<ImageConfig> parse_config(std::string_view text, const std::string& what);

// docker-archive's manifest.json: one entry per image.
struct DockerEntry {
  std::string config;                  // member path of the config JSON
  std::vector<std::string> repo_tags;  // "name:tag"
  std::vector<std::string> layers;     // member paths, bottom first
};
Result<std::vector<DockerEntry>> parse_docker_manifest(std::string_view text,
                                                       const std::string& what);

}  // namespace cell::image
