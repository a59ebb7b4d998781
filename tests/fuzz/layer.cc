// Layer extraction (src/image: BlobStream + LayerApplier) into a fresh directory per input.
// Beside it sits a sentinel directory: whatever a layer holds, the sentinel stays as it was
// and nothing new appears next to the image root.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "fuzz/targets.hpp"
#include "image/blob_stream.hpp"
#include "image/layer_apply.hpp"
#include "image/safe_fs.hpp"

namespace cell::fuzz {

namespace {

std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* e = ::readdir(d))
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") names.insert(e->d_name);
  ::closedir(d);
  return names;
}

std::string read_text(const std::string& path) {
  std::string s;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  char buf[256];
  ssize_t n;
  while (fd >= 0 && (n = ::read(fd, buf, sizeof buf)) > 0)
    s.append(buf, static_cast<std::size_t>(n));
  if (fd >= 0) ::close(fd);
  return s;
}

// The work directory: $CELL_FUZZ_DIR, else a fresh one in /dev/shm (fast) or $TMPDIR.
const std::string& base_dir() {
  static const std::string base = [] {
    const char* set = std::getenv("CELL_FUZZ_DIR");
    std::string tmpl = set != nullptr && *set != '\0'    ? std::string(set) + "/layer-XXXXXX"
                       : ::access("/dev/shm", W_OK) == 0 ? std::string("/dev/shm/cell-fuzz-XXXXXX")
                                                         : std::string("/tmp/cell-fuzz-XXXXXX");
    check(::mkdtemp(tmpl.data()) != nullptr, "cannot create the fuzz work directory");
    ::mkdir((tmpl + "/sentinel").c_str(), 0755);
    const int fd =
        ::open((tmpl + "/sentinel/secret").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    check(fd >= 0 && ::write(fd, "secret", 6) == 6, "cannot write the sentinel");
    ::close(fd);
    return tmpl;
  }();
  return base;
}

UniqueFd memory_file(const std::uint8_t* data, std::size_t size) {
  UniqueFd fd(::memfd_create("cell-fuzz-layer", MFD_CLOEXEC));
  std::size_t done = 0;
  while (fd.valid() && done < size) {
    const ssize_t n = ::write(fd.get(), data + done, size - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

void check_error(const Error& e) {
  if (e.message.empty() || e.message.find('\n') != std::string::npos)
    std::fprintf(stderr, "error message: [%s]\n", e.message.c_str());
  check(!e.message.empty(), "an extraction error without a message");
  check(e.message.find('\n') == std::string::npos, "a multi-line extraction error");
}

}  // namespace

int layer(const std::uint8_t* data, std::size_t size) {
  const std::string& base = base_dir();
  const std::string root = base + "/root";
  check(::mkdir(root.c_str(), 0755) == 0, "cannot create the image root");
  ImageLimits limits;
  limits.max_unpacked_bytes = 16 << 20;
  limits.max_entries = 4096;
  limits.max_blob_bytes = 16 << 20;
  {
    Result<image::RootDir> rd = image::RootDir::open(root);
    check(rd.ok(), "cannot open the image root");
    image::LayerApplier applier(*rd, limits, /*privileged=*/false);
    image::BlobStream stream(memory_file(data, size), "layer 1/1", limits.max_blob_bytes);
    Result<image::ArchivePtr> a = stream.open_tar();
    if (!a.ok()) {
      check_error(a.error());
    } else if (Result<void> r = applier.apply(a->get(), "layer 1/1"); !r.ok()) {
      check_error(r.error());
    } else if (Result<void> f = applier.finish(); !f.ok()) {
      check_error(f.error());
    }
    (void)stream.finish();
    // Warnings quote entry names: printable, and the image record holding them serialises.
    ImageInfo info;
    info.warnings = applier.warnings();
    for (const std::string& w : info.warnings)
      for (const char c : w)
        check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f,
              "a control character in a warning");
    (void)info.to_json();
  }
  check(names_in(base) == std::set<std::string>{"root", "sentinel"},
        "something appeared next to the image root");
  check(names_in(base + "/sentinel") == std::set<std::string>{"secret"} &&
            read_text(base + "/sentinel/secret") == "secret",
        "the sentinel beside the image root changed");
  Result<void> rm = image::remove_tree(root);
  if (!rm.ok()) std::fprintf(stderr, "%s\n", rm.error().what().c_str());
  check(rm.ok(), "the extracted tree cannot be removed");
  return 0;
}

}  // namespace cell::fuzz
