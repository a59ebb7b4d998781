#include "image/store.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <set>

#include "base/errno_names.hpp"
#include "base/io.hpp"
#include "base/strings.hpp"
#include "image/digest.hpp"
#include "image/safe_fs.hpp"

namespace cell::image {

using json = nlohmann::json;

namespace {

constexpr const char* kRecordSchema = "cell.image/v1";
constexpr const char* kRefsSchema = "cell.refs/v1";
constexpr std::size_t kMaxRecordBytes = 16 << 20;

Error io(const std::string& what, int err) {
  return Error::make(ErrorKind::io, what + ": " + errno_describe(err), err);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return !s.empty();
}

std::vector<std::string> dir_names(const std::string& dir) {
  std::vector<std::string> names;
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.valid()) (void)list_names(fd.get(), names);
  return names;
}

// True if nobody holds `lock_path` (or it is gone): the work it guards is abandoned.
bool abandoned(const std::string& lock_path) {
  UniqueFd fd(::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errno == ENOENT;
  return ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0;
}

}  // namespace

std::string utc_now() {
  const time_t now = ::time(nullptr);
  struct tm tm {};
  ::gmtime_r(&now, &tm);
  char buf[32];
  ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<void> Store::init() const {
  for (const char* sub : {"", "/blobs/sha256", "/roots", "/tmp"}) {
    const std::string d = root_ + sub;
    if (auto r = make_dirs(d, 0755); !r.ok()) {
      Error e = r.error();
      e.message = "image store: " + e.message;
      e.hint = "set CELL_DATA to a writable directory";
      return e;
    }
  }
  return {};
}

Result<UniqueFd> Store::lock(bool exclusive) const {
  const std::string path = root_ + "/lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return io("image store lock " + path, errno);
  int r;
  do {
    r = ::flock(fd.get(), exclusive ? LOCK_EX : LOCK_SH);
  } while (r != 0 && errno == EINTR);
  if (r != 0) return io("flock " + path, errno);
  return fd;
}

std::string Store::blob_path(const std::string& digest) const {
  return root_ + "/blobs/sha256/" + digest_hex(digest);
}
std::string Store::image_dir(const std::string& id) const {
  return root_ + "/roots/" + digest_hex(id);
}
bool Store::has_blob(const std::string& digest) const {
  return path_exists(blob_path(digest));
}
bool Store::has_image(const std::string& id) const {
  return path_exists(image_dir(id) + "/image.json");
}

Result<Refs> Store::read_refs() const {
  Refs refs;
  const std::string path = root_ + "/refs.json";
  if (!path_exists(path)) return refs;
  Result<std::string> text = read_file(path, kMaxRecordBytes);
  if (!text.ok()) return text.error();
  try {
    const json j = json::parse(*text);
    for (const auto& [k, v] : j.at("refs").items()) refs[k] = v.get<std::string>();
  } catch (const json::exception& e) {
    return Error::make(ErrorKind::io, path + ": unreadable (" + e.what() + ")");
  }
  return refs;
}

Result<void> Store::write_refs(const Refs& refs) const {
  json j = {{"schema", kRefsSchema}, {"refs", json::object()}};
  for (const auto& [k, v] : refs) j["refs"][k] = v;
  return write_file_atomic(root_ + "/refs.json",
                           j.dump(2, ' ', false, json::error_handler_t::replace) + "\n", 0644);
}

Result<ImageInfo> Store::read_record(const std::string& id, const Refs& refs) const {
  const std::string dir = image_dir(id);
  Result<std::string> text = read_file(dir + "/image.json", kMaxRecordBytes);
  if (!text.ok()) return text.error();
  Result<ImageInfo> info = record_from_json(*text, dir + "/image.json");
  if (!info.ok()) return info;
  for (const auto& [name, target] : refs)
    if (target == info->id) info->names.push_back(name);
  info->rootfs = dir + "/rootfs";
  return info;
}

std::vector<std::string> Store::image_ids() const {
  std::vector<std::string> ids;
  for (const std::string& n : dir_names(root_ + "/roots"))
    if (n.size() == 64 && is_hex(n) && path_exists(root_ + "/roots/" + n + "/image.json"))
      ids.push_back("sha256:" + n);
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<std::string> Store::resolve(const std::string& ref, const Refs& refs) const {
  std::string prefix;
  if (starts_with(ref, "sha256:")) {
    prefix = ref.substr(7);
    if (prefix.size() < 4 || !is_hex(prefix))
      return Error::make(ErrorKind::usage,
                         "image id '" + ref + "' needs at least 4 lowercase hex digits");
  } else {
    std::string name, tag, why;
    if (parse_image_name(ref, name, tag, why)) {
      if (const auto it = refs.find(name + ":" + tag); it != refs.end() && has_image(it->second))
        return it->second;
    } else if (!(ref.size() >= 4 && is_hex(ref))) {
      return Error::make(ErrorKind::usage, "image reference '" + ref + "': " + why);
    }
    if (ref.size() >= 4 && is_hex(ref)) prefix = ref;
  }
  std::vector<std::string> hits;
  if (!prefix.empty())
    for (const std::string& id : image_ids())
      if (id.compare(7, prefix.size(), prefix) == 0) hits.push_back(id);
  if (hits.size() == 1) return hits.front();
  if (hits.size() > 1)
    return Error::make(ErrorKind::usage, "image id prefix '" + ref + "' is ambiguous (" +
                                             std::to_string(hits.size()) +
                                             " images); give more digits");
  Error e = Error::make(ErrorKind::not_found, "image '" + ref + "' not found");
  e.hint = "`cell image ls` lists imported images; `cell image import` adds one";
  return e;
}

Result<WorkDir> Store::make_work_dir(const std::string& prefix) const {
  std::string tmpl = root_ + "/tmp/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return io("mkdtemp " + tmpl, errno);
  WorkDir w;
  w.path = tmpl;
  w.lock.reset(::open((tmpl + ".lock").c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!w.lock.valid() || ::flock(w.lock.get(), LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::rmdir(tmpl.c_str());
    return io("lock " + tmpl + ".lock", err);
  }
  return w;
}

Result<void> Store::clean_stale() const {
  const std::string tmp = root_ + "/tmp";
  for (const std::string& n : dir_names(tmp)) {
    if (ends_with(n, ".lock")) {
      const std::string dir = tmp + "/" + n.substr(0, n.size() - 5);
      if (!path_exists(dir) && abandoned(tmp + "/" + n)) ::unlink((tmp + "/" + n).c_str());
      continue;
    }
    if (!abandoned(tmp + "/" + n + ".lock")) continue;
    CELL_TRY(remove_tree(tmp + "/" + n));
    ::unlink((tmp + "/" + n + ".lock").c_str());
  }
  return {};
}

bool Store::imports_running() const {
  for (const std::string& n : dir_names(root_ + "/tmp"))
    if (starts_with(n, "import-") && ends_with(n, ".lock") && !abandoned(root_ + "/tmp/" + n))
      return true;
  return false;
}

Result<WorkDir> Store::detach_image(const std::string& id, const std::string& display) const {
  const std::string dir = image_dir(id);
  UniqueFd lock(::open((dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock.valid()) return io("image lock " + dir + "/lock", errno);
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return io("flock " + dir + "/lock", errno);
    Error e = Error::make(ErrorKind::usage, "image " + display + " is in use by a running sandbox",
                          EBUSY);
    e.hint = "retry when the runs using it have finished";
    return e;
  }
  Result<WorkDir> w = make_work_dir("rm");
  if (!w.ok()) return w;
  if (::rename(dir.c_str(), (w->path + "/image").c_str()) != 0) return io("rename " + dir, errno);
  return w;
}

Result<std::vector<WorkDir>> Store::collect_garbage() const {
  Result<Refs> refs = read_refs();
  if (!refs.ok()) return refs.error();
  // Names whose image is gone (a store edited by hand, or older versions racing with rm).
  if (std::erase_if(*refs, [this](const auto& ref) { return !has_image(ref.second); }) > 0)
    CELL_TRY(write_refs(*refs));
  std::set<std::string> named;
  for (const auto& [n, id] : *refs) named.insert(id);
  std::set<std::string> used;
  std::vector<WorkDir> dropped;
  for (const std::string& id : image_ids()) {
    Result<ImageInfo> info = read_record(id, *refs);
    if (named.count(id) == 0) {  // lost its last name to a newer import: remove unless in use
      if (Result<WorkDir> w = detach_image(id, id); w.ok()) {
        dropped.push_back(std::move(*w));
        continue;
      }
    }
    used.insert(id);
    if (info.ok())
      for (const ImageLayer& l : info->layers) used.insert(l.digest);
  }
  if (imports_running()) return dropped;
  const std::string blobs = root_ + "/blobs/sha256";
  for (const std::string& n : dir_names(blobs))
    if (used.count("sha256:" + n) == 0) ::unlink((blobs + "/" + n).c_str());
  return dropped;
}

std::string record_to_json(const ImageInfo& i) {
  json layers = json::array();
  for (const ImageLayer& l : i.layers)
    layers.push_back({{"digest", l.digest}, {"media_type", l.media_type}, {"size", l.size}});
  const json j = {{"schema", kRecordSchema},
                  {"id", i.id},
                  {"source", i.source},
                  {"created", i.created},
                  {"imported_at", i.imported_at},
                  {"os", i.os},
                  {"architecture", i.architecture},
                  {"variant", i.variant},
                  {"env", i.env},
                  {"entrypoint", i.entrypoint},
                  {"cmd", i.cmd},
                  {"workdir", i.workdir},
                  {"user", i.user},
                  {"labels", i.labels},
                  {"layers", layers},
                  {"size_bytes", i.size_bytes},
                  {"entries", i.entries},
                  {"warnings", i.warnings}};
  // The source path is the caller's bytes, not necessarily UTF-8: replace, never throw.
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<ImageInfo> record_from_json(const std::string& text, const std::string& what) {
  try {
    const json j = json::parse(text);
    if (j.at("schema").get<std::string>() != kRecordSchema)
      return Error::make(ErrorKind::io, what + ": unknown schema " + j.at("schema").dump());
    ImageInfo i;
    i.id = j.at("id").get<std::string>();
    i.source = j.value("source", "");
    i.created = j.value("created", "");
    i.imported_at = j.value("imported_at", "");
    i.os = j.value("os", "");
    i.architecture = j.value("architecture", "");
    i.variant = j.value("variant", "");
    i.env = j.value("env", std::vector<std::string>{});
    i.entrypoint = j.value("entrypoint", std::vector<std::string>{});
    i.cmd = j.value("cmd", std::vector<std::string>{});
    i.workdir = j.value("workdir", "");
    i.user = j.value("user", "");
    i.labels = j.value("labels", std::map<std::string, std::string>{});
    for (const json& l : j.at("layers"))
      i.layers.push_back({l.at("digest").get<std::string>(), l.value("media_type", ""),
                          l.value("size", std::uint64_t{0})});
    i.size_bytes = j.value("size_bytes", std::uint64_t{0});
    i.entries = j.value("entries", std::uint64_t{0});
    i.warnings = j.value("warnings", std::vector<std::string>{});
    return i;
  } catch (const json::exception& e) {
    return Error::make(ErrorKind::io,
                       what + ": unreadable image record (" + std::string(e.what()) + ")");
  }
}

}  // namespace cell::image
