// Compiles each distinct seccomp policy once per runtime.
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
  Result<std::shared_ptr<const seccomp::CompiledFilter>> get(const SeccompPolicy& policy);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const seccomp::CompiledFilter>> filters_;
};

}  // namespace cell::runtime
