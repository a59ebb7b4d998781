#include "runtime/merge.hpp"

#include "base/io.hpp"
#include "base/strings.hpp"

namespace cell::runtime {

namespace {

Result<void> merge_env(Profile& p, const RunSpec& spec) {
  for (const auto& [k, v] : spec.env) {
    if (k.empty() || k.find('=') != std::string::npos)
      return Error::make(ErrorKind::usage, "environment variable name '" + k + "' is empty or contains '='");
    bool replaced = false;
    for (auto& kv : p.env)
      if (kv.first == k) {
        kv.second = v;
        replaced = true;
      }
    if (!replaced) p.env.emplace_back(k, v);
  }
  return {};
}

Result<void> merge_mounts(Profile& p, const RunSpec& spec) {
  for (Mount m : spec.mounts) {
    std::string why, target;
    if (!normalize_abs_path(m.target, target, why))
      return Error::make(ErrorKind::usage, (m.origin.empty() ? "mount" : m.origin) + ": target '" +
                                               m.target + "' " + why);
    if (target == "/" || target == "/proc" || target == "/dev" || starts_with(target, "/proc/"))
      return Error::make(ErrorKind::usage, (m.origin.empty() ? "mount" : m.origin) + ": target " +
                                               target + " is reserved for the sandbox itself");
    m.target = target;
    if (m.kind == Mount::Kind::bind && (m.source.empty() || m.source.front() != '/'))
      return Error::make(ErrorKind::usage, (m.origin.empty() ? "mount" : m.origin) + ": source '" +
                                               m.source + "' must be an absolute host path");
    p.mounts.push_back(std::move(m));
  }
  return {};
}

Result<void> merge_seccomp(Profile& p, const RunSpec& spec) {
  if (!spec.seccomp) return {};
  if (*spec.seccomp == "off") {
    p.seccomp.enabled = false;
    return {};
  }
  Result<Profile> other = load_profile(*spec.seccomp);
  if (!other.ok()) {
    Error e = other.error();
    e.message = "--seccomp " + *spec.seccomp + ": " + e.message;
    return e;
  }
  p.seccomp = other->seccomp;
  return {};
}

}  // namespace

Result<Profile> effective_profile(const RunSpec& spec) {
  Profile p;
  if (spec.profile_value) {
    p = *spec.profile_value;
  } else {
    Result<Profile> loaded = load_profile(spec.profile.empty() ? "standard" : spec.profile);
    if (!loaded.ok()) return loaded.error();
    p = std::move(loaded).value();
  }
  if (spec.uid) p.uid = *spec.uid;
  if (spec.gid) p.gid = *spec.gid;
  if (p.uid > 65535 || p.gid > 65535)
    return Error::make(ErrorKind::usage, "--user " + std::to_string(p.uid) + ":" + std::to_string(p.gid) +
                                             ": sandbox ids must be within 0-65535");
  if (spec.hostname) {
    if (spec.hostname->empty() || spec.hostname->size() > 64)
      return Error::make(ErrorKind::usage, "--hostname must be 1-64 characters");
    p.hostname = *spec.hostname;
  }
  if (spec.network) p.network = *spec.network;
  CELL_TRY(merge_env(p, spec));
  CELL_TRY(merge_mounts(p, spec));
  CELL_TRY(merge_seccomp(p, spec));
  p.limits.apply(spec.limits);
  if (p.limits.cpu_time && p.limits.cpu_time->count() <= 0)
    return Error::make(ErrorKind::usage, "--cpu-time must be positive");
  if (p.limits.wall_time && p.limits.wall_time->count() <= 0)
    return Error::make(ErrorKind::usage, "--wall-time must be positive");
  return p;
}

}  // namespace cell::runtime
