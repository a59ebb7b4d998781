// An embedder with other threads. The child of clone3 carries a copy of the parent's memory,
// glibc's thread list and locks included: a run must not depend on what the other threads
// were doing at that instant.
#include <atomic>
#include <chrono>
#include <thread>

#include "integration/common.hpp"

namespace cell::test {
namespace {

// Another thread creates and joins short-lived threads without pause while the runs go on, so
// clones keep catching the parent in the middle of pthread_create. glibc's id setters, which the
// child once called, wait for such a half-made thread: the run hung until the setup timeout.
TEST(Embedding, RunsWhileAnotherThreadCreatesThreads) {
  CELL_REQUIRE(Need::sandbox);
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    while (!stop) std::thread([] {}).join();
  });
  for (int i = 0; i < 60; ++i) {
    RunSpec s = probe_spec({"exit", "0"});
    s.limits.wall_time = std::chrono::seconds(20);
    const auto t0 = std::chrono::steady_clock::now();
    const ProbeRun r = run_spec(s);
    const auto took = std::chrono::steady_clock::now() - t0;
    if (r.error || r.result.status != Status::ok || took > std::chrono::seconds(10)) {
      ADD_FAILURE() << "run " << i << " took "
                    << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                    << " ms: " << r.describe();
      break;
    }
  }
  stop = true;
  churn.join();
}

}  // namespace
}  // namespace cell::test
