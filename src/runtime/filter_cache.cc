#include "runtime/filter_cache.hpp"

namespace cell::runtime {

namespace {

// A canonical text of everything that affects the compiled program.
std::string policy_key(const SeccompPolicy& p) {
  std::string k = to_string(p.default_action) + "|";
  for (const SeccompRule& r : p.rules) {
    k += to_string(r.action) + ":";
    for (const std::string& s : r.syscalls) k += s + ",";
    k += ";";
  }
  for (const auto& [name, list] : p.groups) {
    k += "@" + name + "=";
    for (const std::string& s : list) k += s + ",";
  }
  return k;
}

}  // namespace

Result<std::shared_ptr<const seccomp::CompiledFilter>> FilterCache::get(const SeccompPolicy& policy) {
  const std::string key = policy_key(policy);
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = filters_.find(key); it != filters_.end()) return it->second;
  Result<seccomp::CompiledFilter> compiled = seccomp::compile(policy);
  if (!compiled.ok()) return compiled.error();
  auto shared = std::make_shared<const seccomp::CompiledFilter>(std::move(compiled).value());
  filters_.emplace(key, shared);
  return shared;
}

}  // namespace cell::runtime
