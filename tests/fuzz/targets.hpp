// The fuzz targets: one function per input format, called by libFuzzer (entry.cc, built with
// clang when CELL_FUZZ=ON) and by the replay test (replay_test.cc, every build), which runs
// each file of corpus/TARGET/ and regressions/TARGET/ through it. A target returns normally for
// any input; a broken invariant aborts (cell::fuzz::check), which both count as a failure.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cell::fuzz {

// Layer extraction: the input is a layer blob (tar, raw or under gzip/zstd) applied to a
// fresh directory; nothing may appear outside it.
int layer(const std::uint8_t* data, std::size_t size);
// OCI JSON: the input parsed as an image index, a manifest and a config.
int oci_json(const std::uint8_t* data, std::size_t size);
// docker-archive's manifest.json.
int docker_manifest(const std::uint8_t* data, std::size_t size);
// Profile YAML: parse_profile; a profile that parses prints (profile_to_yaml) to YAML that
// parses to the same YAML again.
int profile(const std::uint8_t* data, std::size_t size);
// Sizes and durations as the CLI reads them (parse_size, parse_duration), image names and
// seccomp actions; parsed values survive format_* and a second parse.
int units(const std::uint8_t* data, std::size_t size);

struct Target {
  const char* name;
  int (*run)(const std::uint8_t*, std::size_t);
};
inline constexpr Target kTargets[] = {
    {"layer", layer},     {"oci_json", oci_json}, {"docker_manifest", docker_manifest},
    {"profile", profile}, {"units", units},
};

// Aborts with `what` on stderr when `ok` is false: a broken invariant is a finding.
void check(bool ok, const char* what);

}  // namespace cell::fuzz
