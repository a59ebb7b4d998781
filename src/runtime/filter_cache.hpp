// Compiles each distinct seccomp policy once per runtime, and once per machine when the
// runtime has a cache directory: compiled programs are kept there between processes, so a
// `cell run` with a policy seen before skips libseccomp entirely.
#pragma once

#include <cell/error.hpp>
#include <cell/profile.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "seccomp/seccomp.hpp"

namespace cell::runtime {

class FilterCache {
 public:
  // Where compiled programs are kept between processes ("" turns that off). Created 0700 on
  // first use; see seccomp/cache_file.hpp for what is trusted.
  void use_directory(std::string dir);

  Result<std::shared_ptr<const seccomp::CompiledFilter>> get(const SeccompPolicy& policy);

 private:
  Result<seccomp::CompiledFilter> load_or_compile(const SeccompPolicy& policy,
                                                  const std::string& key);

  std::mutex mu_;
  std::string dir_;
  std::map<std::string, std::shared_ptr<const seccomp::CompiledFilter>> filters_;
};

// An unambiguous text of everything in `policy` that affects the compiled program.
std::string canonical_policy(const SeccompPolicy& policy);

}  // namespace cell::runtime
