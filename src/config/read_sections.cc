// mounts:, env: and capabilities:
#include <sys/capability.h>

#include <algorithm>
#include <cctype>

#include "base/strings.hpp"
#include "config/reader.hpp"
#include "config/suggest.hpp"

namespace cell::config {
namespace {

std::optional<Mount::Kind> read_mount_kind(const Field& m) {
  auto t = m.get("type");
  if (!t) {
    m.error("missing 'type' (bind or tmpfs)");
    return std::nullopt;
  }
  auto s = t->string();
  if (!s) return std::nullopt;
  if (*s == "bind") return Mount::Kind::bind;
  if (*s == "tmpfs") return Mount::Kind::tmpfs;
  t->error("'" + *s + "' is not a mount type (use bind or tmpfs)");
  return std::nullopt;
}

// An absolute path without "..", normalised.
std::optional<std::string> read_abs_path(const Field& f) {
  auto s = f.string();
  if (!s) return std::nullopt;
  std::string norm, why;
  if (!normalize_abs_path(*s, norm, why)) {
    f.error("'" + *s + "' " + why);
    return std::nullopt;
  }
  return norm;
}

void read_target(const Field& m, Mount& out) {
  auto t = m.get("target");
  if (!t) {
    m.error("missing 'target' (an absolute path inside the sandbox)");
    return;
  }
  auto path = read_abs_path(*t);
  if (!path) return;
  if (*path == "/") {
    t->error("cannot mount over '/' (the root is the image)");
    return;
  }
  out.target = *path;
}

void read_bind_fields(const Field& m, Mount& out) {
  if (auto src = m.get("source")) {
    if (auto path = read_abs_path(*src)) out.source = *path;
  } else {
    m.error("a bind mount needs a 'source' (an absolute host path)");
  }
  if (auto sz = m.get("size")) sz->error("only tmpfs mounts have a size");
}

void read_tmpfs_fields(const Field& m, Mount& out) {
  out.writable = true;
  if (auto src = m.get("source")) src->error("only bind mounts have a source");
  if (auto sz = m.get("size")) {
    auto v = sz->size();
    if (v && *v < 4096)
      sz->error("must be at least one page, 4K (omit it for the runtime's default)");
    else if (v)
      out.size_bytes = *v;
  }
}

void read_mount(const Field& m, std::vector<Mount>& out) {
  if (!m.expect_map()) return;
  m.check_keys({"type", "source", "target", "writable", "size"});
  auto kind = read_mount_kind(m);
  Mount mount;
  mount.origin = m.diag().file() + ":" + to_string(m.pos());
  read_target(m, mount);
  if (kind == Mount::Kind::bind) read_bind_fields(m, mount);
  if (kind == Mount::Kind::tmpfs) read_tmpfs_fields(m, mount);
  if (auto w = m.get("writable")) {
    if (auto b = w->boolean()) mount.writable = *b;
  }
  if (!kind) return;
  mount.kind = *kind;
  out.push_back(std::move(mount));
}

const std::vector<std::string>& capability_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c) {
      char* n = cap_to_name(c);
      if (n == nullptr) continue;
      std::string s(n);
      cap_free(n);
      for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      names.push_back(std::move(s));
    }
    return names;
  }();
  return kNames;
}

}  // namespace

std::string canonical_capability(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!starts_with(lower, "cap_")) lower = "cap_" + lower;
  // cap_from_name also takes numbers; a profile names capabilities.
  if (lower.size() <= 4 || !std::isalpha(static_cast<unsigned char>(lower[4]))) return "";
  cap_value_t value = 0;
  if (cap_from_name(lower.c_str(), &value) != 0) return "";
  for (char& c : lower) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return lower;
}

void read_mounts(const Field& f, std::vector<Mount>& out) {
  auto items = f.items();
  if (!items) return;
  std::map<std::string, std::string> targets;  // target -> the entry that mounts it
  for (const Field& m : *items) {
    const std::size_t before = out.size();
    read_mount(m, out);
    if (out.size() == before || out.back().target.empty()) continue;
    auto [it, fresh] = targets.emplace(out.back().target, m.path());
    if (fresh) continue;
    const Pos at = m.diag().positions[m.path() + ".target"];
    m.diag().add(at, m.path() + ".target",
                 "'" + it->first + "' is already the target of " + it->second);
    out.pop_back();
  }
}

void read_env(const Field& f, std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& [key, value] : f.entries()) {
    const std::string& k = key.node().Scalar();
    if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos) {
      key.error("'" + k + "' is not a variable name (no '=' and no NUL)");
      continue;
    }
    if (value.is_null()) {
      value.error("expected a string, got null (use \"\" for an empty value)");
      continue;
    }
    auto v = value.string();
    if (!v) continue;
    if (v->find('\0') != std::string::npos) {
      value.error("must not contain NUL");
      continue;
    }
    out.emplace_back(k, *v);
  }
}

void read_capabilities(const Field& f, std::vector<std::string>& out) {
  auto items = f.items();
  if (!items) return;
  for (const Field& item : *items) {
    auto s = item.string();
    if (!s) continue;
    const std::string cap = canonical_capability(*s);
    if (cap.empty()) {
      std::string upper = *s;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (!starts_with(upper, "CAP_")) upper = "CAP_" + upper;
      item.error("'" + *s + "': unknown capability" + did_you_mean(upper, capability_names()));
      continue;
    }
    if (std::find(out.begin(), out.end(), cap) == out.end()) out.push_back(cap);
  }
}

}  // namespace cell::config
