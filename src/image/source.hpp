// What `cell image import` reads: parsing SOURCE and image names.
#pragma once

#include <cell/error.hpp>

#include <string>

namespace cell::image {

struct SourceSpec {
  enum class Kind { oci_dir, oci_archive, docker_archive, rootfs_tar, dir };
  Kind kind = Kind::dir;
  std::string path;  // the directory or file
  std::string ref;   // TAG for OCI, NAME:TAG or @N for docker-archive; empty when not given
  std::string text;  // as given, for the record and messages
};

// oci:DIR[:TAG] | oci-archive:FILE[:TAG] | docker-archive:FILE[:REF|:@N] | rootfs-tar:FILE | DIR.
// A DIR holding an `oci-layout` file is read as an OCI layout. The path part is the longest
// prefix that exists, so paths with ':' work.
Result<SourceSpec> parse_source(const std::string& source);

// A default image name from a file or directory name: "py-3.11.tar.gz" -> "py-3.11".
std::string name_from_path(const std::string& path);

}  // namespace cell::image
