#include "image/source.hpp"

#include <cell/image.hpp>

#include <cctype>

#include "base/io.hpp"
#include "base/strings.hpp"

namespace cell::image {

namespace {

struct Prefix {
  const char* text;
  SourceSpec::Kind kind;
  bool takes_ref;
};
constexpr Prefix kPrefixes[] = {
    {"oci:", SourceSpec::Kind::oci_dir, true},
    {"oci-archive:", SourceSpec::Kind::oci_archive, true},
    {"docker-archive:", SourceSpec::Kind::docker_archive, true},
    {"rootfs-tar:", SourceSpec::Kind::rootfs_tar, false},
    {"dir:", SourceSpec::Kind::dir, false},
};

Error usage(const std::string& m, const std::string& hint = "") {
  Error e = Error::make(ErrorKind::usage, m);
  e.hint = hint;
  return e;
}

bool valid_name_component(std::string_view c) {
  if (c.empty() || !std::isalnum(static_cast<unsigned char>(c.front())) ||
      !std::isalnum(static_cast<unsigned char>(c.back())))
    return false;
  for (char ch : c)
    if (!(std::islower(static_cast<unsigned char>(ch)) ||
          std::isdigit(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-'))
      return false;
  return true;
}

bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > 128 || t.front() == '.' || t.front() == '-') return false;
  for (char ch : t)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-'))
      return false;
  return true;
}

}  // namespace

Result<SourceSpec> parse_source(const std::string& source) {
  SourceSpec s;
  s.text = source;
  std::string rest = source;
  bool takes_ref = false;
  bool prefixed = false;
  for (const Prefix& p : kPrefixes) {
    if (starts_with(source, p.text)) {
      s.kind = p.kind;
      takes_ref = p.takes_ref;
      rest = source.substr(std::string_view(p.text).size());
      prefixed = true;
      break;
    }
  }
  if (rest.empty()) return usage("image source '" + source + "': no path given");
  if (path_exists(rest)) {
    s.path = rest;
  } else if (takes_ref) {
    for (std::size_t colon = rest.rfind(':'); colon != std::string::npos && colon > 0;
         colon = rest.rfind(':', colon - 1)) {
      if (path_exists(rest.substr(0, colon))) {
        s.path = rest.substr(0, colon);
        s.ref = rest.substr(colon + 1);
        break;
      }
    }
  }
  if (s.path.empty()) {
    Error e = Error::make(ErrorKind::not_found,
                          "image source '" + source + "': no such file or directory");
    if (!prefixed && rest.find(':') != std::string::npos)
      e.hint =
          "sources are oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE, rootfs-tar:FILE "
          "or DIR";
    return e;
  }
  const bool dir = is_directory(s.path);
  if (!prefixed) {
    if (!dir)
      return usage(
          "image source '" + source + "' is a file: say what kind",
          "oci-archive:" + source + ", docker-archive:" + source + " or rootfs-tar:" + source);
    s.kind =
        path_exists(s.path + "/oci-layout") ? SourceSpec::Kind::oci_dir : SourceSpec::Kind::dir;
  }
  const bool wants_dir = s.kind == SourceSpec::Kind::oci_dir || s.kind == SourceSpec::Kind::dir;
  if (wants_dir != dir)
    return usage("image source '" + source + "': " + s.path +
                 (dir ? " is a directory" : " is not a directory"));
  if (s.kind == SourceSpec::Kind::oci_dir && !path_exists(s.path + "/oci-layout"))
    return usage("image source '" + source + "': " + s.path +
                 " has no oci-layout file (not an OCI image layout)");
  return s;
}

std::string name_from_path(const std::string& path) {
  std::string base = path;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  if (const std::size_t slash = base.rfind('/'); slash != std::string::npos)
    base = base.substr(slash + 1);
  for (const char* ext : {".tar.gz", ".tar.zst", ".tar.zstd", ".tgz", ".tar", ".oci"}) {
    const std::string_view e = ext;
    if (base.size() > e.size() && base.compare(base.size() - e.size(), e.size(), e) == 0) {
      base.resize(base.size() - e.size());
      break;
    }
  }
  std::string out;
  for (char ch : base) {
    const auto c = static_cast<unsigned char>(ch);
    out +=
        std::isalnum(c) ? static_cast<char>(std::tolower(c)) : (ch == '.' || ch == '_' ? ch : '-');
  }
  while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.back()))) out.pop_back();
  while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.front())))
    out.erase(out.begin());
  return out.empty() ? "image" : out;
}

}  // namespace cell::image

namespace cell {

bool parse_image_name(std::string_view ref, std::string& name, std::string& tag, std::string& why) {
  if (ref.empty() || ref.size() > 255) {
    why = ref.empty() ? "empty image name" : "image name longer than 255 characters";
    return false;
  }
  if (ref.find('@') != std::string_view::npos) {
    why = "digest references (NAME@sha256:...) are not supported; use the image id";
    return false;
  }
  const std::size_t slash = ref.rfind('/');
  const std::size_t colon = ref.rfind(':');
  std::string_view n = ref;
  tag = "latest";
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    n = ref.substr(0, colon);
    tag = std::string(ref.substr(colon + 1));
    if (!image::valid_tag(tag)) {
      why = "tag '" + tag + "' is not valid (letters, digits, '_', '.', '-'; at most 128)";
      return false;
    }
  }
  std::size_t start = 0;
  bool first = true;
  while (start <= n.size()) {
    std::size_t end = n.find('/', start);
    if (end == std::string_view::npos) end = n.size();
    std::string_view c = n.substr(start, end - start);
    // The first component may be a registry host with a port ("localhost:5000").
    if (first && end != n.size() && c.find(':') != std::string_view::npos)
      c = c.substr(0, c.find(':'));
    if (!image::valid_name_component(c)) {
      why = "name '" + std::string(n) +
            "' is not valid (lowercase letters, digits, '.', '_', '-', '/')";
      return false;
    }
    first = false;
    start = end + 1;
  }
  name = std::string(n);
  return true;
}

}  // namespace cell
