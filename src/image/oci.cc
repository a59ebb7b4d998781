#include "image/oci.hpp"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include "base/strings.hpp"
#include "image/digest.hpp"

namespace cell::image {

using json = nlohmann::json;

namespace {

constexpr const char* kRefName = "org.opencontainers.image.ref.name";

// `problem` may quote the document's own strings: made printable (one line, valid UTF-8).
Error bad(const std::string& what, const std::string& problem) {
  return Error::make(ErrorKind::io, what + ": " + printable(problem));
}

Result<json> parse_json(std::string_view text, const std::string& what) {
  try {
    json j = json::parse(text.begin(), text.end());
    if (!j.is_object()) return bad(what, "not a JSON object");
    return j;
  } catch (const json::exception& e) {
    // nlohmann's text: "[json.exception.parse_error.101] parse error at line 1, column 7: ..."
    std::string m = e.what();
    if (const std::size_t p = m.find("] "); p != std::string::npos) m = m.substr(p + 2);
    return bad(what, "invalid JSON: " + m);
  }
}

// Optional string member; a present member of another type is an error.
Result<std::string> opt_string(const json& j, const char* key, const std::string& what) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return bad(what, std::string("'") + key + "' is not a string");
  return it->get<std::string>();
}

Result<std::vector<std::string>> opt_strings(const json& j, const char* key,
                                             const std::string& what) {
  std::vector<std::string> out;
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return bad(what, std::string("'") + key + "' is not an array of strings");
  for (const json& v : *it) {
    if (!v.is_string()) return bad(what, std::string("'") + key + "' is not an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

// Optional object of strings (annotations, Labels); a member of another type is an error.
Result<std::map<std::string, std::string>> opt_string_map(const json& j, const char* key,
                                                          const std::string& what) {
  std::map<std::string, std::string> out;
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_object()) return bad(what, std::string("'") + key + "' is not an object");
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string())
      return bad(what, std::string("'") + key + "' member '" + k + "' is not a string");
    out[k] = v.get<std::string>();
  }
  return out;
}

// The document's own mediaType, when it states one, must be of `kind`.
Result<void> check_own_type(const json& j, MediaKind kind, const char* noun,
                            const std::string& what) {
  Result<std::string> mt = opt_string(j, "mediaType", what);
  if (!mt.ok()) return mt.error();
  if (!mt->empty() && media_kind(*mt) != kind)
    return bad(what, "media type '" + *mt + "' is not " + noun);
  return {};
}

Result<void> check_schema(const json& j, const std::string& what) {
  const auto it = j.find("schemaVersion");
  if (it == j.end() || !it->is_number_integer() || it->get<std::int64_t>() != 2)
    return bad(what, "schemaVersion is not 2");
  return {};
}

Result<Descriptor> parse_descriptor(const json& j, const std::string& what) {
  if (!j.is_object()) return bad(what, "descriptor is not an object");
  Descriptor d;
  Result<std::string> mt = opt_string(j, "mediaType", what);
  Result<std::string> dg = opt_string(j, "digest", what);
  if (!mt.ok()) return mt.error();
  if (!dg.ok()) return dg.error();
  d.media_type = *mt;
  d.digest = *dg;
  std::string why;
  if (!valid_digest(d.digest, why)) return bad(what, why);
  const auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer() || size->get<std::int64_t>() < 0)
    return bad(what, "descriptor " + short_digest(d.digest) + " has no valid size");
  d.size = size->get<std::int64_t>();
  const std::string dwhat = what + ": descriptor " + short_digest(d.digest);
  Result<std::map<std::string, std::string>> ann = opt_string_map(j, "annotations", dwhat);
  if (!ann.ok()) return ann.error();
  d.annotations = std::move(*ann);
  if (const auto p = j.find("platform"); p != j.end() && !p->is_null()) {
    if (!p->is_object()) return bad(dwhat, "'platform' is not an object");
    Result<std::string> os = opt_string(*p, "os", dwhat + " platform"),
                        arch = opt_string(*p, "architecture", dwhat + " platform"),
                        variant = opt_string(*p, "variant", dwhat + " platform");
    for (const auto* r : {&os, &arch, &variant})
      if (!r->ok()) return r->error();
    d.has_platform = true;
    d.platform = Platform{*os, *arch, *variant};
  }
  return d;
}

