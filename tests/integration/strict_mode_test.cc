// CELL_TEST_STRICT=1 (tools/run-tests.sh): a host need that is missing fails the test instead
// of skipping it; a root/rootless mismatch still skips. Checked on this very binary, run in a
// user namespace whose max_user_namespaces is 0, where no sandbox can be made.
#include <unistd.h>

#include <climits>

#include "integration/common.hpp"
#include "support/subprocess.hpp"

namespace cell::test {
namespace {

std::string self_path() {
  char buf[PATH_MAX] = {};
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// This binary, as root of a user namespace that may not create user namespaces, running the
// one test `filter` with CELL_TEST_STRICT=`strict`.
Finished run_blocked(const std::string& filter, const std::string& strict) {
  CommandOptions o;
  o.env = {"CELL_TEST_STRICT=" + strict};
  return run_command({"/usr/bin/unshare", "-U", "-r", "/bin/sh", "-c",
                      "echo 0 > /proc/sys/user/max_user_namespaces || exit 90\nexec \"$@\"", "sh",
                      self_path(), "--gtest_filter=" + filter},
                     o);
}

TEST(StrictMode, AMissingHostNeedFailsOnlyWhenStrict) {
  CELL_REQUIRE(Need::userns);
  if (::access("/usr/bin/unshare", X_OK) != 0) CELL_MISSING("needs /usr/bin/unshare (util-linux)");
  ASSERT_FALSE(self_path().empty());
  // A test that needs a sandbox (and nothing about root or rootless).
  const std::string needs_sandbox = "LoggedSyscall.RunsAndTheRunIsOk";
  const Finished strict = run_blocked(needs_sandbox, "1");
  ASSERT_NE(strict.exit_code, 90) << strict.describe();
  EXPECT_NE(strict.exit_code, 0) << strict.describe();
  EXPECT_NE(strict.out.find("[  FAILED  ] " + needs_sandbox), std::string::npos)
      << strict.describe();
  EXPECT_NE(strict.out.find("needs user namespaces"), std::string::npos) << strict.describe();
  const Finished relaxed = run_blocked(needs_sandbox, "0");
  EXPECT_EQ(relaxed.exit_code, 0) << relaxed.describe();
  EXPECT_NE(relaxed.out.find("[  SKIPPED ] " + needs_sandbox), std::string::npos)
      << relaxed.describe();
  // Root of that namespace runs a rootless-only test: not this run's test, a skip even when
  // strict (and although user namespaces are missing too).
  const std::string rootless_only = "Identity.RootlessMapsOnlyTheCallersOwnIds";
  const Finished mode = run_blocked(rootless_only, "1");
  EXPECT_EQ(mode.exit_code, 0) << mode.describe();
  EXPECT_NE(mode.out.find("[  SKIPPED ] " + rootless_only), std::string::npos) << mode.describe();
}

}  // namespace
}  // namespace cell::test
