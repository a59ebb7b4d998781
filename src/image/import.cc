// Unpacking and publishing: layers are applied in a private work directory under tmp/, and
// only a complete tree is renamed into roots/, so a failed or killed import leaves nothing.
#include <archive.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/errno_names.hpp"
#include "base/io.hpp"
#include "base/strings.hpp"
#include "image/blob_stream.hpp"
#include "image/cancel.hpp"
#include "image/digest.hpp"
#include "image/disk_tree.hpp"
#include "image/importer.hpp"
#include "image/safe_fs.hpp"

namespace cell::image {

namespace {

Error bad(const std::string& m) {
  return Error::make(ErrorKind::io, m);
}

std::string layer_type_for(int filter) {
  switch (filter) {
    case ARCHIVE_FILTER_GZIP:
      return "application/vnd.oci.image.layer.v1.tar+gzip";
    case ARCHIVE_FILTER_ZSTD:
      return "application/vnd.oci.image.layer.v1.tar+zstd";
    default:
      return "application/vnd.oci.image.layer.v1.tar";
  }
}

std::string docker_layer_type(int filter) {
  switch (filter) {
    case ARCHIVE_FILTER_GZIP:
      return "application/vnd.docker.image.rootfs.diff.tar.gzip";
    case ARCHIVE_FILTER_ZSTD:
      return "application/vnd.docker.image.rootfs.diff.tar.zstd";
    default:
      return "application/vnd.docker.image.rootfs.diff.tar";
  }
}

// The config a rootfs tarball or directory gets: it makes the image id content-addressed.
std::string synthesized_config(const std::string& layer_digest, const std::string& source_kind) {
  const nlohmann::json j = {
      {"architecture", host_platform().architecture},
      {"os", "linux"},
      {"config", nlohmann::json::object()},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {layer_digest}}}},
      {"history", {{{"created_by", "cell image import " + source_kind}}}},
  };
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Importer::Importer(const Store& store, const ImportOptions& options, SourceSpec source)
    : store_(store), options_(options), src_(std::move(source)) {}

Importer::~Importer() {
  if (work_.path.empty()) return;
  (void)remove_tree(work_.path);
  ::unlink((work_.path + ".lock").c_str());
}

void Importer::report(const char* phase, std::size_t layer, std::uint64_t done) {
  if (!options_.progress) return;
  ImportProgress p;
  p.phase = phase;
  p.layer = layer;
  p.layers = layers_.size();
  p.bytes_done = done;
  p.bytes_total = bytes_total_;
  options_.progress(p);
}

Result<ImageInfo> Importer::run() {
  CELL_TRY(store_.init());
  {
    Result<UniqueFd> lock = store_.lock(true);
    if (!lock.ok()) return lock.error();
    CELL_TRY(store_.clean_stale());  // work of crashed imports
    Result<WorkDir> w = store_.make_work_dir("import");
    if (!w.ok()) return w.error();
    work_ = std::move(*w);
  }
  staging_ = work_.path + "/blobs";
  tree_ = work_.path + "/tree";
  if (::mkdir(staging_.c_str(), 0700) != 0)
    return bad("mkdir " + staging_ + ": " + errno_describe(errno));
  if (!options_.name.empty()) {
    std::string n, t, why;
    if (!parse_image_name(options_.name, n, t, why))
      return Error::make(ErrorKind::usage, "--name: " + why);
  }
  CELL_TRY(resolve());
  if (!options_.name.empty()) {
    std::string n, t, why;
    (void)parse_image_name(options_.name, n, t, why);
    name_ = n + ":" + t;
  }
  // Already imported (same config digest): only the name changes. publish() decides again
  // under the store lock: if the image went meanwhile (`rm`), this import unpacks after all.
  for (;;) {
    if (!path_exists(tree_) && (config_digest_.empty() || !store_.has_image(config_digest_)))
      CELL_TRY(unpack());
    if (cancelled(options_.cancel)) return interrupted();
    const bool unpacked = path_exists(tree_);
    if (unpacked) CELL_TRY(stage_record());
    report("publishing", layers_.size(), bytes_total_);
    Result<bool> published = publish(unpacked);
    if (!published.ok()) return published.error();
    if (*published) return finish_commit(unpacked);
  }
}