std::string machine_arch() {
  struct utsname u {};
  if (::uname(&u) != 0) return "amd64";
  const std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  if (m == "i686" || m == "i386") return "386";
  if (m.rfind("armv", 0) == 0) return "arm";
  if (m == "ppc64le") return "ppc64le";
  if (m == "s390x") return "s390x";
  if (m == "riscv64") return "riscv64";
  return m;
}

}  // namespace

MediaKind media_kind(std::string_view t) {
  if (t == "application/vnd.oci.image.index.v1+json" ||
      t == "application/vnd.docker.distribution.manifest.list.v2+json")
    return MediaKind::index;
  if (t == "application/vnd.oci.image.manifest.v1+json" ||
      t == "application/vnd.docker.distribution.manifest.v2+json")
    return MediaKind::manifest;
  if (t == "application/vnd.oci.image.config.v1+json" ||
      t == "application/vnd.docker.container.image.v1+json")
    return MediaKind::config;
  static constexpr std::string_view kLayers[] = {
      "application/vnd.oci.image.layer.v1.tar",
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.v1.tar+zstd",
      "application/vnd.oci.image.layer.nondistributable.v1.tar",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
      "application/vnd.docker.image.rootfs.diff.tar",
      "application/vnd.docker.image.rootfs.diff.tar.gzip",
      "application/vnd.docker.image.rootfs.diff.tar.zstd",
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  };
  for (std::string_view l : kLayers)
    if (t == l) return MediaKind::layer;
  return MediaKind::unknown;
}

std::string Platform::text() const {
  std::string s = (os.empty() ? "?" : os) + "/" + (architecture.empty() ? "?" : architecture);
  if (!variant.empty()) s += "/" + variant;
  return s;
}

Platform host_platform() {
  return Platform{"linux", machine_arch(), ""};
}

bool platform_matches(const Platform& want, const Platform& have) {
  // An unstated variant matches any (amd64 has none; arm64 images often say v8).
  return want.os == have.os && want.architecture == have.architecture &&
         (want.variant.empty() || have.variant.empty() || want.variant == have.variant);
}

std::string Descriptor::ref_name() const {
  const auto it = annotations.find(kRefName);
  return it == annotations.end() ? std::string() : it->second;
}

Result<Index> parse_index(std::string_view text, const std::string& what) {
  Result<json> j = parse_json(text, what);
  if (!j.ok()) return j.error();
  CELL_TRY(check_schema(*j, what));
  CELL_TRY(check_own_type(*j, MediaKind::index, "an image index", what));
  const auto ms = j->find("manifests");
  if (ms == j->end() || !ms->is_array()) return bad(what, "'manifests' is missing or not an array");
  Index idx;
  for (const json& m : *ms) {
    Result<Descriptor> d = parse_descriptor(m, what);
    if (!d.ok()) return d.error();
    idx.manifests.push_back(std::move(*d));
  }
  return idx;
}

Result<Manifest> parse_manifest(std::string_view text, const std::string& what) {
  Result<json> j = parse_json(text, what);
  if (!j.ok()) return j.error();
  CELL_TRY(check_schema(*j, what));
  CELL_TRY(check_own_type(*j, MediaKind::manifest, "an image manifest", what));
  const auto cfg = j->find("config");
  if (cfg == j->end()) return bad(what, "'config' is missing");
  Manifest m;
  Result<Descriptor> c = parse_descriptor(*cfg, what);
  if (!c.ok()) return c.error();
  m.config = std::move(*c);
  if (media_kind(m.config.media_type) != MediaKind::config)
    return bad(what, "config " + short_digest(m.config.digest) + ": unknown media type '" +
                         m.config.media_type + "'");
  const auto layers = j->find("layers");
  if (layers == j->end() || !layers->is_array())
    return bad(what, "'layers' is missing or not an array");
  for (const json& l : *layers) {
    Result<Descriptor> d = parse_descriptor(l, what);
    if (!d.ok()) return d.error();
    if (media_kind(d->media_type) != MediaKind::layer)
      return bad(what, "layer " + std::to_string(m.layers.size() + 1) + " (" +
                           short_digest(d->digest) + "): unknown media type '" + d->media_type +
                           "'");
    m.layers.push_back(std::move(*d));
  }
  return m;
}

