// Polls counters whose kernel has no peak file (memory.peak before 5.19, pids.peak before
// 6.12) and keeps the highest value seen. A short spike between two samples can be missed, so
// usage reports name the polled counter as the source.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace cell::cgroup {

class PeakSampler {
 public:
  static constexpr std::uint64_t kIntervalNs = 5000000;  // 5 ms

  // Starts a thread that reads each of `files` every kIntervalNs.
  explicit PeakSampler(std::vector<std::string> files);
  ~PeakSampler();
  PeakSampler(const PeakSampler&) = delete;
  PeakSampler& operator=(const PeakSampler&) = delete;

  // Takes a last sample and stops the thread (idempotent).
  void stop();
  // The highest value read from files[i], nullopt if it never could be read.
  std::optional<std::uint64_t> peak(std::size_t i);

 private:
  void sample();
  void loop();

  std::vector<std::string> files_;
  std::vector<std::optional<std::uint64_t>> peaks_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cell::cgroup