Result<void> Importer::unpack() {
  if (make_dir_at(AT_FDCWD, tree_, 0755) != 0 ||
      make_dir_at(AT_FDCWD, tree_ + "/rootfs", 0755) != 0)
    return bad("mkdir " + tree_ + ": " + errno_describe(errno));
  if (src_.kind == SourceSpec::Kind::rootfs_tar || src_.kind == SourceSpec::Kind::dir)
    return unpack_single_tar();
  Result<RootDir> root = RootDir::open(tree_ + "/rootfs");
  if (!root.ok()) return root.error();
  LayerApplier applier(*root, options_.limits, ::geteuid() == 0);
  bytes_total_ = 0;
  bytes_before_ = 0;
  for (const Descriptor& d : layers_)
    bytes_total_ += d.size > 0 ? static_cast<std::uint64_t>(d.size) : 0;
  for (std::size_t i = 0; i < layers_.size(); ++i) CELL_TRY(unpack_layer(applier, i));
  report("finishing", layers_.size(), bytes_total_);
  CELL_TRY(applier.finish());
  entries_ = applier.entries();
  for (std::string& w : applier.warnings()) warnings_.push_back(std::move(w));
  size_bytes_ = tree_bytes(root->fd.get());
  return {};
}

// Why reading layer `d` failed: a read error or the cancel flag, else a digest mismatch (a
// corrupted blob often breaks decompression first; its digest is the better news), else the
// decompressor's or the tar reader's complaint `e`.
Error Importer::layer_failure(BlobStream& s, const Descriptor& d, const std::string& label,
                              Error e) {
  if (cancelled(options_.cancel)) return interrupted();
  if (!s.failure().empty()) return bad(label + ": " + s.failure());
  if (Result<std::string> dg = s.finish(false); dg.ok() && !d.digest.empty() && *dg != d.digest)
    return check_blob(label, d.digest, d.size, *dg, s.bytes()).error();
  if (!s.decompress_failure().empty()) return bad(label + ": " + s.decompress_failure());
  return e;
}

// Reads the whole layer through `s` into `applier`; on success, s.finish() has been called and
// returned the blob's digest.
Result<std::string> Importer::read_layer(BlobStream& s, LayerApplier& applier, const Descriptor& d,
                                         const std::string& label) {
  s.cancel_on(options_.cancel);
  applier.cancel_on(options_.cancel);
  if (d.size != 0) {  // an empty blob is an empty layer; libarchive would call it truncated
    Result<ArchivePtr> a = s.open_tar();
    if (!a.ok()) return layer_failure(s, d, label, a.error());
    Result<void> r = applier.apply(a->get(), label);
    a->reset();
    if (!r.ok()) return layer_failure(s, d, label, r.error());
  }
  Result<std::string> digest = s.finish();
  if (!digest.ok()) return cancelled(options_.cancel) ? interrupted() : digest.error();
  if (d.size != 0 && s.diff_id().empty()) {
    CELL_TRY(check_blob(label, d.digest, d.size, *digest, s.bytes()));
    return bad(label + ": " + s.decompress_failure());
  }
  return digest;
}