Result<ImageConfig> parse_config(std::string_view text, const std::string& what) {
  Result<json> j = parse_json(text, what);
  if (!j.ok()) return j.error();
  ImageConfig c;
  Result<std::string> created = opt_string(*j, "created", what), os = opt_string(*j, "os", what),
                      arch = opt_string(*j, "architecture", what),
                      variant = opt_string(*j, "variant", what);
  for (const auto* r : {&created, &os, &arch, &variant})
    if (!r->ok()) return r->error();
  c.created = *created;
  c.platform = Platform{*os, *arch, *variant};
  if (const auto cfg = j->find("config"); cfg != j->end() && !cfg->is_null()) {
    if (!cfg->is_object()) return bad(what, "'config' is not an object");
    Result<std::vector<std::string>> env = opt_strings(*cfg, "Env", what),
                                     ep = opt_strings(*cfg, "Entrypoint", what),
                                     cmd = opt_strings(*cfg, "Cmd", what);
    Result<std::string> wd = opt_string(*cfg, "WorkingDir", what),
                        user = opt_string(*cfg, "User", what);
    if (!env.ok()) return env.error();
    if (!ep.ok()) return ep.error();
    if (!cmd.ok()) return cmd.error();
    if (!wd.ok()) return wd.error();
    if (!user.ok()) return user.error();
    c.env = *env;
    c.entrypoint = *ep;
    c.cmd = *cmd;
    c.workdir = *wd;
    c.user = *user;
    Result<std::map<std::string, std::string>> labels = opt_string_map(*cfg, "Labels", what);
    if (!labels.ok()) return labels.error();
    c.labels = std::move(*labels);
  }
  if (const auto rootfs = j->find("rootfs"); rootfs != j->end() && !rootfs->is_null()) {
    if (!rootfs->is_object()) return bad(what, "'rootfs' is not an object");
    Result<std::vector<std::string>> ids = opt_strings(*rootfs, "diff_ids", what);
    if (!ids.ok()) return ids.error();
    std::string why;
    for (const std::string& id : *ids)
      if (!valid_digest(id, why)) return bad(what, "rootfs.diff_ids: " + why);
    c.diff_ids = *ids;
    c.has_diff_ids = rootfs->contains("diff_ids");
  }
  return c;
}

Result<std::vector<DockerEntry>> parse_docker_manifest(std::string_view text,
                                                       const std::string& what) {
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    std::string m = e.what();
    if (const std::size_t p = m.find("] "); p != std::string::npos) m = m.substr(p + 2);
    return bad(what, "invalid JSON: " + m);
  }
  if (!j.is_array() || j.empty()) return bad(what, "not a non-empty JSON array");
  std::vector<DockerEntry> out;
  for (const json& e : j) {
    if (!e.is_object()) return bad(what, "an entry is not an object");
    DockerEntry d;
    Result<std::string> cfg = opt_string(e, "Config", what);
    Result<std::vector<std::string>> tags = opt_strings(e, "RepoTags", what),
                                     layers = opt_strings(e, "Layers", what);
    if (!cfg.ok()) return cfg.error();
    if (!tags.ok()) return tags.error();
    if (!layers.ok()) return layers.error();
    if (cfg->empty()) return bad(what, "an entry has no 'Config'");
    d.config = *cfg;
    d.repo_tags = *tags;
    d.layers = *layers;
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace cell::image
