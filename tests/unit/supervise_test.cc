// supervise + make_verdict over a real process standing in for a sandbox whose setup hangs (no
// namespaces needed): the setup timeout kills it, and its death must not pass for an execve.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>

#include "base/sys.hpp"
#include "launch/supervise.hpp"
#include "launch/verdict.hpp"

namespace cell::launch {
namespace {

// A child that holds the write ends of the report and status pipes, as the sandbox's pid 1
// and payload do before execve, and never gets further.
Launched hung_setup() {
  int report[2], status[2];
  EXPECT_EQ(::pipe2(report, O_CLOEXEC), 0);
  EXPECT_EQ(::pipe2(status, O_CLOEXEC), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(report[0]);
    ::close(status[0]);
    for (;;) ::pause();
  }
  ::close(report[1]);
  ::close(status[1]);
  Launched l;
  l.pid = pid;
  l.pidfd.reset(sys::pidfd_open(pid));
  l.report.reset(report[0]);
  l.status.reset(status[0]);
  return l;
}

TEST(Supervise, HungSetupIsASetupErrorNotASignal) {
  Launched l = hung_setup();
  ASSERT_TRUE(l.pidfd.valid());
  SuperviseConfig cfg;
  cfg.setup_timeout_ns = 200'000'000;
  cfg.wall_ns = 10'000'000'000;
  const auto t0 = std::chrono::steady_clock::now();
  const Outcome o = supervise(l, cfg);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(o.killed, KillReason::setup_timeout);
  EXPECT_FALSE(o.exec_seen) << "the killed process's closed report pipe was taken for an execve";
  EXPECT_LT(took, std::chrono::seconds(5));

  VerdictInputs in;
  in.outcome = &o;
  const RunResult r = make_verdict(in);
  EXPECT_EQ(r.status, Status::setup_error) << r.message;
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->errno_name, "ETIMEDOUT");
}

}  // namespace
}  // namespace cell::launch
