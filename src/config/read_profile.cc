// parse_profile: the document's top level.
#include <algorithm>
#include <cctype>

#include "config/reader.hpp"

namespace cell {
namespace config {
namespace {

// Sandbox ids live in a 65536-wide user-namespace map.
constexpr std::uint64_t kMaxId = 65535;

bool valid_profile_name(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

bool valid_hostname(const std::string& s) {
  if (s.empty() || s.size() > 64 || s.front() == '-' || s.front() == '.' || s.back() == '-' ||
      s.back() == '.')
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

void read_name(const Field& doc, Profile& p) {
  auto f = doc.get("name");
  if (!f) {
    doc.error("missing 'name' (every profile has one)");
    return;
  }
  auto s = f->string();
  if (!s) return;
  if (!valid_profile_name(*s)) {
    f->error("'" + *s + "' is not a profile name (letters, digits, '-', '_', '.'; at most 64)");
    return;
  }
  p.name = *s;
}

void read_user(const Field& f, Profile& p) {
  if (!f.expect_map()) return;
  f.check_keys({"uid", "gid"});
  std::optional<std::uint64_t> uid, gid;
  if (auto v = f.get("uid")) uid = v->whole(0, kMaxId);
  if (auto v = f.get("gid")) gid = v->whole(0, kMaxId);
  if (uid) p.uid = static_cast<std::uint32_t>(*uid);
  // A uid alone brings its own group, as `--user UID` does.
  if (gid)
    p.gid = static_cast<std::uint32_t>(*gid);
  else if (uid && !f.get("gid"))
    p.gid = p.uid;
}

void read_hostname(const Field& f, Profile& p) {
  auto s = f.string();
  if (!s) return;
  if (!valid_hostname(*s)) {
    f.error("'" + *s + "' is not a hostname (letters, digits, '-' and '.'; at most 64)");
    return;
  }
  p.hostname = *s;
}

void read_network(const Field& f, Profile& p) {
  auto s = f.string();
  if (!s) return;
  if (auto n = parse_network(*s)) {
    p.network = *n;
    return;
  }
  f.error("'" + *s + "' is not a network mode (use none, loopback or host)");
}

void read_document(const Field& doc, Profile& p) {
  if (doc.is_null()) {
    doc.error("the profile is empty (it needs at least a name)");
    return;
  }
  if (!doc.expect_map()) return;
  doc.check_keys({"name", "description", "user", "hostname", "network", "sys", "limits", "rlimits",
                  "mounts", "env", "capabilities", "seccomp"});
  read_name(doc, p);
  if (auto f = doc.get("description")) {
    if (auto s = f->string()) p.description = *s;
  }
  if (auto f = doc.get("user")) read_user(*f, p);
  if (auto f = doc.get("hostname")) read_hostname(*f, p);
  if (auto f = doc.get("network")) read_network(*f, p);
  if (auto f = doc.get("sys")) {
    if (auto b = f->boolean()) p.mount_sys = *b;
  }
  if (auto f = doc.get("limits")) read_limits(*f, p.limits);
  if (auto f = doc.get("rlimits")) read_rlimits(*f, p.limits);
  if (auto f = doc.get("mounts")) read_mounts(*f, p.mounts);
  if (auto f = doc.get("env")) read_env(*f, p.env);
  if (auto f = doc.get("capabilities")) read_capabilities(*f, p.capabilities);
  if (auto f = doc.get("seccomp")) read_seccomp(*f, p.seccomp);
}

}  // namespace
}  // namespace config

Result<Profile> parse_profile(std::string_view yaml_text, const std::string& file) {
  config::Diagnostics diag(file);
  Profile p;
  p.source = file;
  try {
    if (auto doc = config::load_document(yaml_text, diag)) {
      config::read_document(config::Field(*doc, "", {1, 1}, diag), p);
      config::check_profile(p, diag);
    }
  } catch (const std::exception& e) {
    // The reader avoids throwing calls; this is the net under yaml-cpp surprises.
    diag.add({}, "", std::string("cannot read the profile: ") + e.what());
  }
  if (!diag.empty()) return diag.to_error();
  return p;
}

}  // namespace cell
