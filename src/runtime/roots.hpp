// Where a run's root comes from: the host view, a directory, or an imported image.
#pragma once

#include <cell/error.hpp>
#include <cell/image.hpp>
#include <cell/runtime.hpp>

#include <memory>
#include <string>
#include <vector>

#include "plan/plan.hpp"

namespace cell::runtime {

struct ResolvedRoot {
  plan::RootSource source;
  std::vector<std::string> env;       // an image's Env ("KEY=VALUE"), defaults for the run
  std::shared_ptr<ImageLease> lease;  // holds the image against `cell image rm` for the run
};

Result<ResolvedRoot> resolve_root(const RunSpec& spec, const std::string& data_dir);

// Sets the image's Env in `p`, except for keys the request itself sets: image values replace
// the profile's defaults (an image's PATH knows where its programs are), `--env` wins over both.
void apply_image_env(Profile& p, const RunSpec& spec, const ResolvedRoot& root);

}  // namespace cell::runtime
