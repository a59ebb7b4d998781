#include "plan/plan.hpp"

namespace cell::plan {

const char* Plan::keep(std::string s) {
  strings_.push_back(std::move(s));
  return strings_.back().c_str();
}

int Plan::own(UniqueFd fd) {
  fds_.push_back(std::move(fd));
  return fds_.back().get();
}

void Plan::add_rlimit(int resource, std::uint64_t soft, std::uint64_t hard, std::string name) {
  child::RlimitOp op;
  op.resource = resource;
  op.value.rlim_cur = soft == UINT64_MAX ? RLIM_INFINITY : soft;
  op.value.rlim_max = hard == UINT64_MAX ? RLIM_INFINITY : hard;
  rlimits_.push_back(op);
  rlimit_names.push_back(std::move(name));
}

void Plan::set_exec(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                    const std::vector<std::string>& candidates) {
  argv_.clear();
  envp_.clear();
  exec_paths_.clear();
  for (const std::string& a : argv) argv_.push_back(const_cast<char*>(keep(a)));
  argv_.push_back(nullptr);
  for (const std::string& e : env) envp_.push_back(const_cast<char*>(keep(e)));
  envp_.push_back(nullptr);
  exec_candidates = candidates;
  for (const std::string& c : candidates) exec_paths_.push_back(keep(c));
}

void Plan::finalize(const seccomp::CompiledFilter* filter) {
  view.mounts = ops_.data();
  view.n_mounts = ops_.size();
  view.rlimits = rlimits_.data();
  view.n_rlimits = rlimits_.size();
  view.exec_paths = exec_paths_.data();
  view.n_exec_paths = exec_paths_.size();
  view.argv = argv_.data();
  view.envp = envp_.data();
  if (filter != nullptr && !filter->program.empty()) {
    prog_.len = static_cast<unsigned short>(filter->program.size());
    prog_.filter = const_cast<sock_filter*>(filter->program.data());
    view.seccomp = &prog_;
  } else {
    view.seccomp = nullptr;
  }
}

}  // namespace cell::plan
