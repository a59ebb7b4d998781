// Leaf::kill_all against the real hierarchy, outside any pid namespace (where the namespace
// cannot help): a tree that keeps forking is stopped whole, and a second kill_all or one on
// an empty leaf is harmless.
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "cgroup/cgroup.hpp"
#include "cgroup/fs.hpp"
#include "integration/common.hpp"

namespace cell::test {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<cgroup::Driver> driver_or_skip(std::string& why) {
  if (::geteuid() != 0) {
    why = "needs root (a writable cgroup)";
    return nullptr;
  }
  auto d = cgroup::detect({});
  if (!d.ok()) {
    why = "no usable cgroup: " + d.error().what();
    return nullptr;
  }
  return std::move(d).value();
}

// Forks a process that, once released, runs `body`. Returns its pid; closing *go releases it.
template <class Body>
pid_t spawn(int* go, Body body) {
  int p[2];
  if (::pipe(p) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[1]);
    char c;
    while (::read(p[0], &c, 1) < 0) {
    }
    body();
    ::_exit(0);
  }
  ::close(p[0]);
  *go = p[1];
  return pid;
}

// A chain that never stands still: each process forks its successor and exits, so a pid read
// from cgroup.procs is usually gone (its successor not yet listed) when the kill arrives.
void hop_forever() {
  for (;;) {
    const pid_t p = ::fork();
    if (p > 0) ::_exit(0);
    if (p < 0) ::usleep(100);
  }
}

// Every process forks without end, bounded by the leaf's pids limit.
void fork_forever() {
  for (;;)
    if (::fork() < 0) ::usleep(100);
}

bool leaf_empty(const cgroup::Leaf& leaf) {
  return cgroup::fs::procs(leaf.path()).empty();
}

TEST(KillAll, StopsATreeThatKeepsForking) {
  std::string why;
  auto driver = driver_or_skip(why);
  if (!driver) GTEST_SKIP() << why;
  cgroup::LeafLimits limits;
  limits.pids = 32;  // keeps the tree small on the host if anything went wrong
  // Several rounds, each a fresh race between the kill and the forks.
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto leaf = driver->create(cgroup::next_leaf_name(), limits);
    ASSERT_TRUE(leaf.ok()) << leaf.error().what();
    int go1 = -1, go2 = -1;
    const pid_t tree = spawn(&go1, fork_forever);
    const pid_t chain = spawn(&go2, hop_forever);
    ASSERT_GT(tree, 0);
    ASSERT_GT(chain, 0);
    ASSERT_TRUE((*leaf)->join(tree).ok());
    ASSERT_TRUE((*leaf)->join(chain).ok());
    ::close(go1);
    ::close(go2);
    std::this_thread::sleep_for(5ms);

    ASSERT_TRUE((*leaf)->kill_all().ok());
    // One kill_all is enough: whatever forked meanwhile was killed while frozen, and what is
    // left only has to die. Nothing may still be running (forking) a moment later.
    std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(leaf_empty(**leaf)) << cgroup::fs::procs((*leaf)->path()).size() << " left";
    EXPECT_TRUE((*leaf)->kill_all().ok()) << "again";
    EXPECT_TRUE((*leaf)->destroy().ok());
    ::waitpid(tree, nullptr, 0);
    ::waitpid(chain, nullptr, 0);
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(KillAll, AnEmptyLeafIsLeftAsItIs) {
  std::string why;
  auto driver = driver_or_skip(why);
  if (!driver) GTEST_SKIP() << why;
  auto leaf = driver->create(cgroup::next_leaf_name(), {});
  ASSERT_TRUE(leaf.ok()) << leaf.error().what();
  EXPECT_TRUE((*leaf)->kill_all().ok());
  EXPECT_TRUE((*leaf)->kill_all().ok());
  // The leaf still takes and stops a process afterwards (it was not left frozen).
  int go = -1;
  const pid_t pid = spawn(&go, fork_forever);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE((*leaf)->join(pid).ok());
  ::close(go);
  ASSERT_TRUE((*leaf)->kill_all().ok());
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  EXPECT_TRUE((*leaf)->destroy().ok());
}

}  // namespace
}  // namespace cell::test
