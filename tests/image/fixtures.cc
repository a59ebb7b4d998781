#include "image/fixtures.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cell::test {

namespace fs = std::filesystem;
using json = nlohmann::json;

TarEntry file(std::string path, std::string data, unsigned mode) {
  TarEntry e;
  e.path = std::move(path);
  e.data = std::move(data);
  e.mode = mode;
  return e;
}

TarEntry dir(std::string path, unsigned mode) {
  TarEntry e;
  e.type = TarEntry::Type::dir;
  e.path = std::move(path);
  e.mode = mode;
  return e;
}

TarEntry symlink(std::string path, std::string target) {
  TarEntry e;
  e.type = TarEntry::Type::symlink;
  e.path = std::move(path);
  e.link = std::move(target);
  e.mode = 0777;
  return e;
}

TarEntry hardlink(std::string path, std::string target) {
  TarEntry e;
  e.type = TarEntry::Type::hardlink;
  e.path = std::move(path);
  e.link = std::move(target);
  return e;
}

TarEntry whiteout(const std::string& d, const std::string& name) {
  return file(d.empty() ? ".wh." + name : d + "/.wh." + name, "", 0);
}

TarEntry opaque(const std::string& d) {
  return file(d + "/.wh..wh..opq", "", 0);
}

std::string make_tar(const std::vector<TarEntry>& entries, Compression c) {
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (c == Compression::gzip) archive_write_add_filter_gzip(a);
  if (c == Compression::zstd) archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  std::string out(64 << 20, '\0');
  std::size_t used = 0;
  if (archive_write_open_memory(a, out.data(), out.size(), &used) != ARCHIVE_OK)
    throw std::runtime_error(archive_error_string(a));
  for (const TarEntry& t : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.path.c_str());
    archive_entry_set_uid(e, t.uid);
    archive_entry_set_gid(e, t.gid);
    archive_entry_set_mtime(e, t.mtime, 0);
    unsigned type = AE_IFREG;
    switch (t.type) {
      case TarEntry::Type::file:
        type = AE_IFREG;
        break;
      case TarEntry::Type::dir:
        type = AE_IFDIR;
        break;
      case TarEntry::Type::symlink:
        type = AE_IFLNK;
        break;
      case TarEntry::Type::hardlink:
        type = AE_IFREG;
        break;
      case TarEntry::Type::fifo:
        type = AE_IFIFO;
        break;
      case TarEntry::Type::chr:
        type = AE_IFCHR;
        break;
      case TarEntry::Type::blk:
        type = AE_IFBLK;
        break;
    }
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, t.mode);
    if (t.type == TarEntry::Type::symlink) archive_entry_set_symlink(e, t.link.c_str());
    if (t.type == TarEntry::Type::hardlink) archive_entry_set_hardlink(e, t.link.c_str());
    if (t.type == TarEntry::Type::chr || t.type == TarEntry::Type::blk) {
      archive_entry_set_rdevmajor(e, t.major);
      archive_entry_set_rdevminor(e, t.minor);
    }
    for (const auto& [k, v] : t.xattrs)
      archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    archive_entry_set_size(
        e, t.type == TarEntry::Type::file ? static_cast<la_int64_t>(t.data.size()) : 0);
    if (archive_write_header(a, e) != ARCHIVE_OK) throw std::runtime_error(archive_error_string(a));
    if (t.type == TarEntry::Type::file && !t.data.empty())
      archive_write_data(a, t.data.data(), t.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

std::string layer_media_type(Compression c) {
  switch (c) {
    case Compression::gzip:
      return "application/vnd.oci.image.layer.v1.tar+gzip";
    case Compression::zstd:
      return "application/vnd.oci.image.layer.v1.tar+zstd";
    default:
      return "application/vnd.oci.image.layer.v1.tar";
  }
}

std::string sha256_of(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string s = "sha256:";
  for (unsigned i = 0; i < n; ++i) {
    s += hex[md[i] >> 4];
    s += hex[md[i] & 15];
  }
  return s;
}

std::string decompress(const std::string& data) {
  struct archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_format_raw(a);
  std::string out;
  struct archive_entry* e = nullptr;
  if (archive_read_open_memory(a, data.data(), data.size()) == ARCHIVE_OK &&
      archive_read_next_header(a, &e) == ARCHIVE_OK) {
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
      out.append(buf, static_cast<std::size_t>(n));
    if (n < 0) out = data;  // broken on purpose: the test expects an error before diff_ids
  } else {
    out = data;
  }
  archive_read_free(a);
  return out;
}

std::string diff_id_of(const std::string& layer) {
  return layer.empty() ? sha256_of(layer) : sha256_of(decompress(layer));
}

namespace {
void write_text(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}
}  // namespace

OciLayout::OciLayout(std::string dir) : dir_(std::move(dir)) {
  fs::create_directories(dir_ + "/blobs/sha256");
  write_text(dir_ + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
}

std::string OciLayout::blob(const std::string& data) const {
  const std::string d = sha256_of(data);
  write_text(dir_ + "/blobs/sha256/" + d.substr(7), data);
  return d;
}

json OciLayout::image(const std::vector<Layer>& layers, const std::string& tag,
                      const json& config) const {
  json cfg = {{"architecture", "amd64"},
              {"os", "linux"},
              {"config", {{"Env", {"PATH=/usr/bin:/bin"}}}},
              {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}}};
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"layers", json::array()}};
  for (const Layer& l : layers) {
    const std::string d = blob(l.data);
    manifest["layers"].push_back(
        {{"mediaType", l.media_type}, {"digest", d}, {"size", l.data.size()}});
    cfg["rootfs"]["diff_ids"].push_back(diff_id_of(l.data));
  }
  cfg.merge_patch(config);
  const std::string cfg_text = cfg.dump();
  manifest["config"] = {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                        {"digest", blob(cfg_text)},
                        {"size", cfg_text.size()}};
  const std::string m = manifest.dump();
  json desc = {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
               {"digest", blob(m)},
               {"size", m.size()}};
  if (!tag.empty()) desc["annotations"] = {{"org.opencontainers.image.ref.name", tag}};
  return desc;
}

