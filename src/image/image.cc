// The public ImageStore: thin, lock-taking wrappers over store.cc and import.cc.
#include <cell/image.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/errno_names.hpp"
#include "base/io.hpp"
#include "image/disk_tree.hpp"
#include "image/importer.hpp"
#include "image/store.hpp"

namespace cell {

using image::Store;
using image::WorkDir;

namespace {

void delete_work(std::vector<WorkDir>& dirs) {
  for (WorkDir& w : dirs) {
    (void)image::remove_tree(w.path);
    ::unlink((w.path + ".lock").c_str());
  }
  dirs.clear();
}

Result<void> check_export_dir(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT)
      return Error::make(ErrorKind::usage, dir + ": " + errno_describe(errno), errno);
    if (::mkdir(dir.c_str(), 0755) != 0)
      return Error::make(ErrorKind::usage, "create " + dir + ": " + errno_describe(errno), errno);
    return {};
  }
  if (!S_ISDIR(st.st_mode))
    return Error::make(ErrorKind::usage, dir + " exists and is not a directory");
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::vector<std::string> names;
  if (!fd.valid() || !image::list_names(fd.get(), names).ok())
    return Error::make(ErrorKind::usage, dir + ": " + errno_describe(errno), errno);
  if (!names.empty()) return Error::make(ErrorKind::usage, dir + " is not empty");
  return {};
}

}  // namespace

ImageLease::ImageLease(ImageLease&& o) noexcept
    : info_(std::move(o.info_)), fd_(std::exchange(o.fd_, -1)) {}

