#include "runtime/roots.hpp"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/errno_names.hpp"

namespace cell::runtime {

Result<ResolvedRoot> resolve_root(const RunSpec& spec, const std::string& data_dir) {
  ResolvedRoot r;
  plan::RootSource& root = r.source;
  if (!spec.rootfs.empty()) {
    char real[PATH_MAX];
    if (::realpath(spec.rootfs.c_str(), real) == nullptr)
      return Error::make(ErrorKind::usage, "--rootfs " + spec.rootfs + ": " + errno_describe(errno),
                         errno);
    struct stat st {};
    if (::stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
      return Error::make(ErrorKind::usage, "--rootfs " + spec.rootfs + ": not a directory");
    root.kind = plan::RootSource::Kind::dir;
    root.path = real;
    root.display = "rootfs " + root.path;
    return r;
  }
  if (spec.image.empty() || spec.image == "host") {
    root.display = "host";
    return r;
  }
  // An imported image: its flattened tree, bound read-only as the root. The lease (a shared
  // flock on the image) lives as long as the run's ResolvedRoot.
  Result<ImageStore> store = ImageStore::open(data_dir);
  if (!store.ok()) return store.error();
  Result<ImageLease> lease = store->acquire(spec.image);
  if (!lease.ok()) {
    Error e = lease.error();
    e.message = "--image " + spec.image + ": " + e.message;
    return e;
  }
  const ImageInfo& info = lease->image();
  root.kind = plan::RootSource::Kind::dir;
  root.path = info.rootfs;
  root.display = "image " + (info.names.empty() ? info.id.substr(0, 19) : info.names.front());
  r.env = info.env;
  r.lease = std::make_shared<ImageLease>(std::move(*lease));
  return r;
}

void apply_image_env(Profile& p, const RunSpec& spec, const ResolvedRoot& root) {
  for (const std::string& kv : root.env) {
    const std::size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    const std::string key = kv.substr(0, eq);
    bool requested = false;
    for (const auto& e : spec.env) requested = requested || e.first == key;
    if (requested) continue;
    bool replaced = false;
    for (auto& e : p.env)
      if (e.first == key) {
        e.second = kv.substr(eq + 1);
        replaced = true;
      }
    if (!replaced) p.env.emplace_back(key, kv.substr(eq + 1));
  }
}

}  // namespace cell::runtime