void OciLayout::write_index(const std::vector<json>& manifests) const {
  json idx = {{"schemaVersion", 2}, {"manifests", manifests}};
  write_text(dir_ + "/index.json", idx.dump());
}

void write_simple_layout(const std::string& d, const std::vector<std::vector<TarEntry>>& layers,
                         const std::string& tag) {
  OciLayout lay(d);
  std::vector<OciLayout::Layer> ls;
  for (const auto& entries : layers)
    ls.push_back({make_tar(entries, Compression::gzip), layer_media_type(Compression::gzip)});
  lay.write_index({lay.image(ls, tag)});
}

std::vector<TarEntry> entries_of(const std::string& d) {
  std::vector<TarEntry> out;
  std::vector<fs::path> paths;
  for (const auto& e : fs::recursive_directory_iterator(d)) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  for (const fs::path& p : paths) {
    const std::string rel = p.string().substr(d.size() + 1);
    if (fs::is_directory(p)) {
      out.push_back(dir(rel));
    } else {
      std::ifstream in(p, std::ios::binary);
      out.push_back(file(rel, std::string(std::istreambuf_iterator<char>(in), {})));
    }
  }
  return out;
}

void write_bytes(const std::string& path, const std::string& data) {
  write_text(path, data);
}

std::map<std::string, std::string> snapshot(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::none);
       it != fs::recursive_directory_iterator(); ++it) {
    const std::string rel = it->path().string().substr(root.size());
    struct stat st {};
    ::lstat(it->path().c_str(), &st);
    std::ostringstream s;
    s << std::oct << (st.st_mode & 07777) << std::dec << ' ';
    if (S_ISLNK(st.st_mode)) {
      s << "link " << fs::read_symlink(it->path()).string();
    } else if (S_ISDIR(st.st_mode)) {
      s << "dir";
    } else if (S_ISREG(st.st_mode)) {
      std::ifstream in(it->path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      s << "file " << st.st_size << ' ' << sha256_of(ss.str()).substr(7, 16);
    } else {
      s << "other " << (st.st_mode & S_IFMT);
    }
    out[rel] = s.str();
  }
  return out;
}

std::vector<std::string> list_tree(const std::string& d) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(d, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(d, ec);
       !ec && it != fs::recursive_directory_iterator(); ++it)
    out.push_back(it->path().string().substr(d.size()));
  return out;
}

int sh(const std::string& command) {
  const int r = std::system(command.c_str());
  return r == -1 ? -1 : WEXITSTATUS(r);
}

bool have_tool(const std::string& name) {
  return sh("command -v " + name + " >/dev/null 2>&1") == 0;
}

}  // namespace cell::test
