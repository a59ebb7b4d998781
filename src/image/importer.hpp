// One import: resolve the source to a config and layers (resolve.cc), unpack the layers into
// a work directory (import.cc), then publish blobs, the tree and the name (commit).
#pragma once

#include <cell/error.hpp>
#include <cell/image.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "image/archive_stage.hpp"
#include "image/blob_stream.hpp"
#include "image/layer_apply.hpp"
#include "image/oci.hpp"
#include "image/source.hpp"
#include "image/store.hpp"

namespace cell::image {

Result<ImageInfo> import_image(const Store& store, const std::string& source,
                               const ImportOptions& options);

class Importer {
 public:
  Importer(const Store& store, const ImportOptions& options, SourceSpec source);
  ~Importer();
  Importer(const Importer&) = delete;
  Importer& operator=(const Importer&) = delete;

  Result<ImageInfo> run();

 private:
  // resolve.cc: fill config_*, layers_ and name_ from the source.
  Result<void> resolve();
  Result<void> resolve_oci(const std::string& index_text);
  Result<Descriptor> pick_manifest(const Index& index, const std::string& tag, int depth);
  Result<void> resolve_docker();
  Result<void> set_config(const std::string& text, const std::string& digest);
  Result<std::string> read_blob_text(const Descriptor& d, const std::string& what, bool keep);
  Result<UniqueFd> open_blob(const std::string& digest, bool& copy);
  Result<std::string> text_member(const std::string& member);
  // import.cc
  Result<void> unpack();
  Result<void> unpack_layer(LayerApplier& applier, std::size_t i);
  Result<std::string> read_layer(BlobStream& s, LayerApplier& applier, const Descriptor& d,
                                 const std::string& label);
  Error layer_failure(BlobStream& s, const Descriptor& d, const std::string& label, Error e);
  Result<void> unpack_single_tar();
  Result<void> stage_record();
  Result<bool> publish(bool unpacked);
  Result<ImageInfo> finish_commit(bool unpacked);
  void report(const char* phase, std::size_t layer, std::uint64_t done);

  const Store& store_;
  const ImportOptions& options_;
  SourceSpec src_;
  WorkDir work_;
  std::string staging_;  // work/blobs: blobs read from the source, published at commit
  std::string tree_;     // work/tree: becomes roots/HEX
  UniqueFd layout_;      // an OCI layout directory
  StagedArchive staged_;

  std::string config_text_, config_digest_;
  ImageConfig config_;
  std::vector<Descriptor> layers_;
  std::string name_;  // NAME:TAG
  Refs refs_;         // as publish() wrote them
  std::vector<std::string> warnings_;
  std::uint64_t entries_ = 0, size_bytes_ = 0;
  std::uint64_t bytes_before_ = 0, bytes_total_ = 0;
};

}  // namespace cell::image
