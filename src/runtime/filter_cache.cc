#include "runtime/filter_cache.hpp"

#include "seccomp/cache_file.hpp"

namespace cell::runtime {

namespace {

// Length-prefixed, so that no two policies share a text ("a,b" is not "a" and "b").
void put(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

}  // namespace

std::string canonical_policy(const SeccompPolicy& p) {
  std::string k = "default ";
  put(k, to_string(p.default_action));
  k += "\nrules " + std::to_string(p.rules.size()) + "\n";
  for (const SeccompRule& r : p.rules) {
    put(k, to_string(r.action));
    k += " " + std::to_string(r.syscalls.size());
    for (const std::string& s : r.syscalls) put(k, s);
    k += "\n";
  }
  k += "groups " + std::to_string(p.groups.size()) + "\n";
  for (const auto& [name, list] : p.groups) {
    put(k, name);
    k += " " + std::to_string(list.size());
    for (const std::string& s : list) put(k, s);
    k += "\n";
  }
  return k;
}

void FilterCache::use_directory(std::string dir) {
  std::lock_guard<std::mutex> lock(mu_);
  dir_ = std::move(dir);
}

Result<seccomp::CompiledFilter> FilterCache::load_or_compile(const SeccompPolicy& policy,
                                                             const std::string& key) {
  const std::string file_key = dir_.empty() ? "" : seccomp::cache_key(key, {});
  if (!file_key.empty())
    if (auto cached = seccomp::read_cache_file(dir_, file_key)) return std::move(*cached);
  Result<seccomp::CompiledFilter> compiled = seccomp::compile(policy);
  // The disk copy is an optimisation: a run never fails because it could not be written.
  if (compiled.ok() && !file_key.empty())
    (void)seccomp::write_cache_file(dir_, file_key, *compiled);
  return compiled;
}

Result<std::shared_ptr<const seccomp::CompiledFilter>> FilterCache::get(
    const SeccompPolicy& policy) {
  if (!policy.enabled) return std::make_shared<const seccomp::CompiledFilter>();
  const std::string key = canonical_policy(policy);
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = filters_.find(key); it != filters_.end()) return it->second;
  Result<seccomp::CompiledFilter> compiled = load_or_compile(policy, key);
  if (!compiled.ok()) return compiled.error();
  auto shared = std::make_shared<const seccomp::CompiledFilter>(std::move(compiled).value());
  filters_.emplace(key, shared);
  return shared;
}

}  // namespace cell::runtime
