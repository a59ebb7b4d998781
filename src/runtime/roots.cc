#include "runtime/roots.hpp"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/errno_names.hpp"

namespace cell::runtime {

Result<plan::RootSource> resolve_root(const RunSpec& spec, const std::string& data_dir) {
  plan::RootSource root;
  if (!spec.rootfs.empty()) {
    char real[PATH_MAX];
    if (::realpath(spec.rootfs.c_str(), real) == nullptr)
      return Error::make(ErrorKind::usage, "--rootfs " + spec.rootfs + ": " + errno_describe(errno), errno);
    struct stat st {};
    if (::stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
      return Error::make(ErrorKind::usage, "--rootfs " + spec.rootfs + ": not a directory");
    root.kind = plan::RootSource::Kind::dir;
    root.path = real;
    root.display = "rootfs " + root.path;
    return root;
  }
  if (spec.image.empty() || spec.image == "host") {
    root.display = "host";
    return root;
  }
  (void)data_dir;
  return Error::make(ErrorKind::not_found, "--image " + spec.image +
                                               ": no such image (only 'host' is available until "
                                               "images are imported with `cell image import`)");
}

}  // namespace cell::runtime
