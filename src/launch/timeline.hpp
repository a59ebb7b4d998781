// The parent-side phases of one run with their durations, for CELL_DEBUG_TIMING (the CLI
// prints them through RuntimeOptions::log). The child is not timed from inside (it may not
// allocate or log): its steps show as the time between the events the parent sees.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.hpp"
#include "launch/launcher.hpp"

namespace cell::launch {

class Timeline {
 public:
  explicit Timeline(std::uint64_t start_ns) : start_(start_ns), last_(start_ns) {}

  // `phase` took from the previous mark until `at_ns` (now by default). A zero `at_ns` (an
  // event that was not seen) is skipped.
  void mark(const char* phase, std::uint64_t at_ns = monotonic_ns()) {
    if (at_ns == 0) return;
    phases_.emplace_back(phase, at_ns > last_ ? at_ns - last_ : 0);
    if (at_ns > last_) last_ = at_ns;
  }

  // "timing: profile 512 us, seccomp 31 us, ..., total 4803 us"
  [[nodiscard]] std::string describe() const {
    std::string s = "timing:";
    for (const auto& [name, ns] : phases_) s += " " + std::string(name) + " " + us(ns) + " us,";
    return s + " total " + us(last_ - start_) + " us";
  }

 private:
  static std::string us(std::uint64_t ns) { return std::to_string((ns + 500) / 1000); }

  std::uint64_t start_, last_;
  std::vector<std::pair<const char*, std::uint64_t>> phases_;
};

// The launch steps as the parent saw them end: clone3, cgroup join, id maps, go byte.
inline void mark_launch(Timeline& tl, const Launched& l) {
  tl.mark("clone", l.cloned_ns);
  tl.mark("join", l.joined_ns);
  tl.mark("maps", l.mapped_ns);
  tl.mark("go", l.go_ns);
}

}  // namespace cell::launch