Result<void> Importer::unpack_layer(LayerApplier& applier, std::size_t i) {
  const Descriptor& d = layers_[i];
  const std::string label = "layer " + std::to_string(i + 1) + "/" +
                            std::to_string(layers_.size()) + " (" + short_digest(d.digest) + ")";
  bool copy = false;
  Result<UniqueFd> fd = open_blob(d.digest, copy);
  if (!fd.ok()) return Error::make(ErrorKind::io, label + ": " + fd.error().message);
  BlobStream s(std::move(*fd), label, options_.limits.max_blob_bytes);
  const std::string tmp = staging_ + "/layer-" + std::to_string(i);
  UniqueFd out;
  if (copy) {
    out.reset(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!out.valid()) return bad("create " + tmp + ": " + errno_describe(errno));
    s.copy_to(out.get());
  }
  s.on_progress([this, i](std::uint64_t n) { report("layer", i + 1, bytes_before_ + n); });
  Result<std::string> digest = read_layer(s, applier, d, label);
  if (!digest.ok()) return digest.error();
  CELL_TRY(check_blob(label, d.digest, d.size, *digest, s.bytes()));
  // The image id is the config's digest: every layer must be what the config says, or one
  // image id could name two different trees.
  const std::string diff_id = d.size == 0 ? sha256_digest("") : s.diff_id();
  if (i >= config_.diff_ids.size() || config_.diff_ids[i] != diff_id)
    return bad(label + ": uncompressed content hashes to " + diff_id +
               " but the config's diff_id is " +
               (i < config_.diff_ids.size() ? config_.diff_ids[i] : std::string("missing")));
  if (src_.kind == SourceSpec::Kind::docker_archive && d.size != 0)  // manifest.json has no types
    layers_[i].media_type = docker_layer_type(s.filter());
  bytes_before_ += s.bytes();
  if (copy) {
    out.reset();
    CELL_TRY(move_blob(tmp, staging_, *digest));
  }
  return {};
}

