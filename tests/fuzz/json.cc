// OCI index/manifest/config and docker-archive manifest.json parsers (src/image/oci.cc).
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz/targets.hpp"
#include "image/oci.hpp"

namespace cell::fuzz {

namespace {
void check_error(const Error& e) {
  if (e.message.empty() || e.message.find('\n') != std::string::npos)
    std::fprintf(stderr, "error message: [%s]\n", e.message.c_str());
  check(!e.message.empty(), "an error without a message");
  check(e.message.find('\n') == std::string::npos, "a multi-line error message");
}
}  // namespace

int oci_json(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto r = image::parse_index(text, "index.json"); !r.ok()) check_error(r.error());
  if (auto r = image::parse_manifest(text, "manifest"); !r.ok()) {
    check_error(r.error());
  } else {
    check(r->config.size >= 0, "a manifest's config descriptor with a negative size");
    for (const image::Descriptor& l : r->layers) check(l.size >= 0, "a layer with a negative size");
  }
  if (auto r = image::parse_config(text, "config"); !r.ok()) check_error(r.error());
  return 0;
}

int docker_manifest(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto r = image::parse_docker_manifest(text, "manifest.json"); !r.ok()) check_error(r.error());
  return 0;
}

}  // namespace cell::fuzz
