#include "cgroup/sampler.hpp"

#include <algorithm>
#include <chrono>

#include "cgroup/fs.hpp"

namespace cell::cgroup {

PeakSampler::PeakSampler(std::vector<std::string> files)
    : files_(std::move(files)), peaks_(files_.size()) {
  sample();
  thread_ = std::thread([this] { loop(); });
}

PeakSampler::~PeakSampler() {
  stop();
}

void PeakSampler::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  sample();
}

std::optional<std::uint64_t> PeakSampler::peak(std::size_t i) {
  std::lock_guard lock(mu_);
  return i < peaks_.size() ? peaks_[i] : std::nullopt;
}

void PeakSampler::sample() {
  for (std::size_t i = 0; i < files_.size(); ++i) {
    const std::optional<std::uint64_t> v = fs::read_u64(files_[i]);
    if (!v) continue;
    std::lock_guard lock(mu_);
    peaks_[i] = std::max(peaks_[i].value_or(0), *v);
  }
}

void PeakSampler::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::nanoseconds(kIntervalNs));
    if (stopping_) break;
    lock.unlock();
    sample();
    lock.lock();
  }
}

}  // namespace cell::cgroup