Result<void> Importer::unpack_single_tar() {
  std::string file = src_.path;
  const bool own = src_.kind == SourceSpec::Kind::dir;
  if (own) {  // a directory becomes a tarball first, so the image has a layer blob like any other
    file = staging_ + "/dir.tar";
    UniqueFd out(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!out.valid()) return bad("create " + file + ": " + errno_describe(errno));
    report("packing directory", 0, 0);
    CELL_TRY(tar_directory(src_.path, out.get(), options_.cancel));
  }
  UniqueFd in(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return bad(file + ": " + errno_describe(errno));
  struct stat st {};
  ::fstat(in.get(), &st);
  Descriptor d;
  d.size = st.st_size;
  layers_ = {d};
  bytes_total_ = static_cast<std::uint64_t>(st.st_size);
  const std::string tmp = staging_ + "/layer-0";
  UniqueFd out;
  BlobStream s(std::move(in), "layer 1/1", options_.limits.max_blob_bytes);
  if (!own) {
    out.reset(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!out.valid()) return bad("create " + tmp + ": " + errno_describe(errno));
    s.copy_to(out.get());
  }
  s.on_progress([this](std::uint64_t n) { report("layer", 1, n); });
  Result<RootDir> root = RootDir::open(tree_ + "/rootfs");
  if (!root.ok()) return root.error();
  LayerApplier applier(*root, options_.limits, ::geteuid() == 0);
  Result<std::string> digest = read_layer(s, applier, d, "layer 1/1");
  if (!digest.ok()) return digest.error();
  out.reset();
  CELL_TRY(move_blob(own ? file : tmp, staging_, *digest));
  layers_[0].digest = *digest;
  layers_[0].media_type = layer_type_for(st.st_size > 0 ? s.filter() : ARCHIVE_FILTER_NONE);
  const std::string diff_id = st.st_size > 0 ? s.diff_id() : *digest;
  const std::string config =
      synthesized_config(diff_id, src_.kind == SourceSpec::Kind::dir ? "dir" : "rootfs-tar");
  const std::string config_digest = sha256_digest(config);
  CELL_TRY(write_file_atomic(staging_ + "/" + digest_hex(config_digest), config, 0444));
  CELL_TRY(set_config(config, config_digest));
  report("finishing", 1, bytes_total_);
  CELL_TRY(applier.finish());
  entries_ = applier.entries();
  for (std::string& w : applier.warnings()) warnings_.push_back(std::move(w));
  size_bytes_ = tree_bytes(root->fd.get());
  return {};
}

// The record and lock file into the tree, and the blobs into the store: an image in roots/
// always has its blobs. No collector deletes them meanwhile, as this import's work lock is held.
Result<void> Importer::stage_record() {
  ImageInfo info;
  info.id = config_digest_;
  info.source = src_.text;
  info.created = config_.created;
  info.imported_at = utc_now();
  info.os = config_.platform.os;
  info.architecture = config_.platform.architecture;
  info.variant = config_.platform.variant;
  info.env = config_.env;
  info.entrypoint = config_.entrypoint;
  info.cmd = config_.cmd;
  info.workdir = config_.workdir;
  info.user = config_.user;
  info.labels = config_.labels;
  for (const Descriptor& d : layers_)
    info.layers.push_back(
        {d.digest, d.media_type, d.size > 0 ? static_cast<std::uint64_t>(d.size) : 0});
  info.size_bytes = size_bytes_;
  info.entries = entries_;
  info.warnings = warnings_;
  CELL_TRY(write_file_atomic(tree_ + "/image.json", record_to_json(info), 0644));
  CELL_TRY(write_file_atomic(tree_ + "/lock", "", 0644));
  std::vector<std::string> keep = {config_digest_};
  for (const Descriptor& d : layers_) keep.push_back(d.digest);
  for (const std::string& digest : keep) {
    const std::string staged = staging_ + "/" + digest_hex(digest);
    if (path_exists(staged) && ::rename(staged.c_str(), store_.blob_path(digest).c_str()) != 0)
      return bad("store blob " + digest + ": " + errno_describe(errno));
  }
  return {};
}

// Under the store lock: the tree into roots/ (unless a concurrent import of the same image won:
// then ours is dropped with work/) and the name. False, changing nothing, when this import did
// not unpack because the store had the image, and the image is gone now.
Result<bool> Importer::publish(bool unpacked) {
  Result<UniqueFd> lock = store_.lock(true);
  if (!lock.ok()) return lock.error();
  const bool present = store_.has_image(config_digest_);
  if (!unpacked && !present) return false;
  Result<Refs> refs = store_.read_refs();
  if (!refs.ok()) return refs.error();
  if (unpacked && !present &&
      ::rename(tree_.c_str(), store_.image_dir(config_digest_).c_str()) != 0)
    return bad("publish " + store_.image_dir(config_digest_) + ": " + errno_describe(errno));
  (*refs)[name_] = config_digest_;
  CELL_TRY(store_.write_refs(*refs));
  refs_ = std::move(*refs);
  return true;
}

Result<ImageInfo> Importer::finish_commit(bool unpacked) {
  Result<ImageInfo> info = store_.read_record(config_digest_, refs_);
  // Remove our work directory, then collect what the new name made unused.
  (void)remove_tree(work_.path);
  ::unlink((work_.path + ".lock").c_str());
  work_ = WorkDir();
  if (Result<UniqueFd> lock = store_.lock(true); lock.ok()) {
    Result<std::vector<WorkDir>> dropped = store_.collect_garbage();
    lock->reset();
    if (dropped.ok())
      for (WorkDir& w : *dropped) {
        (void)remove_tree(w.path);
        ::unlink((w.path + ".lock").c_str());
      }
  }
  if (!info.ok()) return info;
  info->imported_as = name_;
  if (!unpacked) info->warnings.insert(info->warnings.begin(), "already imported; name updated");
  return info;
}

Result<ImageInfo> import_image(const Store& store, const std::string& source,
                               const ImportOptions& options) {
  Result<SourceSpec> spec = parse_source(source);
  if (!spec.ok()) return spec.error();
  Result<ImageInfo> r = Error::make(ErrorKind::internal, "import did not run");
  try {
    Importer importer(store, options, *spec);
    r = importer.run();
  } catch (const std::exception& e) {  // a bug (or bad_alloc): an error, and no work left behind
    r = Error::make(ErrorKind::internal, std::string("import failed: ") + e.what());
  }
  if (!r.ok()) {
    // The message quotes the image's own text (tar names, JSON strings): one line, always.
    Error e = r.error();
    e.message = printable(source + ": " + e.message);
    e.hint = printable(e.hint);
    return e;
  }
  return r;
}

}  // namespace cell::image