ImageLease& ImageLease::operator=(ImageLease&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    info_ = std::move(o.info_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

ImageLease::~ImageLease() {
  if (fd_ >= 0) ::close(fd_);
}

Result<ImageStore> ImageStore::open(const std::string& data_dir) {
  if (data_dir.empty()) return Error::make(ErrorKind::usage, "image store: empty data directory");
  return ImageStore(data_dir + "/images");
}

Result<ImageInfo> ImageStore::import(const std::string& source,
                                     const ImportOptions& options) const {
  return image::import_image(Store(root_), source, options);
}

Result<std::vector<ImageInfo>> ImageStore::list() const {
  Store store(root_);
  std::vector<ImageInfo> out;
  if (!path_exists(root_ + "/roots")) return out;
  Result<UniqueFd> lock = store.lock(false);
  if (!lock.ok()) return lock.error();
  Result<image::Refs> refs = store.read_refs();
  if (!refs.ok()) return refs.error();
  for (const std::string& id : store.image_ids()) {
    Result<ImageInfo> info = store.read_record(id, *refs);
    if (!info.ok()) return info.error();
    out.push_back(std::move(*info));
  }
  return out;
}

Result<ImageInfo> ImageStore::inspect(const std::string& ref) const {
  Store store(root_);
  if (!path_exists(root_ + "/roots")) return store.resolve(ref, {}).error();
  Result<UniqueFd> lock = store.lock(false);
  if (!lock.ok()) return lock.error();
  Result<image::Refs> refs = store.read_refs();
  if (!refs.ok()) return refs.error();
  Result<std::string> id = store.resolve(ref, *refs);
  if (!id.ok()) return id.error();
  return store.read_record(*id, *refs);
}

Result<ImageLease> ImageStore::acquire(const std::string& ref) const {
  Store store(root_);
  if (!path_exists(root_ + "/roots")) return store.resolve(ref, {}).error();
  // The store lock orders us against `rm`: once we hold the image's lock shared, rm cannot
  // take it, and rm never holds it for longer than a rename.
  Result<UniqueFd> lock = store.lock(false);
  if (!lock.ok()) return lock.error();
  Result<image::Refs> refs = store.read_refs();
  if (!refs.ok()) return refs.error();
  Result<std::string> id = store.resolve(ref, *refs);
  if (!id.ok()) return id.error();
  const std::string lock_path = store.image_dir(*id) + "/lock";
  UniqueFd fd(::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid())
    return Error::make(ErrorKind::io, "image lock " + lock_path + ": " + errno_describe(errno),
                       errno);
  if (::flock(fd.get(), LOCK_SH) != 0)
    return Error::make(ErrorKind::io, "flock " + lock_path + ": " + errno_describe(errno), errno);
  Result<ImageInfo> info = store.read_record(*id, *refs);
  if (!info.ok()) return info.error();
  ImageLease lease;
  lease.info_ = std::move(*info);
  lease.fd_ = fd.release();
  return lease;
}

Result<std::vector<std::string>> ImageStore::remove(const std::string& ref) const {
  Store store(root_);
  if (!path_exists(root_ + "/roots")) return store.resolve(ref, {}).error();
  std::vector<std::string> done;
  std::vector<WorkDir> trash;
  {
    Result<UniqueFd> lock = store.lock(true);
    if (!lock.ok()) return lock.error();
    Result<image::Refs> refs = store.read_refs();
    if (!refs.ok()) return refs.error();
    Result<std::string> id = store.resolve(ref, *refs);
    std::string name, tag, why;
    if (!id.ok() && parse_image_name(ref, name, tag, why) && refs->erase(name + ":" + tag) != 0) {
      CELL_TRY(store.write_refs(*refs));  // a name left pointing at a missing image
      return std::vector<std::string>{"untagged " + name + ":" + tag};
    }
    if (!id.ok()) return id.error();
    const bool by_name =
        parse_image_name(ref, name, tag, why) && refs->count(name + ":" + tag) != 0;
    std::vector<std::string> names;
    for (const auto& [n, target] : *refs)
      if (target == *id) names.push_back(n);
    if (by_name && names.size() > 1) {  // other names keep the image
      refs->erase(name + ":" + tag);
      CELL_TRY(store.write_refs(*refs));
      return std::vector<std::string>{"untagged " + name + ":" + tag};
    }
    Result<WorkDir> w = store.detach_image(*id, by_name ? ref : *id);
    if (!w.ok()) return w.error();
    trash.push_back(std::move(*w));
    for (const std::string& n : names) {
      refs->erase(n);
      done.push_back("untagged " + n);
    }
    CELL_TRY(store.write_refs(*refs));
    done.push_back("deleted " + *id);
    Result<std::vector<WorkDir>> dropped = store.collect_garbage();
    if (dropped.ok())
      for (WorkDir& d : *dropped) trash.push_back(std::move(d));
  }
  delete_work(trash);
  return done;
}

Result<void> ImageStore::export_rootfs(const std::string& ref, const std::string& dir) const {
  Result<ImageLease> lease = acquire(ref);
  if (!lease.ok()) return lease.error();
  CELL_TRY(check_export_dir(dir));
  char real[PATH_MAX];
  if (::realpath(dir.c_str(), real) == nullptr)
    return Error::make(ErrorKind::usage, dir + ": " + errno_describe(errno), errno);
  return image::copy_tree(lease->image().rootfs, real, ::geteuid() == 0);
}

Result<void> ImageStore::gc() const {
  Store store(root_);
  if (!path_exists(root_ + "/roots")) return {};
  std::vector<WorkDir> trash;
  {
    Result<UniqueFd> lock = store.lock(true);
    if (!lock.ok()) return lock.error();
    CELL_TRY(store.clean_stale());
    Result<std::vector<WorkDir>> dropped = store.collect_garbage();
    if (!dropped.ok()) return dropped.error();
    trash = std::move(*dropped);
  }
  delete_work(trash);
  return {};
}

std::string ImageInfo::to_json(int indent) const {
  nlohmann::json layers_j = nlohmann::json::array();
  for (const ImageLayer& l : layers)
    layers_j.push_back(
        {{"digest", l.digest}, {"media_type", l.media_type}, {"size_bytes", l.size}});
  nlohmann::json j = {{"id", id},
                      {"names", names},
                      {"source", source},
                      {"created", created},
                      {"imported_at", imported_at},
                      {"os", os},
                      {"architecture", architecture},
                      {"variant", variant},
                      {"env", env},
                      {"entrypoint", entrypoint},
                      {"cmd", cmd},
                      {"workdir", workdir},
                      {"user", user},
                      {"labels", labels},
                      {"layers", layers_j},
                      {"size_bytes", size_bytes},
                      {"entries", entries},
                      {"warnings", warnings},
                      {"rootfs", rootfs}};
  if (!imported_as.empty()) j["imported_as"] = imported_as;
  // Paths (source, rootfs) are bytes, not necessarily UTF-8: replace, never throw.
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace cell
