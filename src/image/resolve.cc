// Finding the image in a source: index.json -> (nested index ->) manifest -> config + layers
// for OCI layouts and archives, manifest.json -> config + layer members for docker-archive.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/errno_names.hpp"
#include "base/io.hpp"
#include "base/strings.hpp"
#include "image/blob_stream.hpp"
#include "image/digest.hpp"
#include "image/importer.hpp"
#include "image/safe_fs.hpp"

namespace cell::image {

namespace {

constexpr int kMaxIndexDepth = 4;
constexpr const char* kDockerLayerType = "application/vnd.docker.image.rootfs.diff.tar";

Error bad(const std::string& m) {
  return Error::make(ErrorKind::io, m);
}

// NAME:TAG from an OCI ref.name annotation: a full reference, or just a tag.
std::string name_for(const std::string& ref_name, const std::string& path) {
  std::string name, tag, why;
  if (ref_name.find_first_of("/:") != std::string::npos &&
      parse_image_name(ref_name, name, tag, why))
    return name + ":" + tag;
  return name_from_path(path) + ":" + (ref_name.empty() ? "latest" : ref_name);
}

bool tag_matches(const std::string& ref_name, const std::string& tag) {
  if (ref_name == tag) return true;
  return ref_name.size() > tag.size() &&
         ref_name.compare(ref_name.size() - tag.size(), tag.size(), tag) == 0 &&
         ref_name[ref_name.size() - tag.size() - 1] == ':';
}

std::string list_or_none(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v.empty() ? "none" : join(v, ", ");
}

}  // namespace

Result<UniqueFd> Importer::open_blob(const std::string& digest, bool& copy) {
  copy = false;
  const std::string hex = digest_hex(digest);
  if (UniqueFd fd(::open((staging_ + "/" + hex).c_str(), O_RDONLY | O_CLOEXEC)); fd.valid())
    return fd;
  if (UniqueFd fd(::open(store_.blob_path(digest).c_str(), O_RDONLY | O_CLOEXEC)); fd.valid())
    return fd;
  if (layout_.valid()) {
    // Resolved inside the layout: a symlinked blob cannot point at a host file.
    UniqueFd fd(open_in_root(layout_.get(), "blobs/sha256/" + hex, O_RDONLY, kInRoot));
    if (fd.valid()) {
      copy = true;
      return fd;
    }
    return bad("blob " + digest + ": " + errno_describe(errno) + " in " + src_.path +
               "/blobs/sha256");
  }
  return bad("blob " + digest + " is not in the archive");
}

Result<std::string> Importer::read_blob_text(const Descriptor& d, const std::string& what,
                                             bool keep) {
  if (d.size > static_cast<std::int64_t>(options_.limits.max_json_bytes))
    return bad(what + ": " + std::to_string(d.size) +
               " bytes is over the JSON limit (ImageLimits.max_json_bytes)");
  bool copy = false;
  Result<UniqueFd> fd = open_blob(d.digest, copy);
  if (!fd.ok()) return fd.error();
  BlobStream s(std::move(*fd), what, options_.limits.max_blob_bytes);
  Result<std::string> text = s.read_all(options_.limits.max_json_bytes);
  if (!text.ok()) return text.error();
  CELL_TRY(check_blob(what, d.digest, d.size, sha256_digest(*text), text->size()));
  if (keep && copy) CELL_TRY(write_file_atomic(staging_ + "/" + digest_hex(d.digest), *text, 0444));
  return text;
}

Result<std::string> Importer::text_member(const std::string& member) {
  const std::string m = staged_.resolve(member);
  if (const auto it = staged_.texts.find(m); it != staged_.texts.end()) return it->second;
  if (const auto it = staged_.blobs.find(m); it != staged_.blobs.end()) {
    Result<std::string> text =
        read_file(staging_ + "/" + digest_hex(it->second), options_.limits.max_json_bytes);
    if (!text.ok()) return bad(member + ": larger than the JSON limit or unreadable");
    return text;
  }
  return bad("'" + member + "' is not in the archive");
}

Result<void> Importer::resolve() {
  using Kind = SourceSpec::Kind;
  switch (src_.kind) {
    case Kind::oci_dir: {
      layout_.reset(::open(src_.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!layout_.valid()) return bad(src_.path + ": " + errno_describe(errno));
      UniqueFd idx(open_in_root(layout_.get(), "index.json", O_RDONLY, kInRoot));
      if (!idx.valid()) return bad("index.json: " + errno_describe(errno));
      BlobStream s(std::move(idx), "index.json", options_.limits.max_blob_bytes);
      Result<std::string> text = s.read_all(options_.limits.max_json_bytes);
      if (!text.ok()) return text.error();
      return resolve_oci(*text);
    }
    case Kind::oci_archive:
    case Kind::docker_archive: {
      auto progress = [this](std::uint64_t done, std::uint64_t total) {
        bytes_total_ = total;
        report("reading archive", 0, done);
      };
      Result<StagedArchive> st =
          stage_archive(src_.path, "archive", staging_, options_.limits, options_.cancel, progress);
      if (!st.ok()) return st.error();
      staged_ = std::move(*st);
      bytes_total_ = 0;
      if (src_.kind == Kind::docker_archive) return resolve_docker();
      const auto idx = staged_.texts.find("index.json");
      if (idx == staged_.texts.end() || staged_.texts.count("oci-layout") == 0)
        return bad("no index.json and oci-layout in the archive: not an OCI archive");
      return resolve_oci(idx->second);
    }
    case Kind::rootfs_tar:
    case Kind::dir:
      name_ = name_from_path(src_.path) + ":latest";
      return {};
  }
  return {};
}

Result<void> Importer::resolve_oci(const std::string& index_text) {
  Result<Index> idx = parse_index(index_text, "index.json");
  if (!idx.ok()) return idx.error();
  Result<Descriptor> chosen = pick_manifest(*idx, src_.ref, 0);
  if (!chosen.ok()) return chosen.error();
  const std::string mwhat = "manifest " + chosen->digest;
  Result<std::string> mtext = read_blob_text(*chosen, mwhat, false);
  if (!mtext.ok()) return mtext.error();
  Result<Manifest> m = parse_manifest(*mtext, mwhat);
  if (!m.ok()) return m.error();
  if (m->layers.size() > options_.limits.max_layers)
    return bad(mwhat + ": " + std::to_string(m->layers.size()) +
               " layers (ImageLimits.max_layers is " + std::to_string(options_.limits.max_layers) +
               ")");
  layers_ = m->layers;
  const std::string cwhat = "config " + m->config.digest;
  Result<std::string> ctext = read_blob_text(m->config, cwhat, true);
  if (!ctext.ok()) return ctext.error();
  CELL_TRY(set_config(*ctext, m->config.digest));
  std::string ref_name = chosen->ref_name();
  if (ref_name.empty()) ref_name = src_.ref;
  name_ = name_for(ref_name, src_.path);
  return {};
}

Result<Descriptor> Importer::pick_manifest(const Index& index, const std::string& tag, int depth) {
  if (depth > kMaxIndexDepth) return bad("image indexes nested more than 4 deep");
  std::vector<Descriptor> cands;
  std::vector<std::string> tags;
  for (const Descriptor& d : index.manifests) {
    if (!d.ref_name().empty()) tags.push_back(d.ref_name());
    if (tag.empty() || tag_matches(d.ref_name(), tag)) cands.push_back(d);
  }
  if (cands.empty())
    return bad("no image tagged '" + tag + "' in index.json (tags: " + list_or_none(tags) + ")");
  const Platform host = host_platform();
  std::vector<Descriptor> images;
  std::vector<std::string> platforms, unknown;
  for (const Descriptor& d : cands) {
    const MediaKind kind = media_kind(d.media_type);
    if (kind == MediaKind::index) {
      Result<std::string> text = read_blob_text(d, "index " + d.digest, false);
      if (!text.ok()) return text.error();
      Result<Index> nested = parse_index(*text, "index " + d.digest);
      if (!nested.ok()) return nested.error();
      Result<Descriptor> pick = pick_manifest(*nested, "", depth + 1);
      if (cands.size() == 1 || pick.ok()) {
        if (!pick.ok()) return pick;
        Descriptor found = *pick;
        if (found.ref_name().empty() && !d.ref_name().empty()) found.annotations = d.annotations;
        images.push_back(found);
      }
    } else if (kind == MediaKind::manifest) {
      if (d.has_platform) {
        platforms.push_back(d.platform.text());
        if (!platform_matches(host, d.platform)) continue;
      }
      images.push_back(d);
    } else {
      unknown.push_back("'" + d.media_type + "' (" + short_digest(d.digest) + ")");
    }
  }
  if (images.empty()) {
    if (!platforms.empty())
      return bad("no image for " + host.text() +
                 " in the index; it has: " + list_or_none(platforms));
    if (!unknown.empty()) return bad("index.json: unknown media type " + join(unknown, ", "));
    return bad("index.json lists no image manifest");
  }
  std::vector<std::string> names;
  for (const Descriptor& d : images) names.push_back(d.ref_name());
  if (tag.empty() && depth == 0 && list_or_none(names).find(',') != std::string::npos) {
    Error e = bad("the layout holds several images (tags: " + list_or_none(names) + ")");
    e.hint = "choose one: oci:DIR:TAG or oci-archive:FILE:TAG";
    e.kind = ErrorKind::usage;
    return e;
  }
  return images.front();
}

Result<void> Importer::set_config(const std::string& text, const std::string& digest) {
  Result<ImageConfig> c = parse_config(text, "config " + digest);
  if (!c.ok()) return c.error();
  // Every layer is checked against its diff_id (import.cc): the counts must agree.
  if (!c->has_diff_ids && !layers_.empty())
    return bad("config " + digest + ": no rootfs.diff_ids to check the layers against");
  if (c->diff_ids.size() != layers_.size())
    return bad("config " + digest + ": " + std::to_string(c->diff_ids.size()) + " diff_ids for " +
               std::to_string(layers_.size()) + " layers");
  if (!c->platform.os.empty() && c->platform.os != "linux")
    return bad("config " + digest + ": image is for " + c->platform.os + ", not linux");
  const Platform host = host_platform();
  if (!c->platform.architecture.empty() && c->platform.architecture != host.architecture)
    warnings_.push_back("image is built for " + c->platform.text() + "; this machine is " +
                        host.text());
  config_ = std::move(*c);
  config_text_ = text;
  config_digest_ = digest;
  return {};
}

Result<void> Importer::resolve_docker() {
  const auto mtext = staged_.texts.find("manifest.json");
  if (mtext == staged_.texts.end())
    return bad("no manifest.json in the archive: not a docker-archive");
  Result<std::vector<DockerEntry>> entries = parse_docker_manifest(mtext->second, "manifest.json");
  if (!entries.ok()) return entries.error();
  const DockerEntry* chosen = nullptr;
  std::vector<std::string> all_tags;
  for (const DockerEntry& e : *entries)
    all_tags.insert(all_tags.end(), e.repo_tags.begin(), e.repo_tags.end());
  if (src_.ref.empty()) {
    if (entries->size() != 1) {
      Error e = bad("the archive holds " + std::to_string(entries->size()) + " images (" +
                    list_or_none(all_tags) + ")");
      e.kind = ErrorKind::usage;
      e.hint = "choose one: docker-archive:FILE:NAME:TAG or docker-archive:FILE:@N (N from 0)";
      return e;
    }
    chosen = &entries->front();
  } else if (src_.ref.front() == '@') {
    const std::size_t n = static_cast<std::size_t>(std::strtoul(src_.ref.c_str() + 1, nullptr, 10));
    if (n >= entries->size()) return bad("no image @" + std::to_string(n) + " in the archive");
    chosen = &(*entries)[n];
  } else {
    std::string want_name, want_tag, why, n, t;
    if (!parse_image_name(src_.ref, want_name, want_tag, why)) return bad(why);
    for (const DockerEntry& e : *entries)
      for (const std::string& rt : e.repo_tags)
        if (parse_image_name(rt, n, t, why) && n == want_name && t == want_tag) chosen = &e;
    if (chosen == nullptr)
      return bad("no image '" + src_.ref + "' in the archive (" + list_or_none(all_tags) + ")");
  }
  for (const std::string& member : chosen->layers) {
    const std::string m = staged_.resolve(member);
    const auto it = staged_.blobs.find(m);
    if (it == staged_.blobs.end()) return bad("layer '" + member + "' is not in the archive");
    Descriptor d;
    d.media_type = kDockerLayerType;
    d.digest = it->second;
    const auto size = staged_.sizes.find(d.digest);
    d.size = size == staged_.sizes.end() ? -1 : static_cast<std::int64_t>(size->second);
    layers_.push_back(d);
  }
  if (layers_.size() > options_.limits.max_layers)
    return bad("too many layers (ImageLimits.max_layers)");
  Result<std::string> ctext = text_member(chosen->config);
  if (!ctext.ok()) return ctext.error();
  const std::string digest = sha256_digest(*ctext);
  // Config members are named by their digest ("HEX.json" or "blobs/sha256/HEX").
  std::string base = staged_.resolve(chosen->config);
  if (const std::size_t slash = base.rfind('/'); slash != std::string::npos)
    base = base.substr(slash + 1);
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".json") == 0)
    base.resize(base.size() - 5);
  std::string why;
  if (valid_digest("sha256:" + base, why) && "sha256:" + base != digest)
    return bad("config " + chosen->config + ": digest mismatch: content hashes to " + digest);
  CELL_TRY(write_file_atomic(staging_ + "/" + digest_hex(digest), *ctext, 0444));
  CELL_TRY(set_config(*ctext, digest));
  name_ = chosen->repo_tags.empty() ? name_from_path(src_.path) + ":latest" : std::string();
  if (name_.empty()) {
    std::string n, t;
    name_ = parse_image_name(chosen->repo_tags.front(), n, t, why)
                ? n + ":" + t
                : name_from_path(src_.path) + ":latest";
  }
  return {};
}

}  // namespace cell::image
