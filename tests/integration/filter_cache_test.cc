// The on-disk cache of compiled seccomp programs (runtime dir /seccomp): a run leaves one entry
// per policy, and an entry that is damaged, or that someone else could have written, is
// ignored: the run still gets the profile's filter (a denied syscall is still denied).
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "integration/common.hpp"
#include "seccomp/cache_file.hpp"

namespace cell::test {
namespace {

namespace fs = std::filesystem;

// A runtime of its own per call: a new process as far as the in-memory cache is concerned.
class FilterCacheTest : public ::testing::Test {
 protected:
  // As root the sandbox's mapped users must reach the stage under it, as under /run/cell.
  void SetUp() override { ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0); }

  RunResult run(const std::vector<std::string>& args, const std::string& profile = "standard") {
    RuntimeOptions o;
    o.runtime_dir = dir_.path();
    Result<Runtime> rt = Runtime::open(o);
    EXPECT_TRUE(rt.ok()) << rt.error().what();
    if (!rt.ok()) return {};
    RunSpec spec = probe_spec(args);
    spec.profile = profile;
    Result<RunResult> r = rt->run(spec);
    EXPECT_TRUE(r.ok()) << r.error().what();
    return r.ok() ? std::move(r).value() : RunResult{};
  }

  // ptrace is denied by the standard profile: the run must end on it, whatever the cache held.
  void expect_ptrace_denied() {
    const RunResult r = run({"echo", "before", "syscall", "ptrace", "echo", "after"});
    EXPECT_EQ(r.status, Status::seccomp_violation) << r.message << "\n" << r.stdout_.data;
    ASSERT_TRUE(r.violation.has_value()) << r.message;
    EXPECT_EQ(r.violation->syscall, "ptrace");
    EXPECT_EQ(r.stdout_.data.find("after"), std::string::npos) << r.stdout_.data;
  }

  [[nodiscard]] std::vector<std::string> entries() const {
    std::vector<std::string> out;
    if (!fs::exists(cache_dir())) return out;
    for (const auto& e : fs::directory_iterator(cache_dir()))
      if (e.path().extension() == ".bpf") out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  [[nodiscard]] std::string cache_dir() const { return dir_.sub("seccomp"); }

  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void overwrite(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }

  // Writes a valid entry under `path`'s key whose program allows every syscall.
  void forge_allow_all(const std::string& path) const {
    seccomp::CompiledFilter allow_all;
    allow_all.program = {{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW}};
    const std::string key = fs::path(path).stem().string();
    ASSERT_TRUE(fs::remove(path));
    const Result<void> w = seccomp::write_cache_file(cache_dir(), key, allow_all);
    ASSERT_TRUE(w.ok()) << w.error().what();
  }

  // ptrace got through to the kernel: the forged program was used.
  void expect_ptrace_allowed() {
    const RunResult r = run({"echo", "before", "syscall", "ptrace", "echo", "after"});
    EXPECT_EQ(r.status, Status::ok) << r.message;
    EXPECT_NE(r.stdout_.data.find("after"), std::string::npos) << r.stdout_.data;
  }

  TempDir dir_{"cell-filter-cache"};
};

TEST_F(FilterCacheTest, ARunLeavesOneEntryPerPolicyOwnedByTheCaller) {
  CELL_REQUIRE(Need::sandbox);
  expect_ptrace_denied();
  const std::vector<std::string> first = entries();
  ASSERT_EQ(first.size(), 1u);
  struct stat st {};
  ASSERT_EQ(::stat(first[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat(cache_dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, ::geteuid());

  expect_ptrace_denied();  // the same policy again: the same entry
  EXPECT_EQ(entries(), first);

  const RunResult other = run({"echo", "hi"}, "hardened");
  EXPECT_EQ(other.status, Status::ok) << other.message;
  const std::vector<std::string> both = entries();
  ASSERT_EQ(both.size(), 2u) << "a different policy gets a different entry";
  EXPECT_TRUE(std::find(both.begin(), both.end(), first[0]) != both.end());
}

TEST_F(FilterCacheTest, ADamagedEntryIsIgnoredAndReplaced) {
  CELL_REQUIRE(Need::sandbox);
  expect_ptrace_denied();
  ASSERT_EQ(entries().size(), 1u);
  const std::string path = entries()[0];
  const std::string good = read(path);
  ASSERT_GT(good.size(), 200u);

  const std::vector<std::pair<std::string, std::string>> damages = {
      {"truncated mid-program", good.substr(0, good.size() - 12)},
      {"truncated to the header", good.substr(0, 100)},
      {"empty", ""},
      {"one program byte changed", good.substr(0, good.size() - 1) + char(good.back() ^ 1)},
      {"magic changed", "X" + good.substr(1)},
      {"garbage", std::string(good.size(), '\xff')},
  };
  for (const auto& [what, bytes] : damages) {
    SCOPED_TRACE(what);
    overwrite(path, bytes);
    expect_ptrace_denied();
    EXPECT_EQ(read(path), good) << "the entry is written again";
  }
}

TEST_F(FilterCacheTest, AnEntryOthersCouldHaveWrittenIsNotTrusted) {
  CELL_REQUIRE(Need::sandbox);
  expect_ptrace_denied();
  const std::string path = entries().at(0);
  // Control: a well-formed entry that only this user could have written is used as it is
  // (the trust model: the caller's own uid), which is what makes the two cases below tests.
  forge_allow_all(path);
  expect_ptrace_allowed();
  // The same entry, group/world-writable: anyone may have written it, so it does not count.
  forge_allow_all(path);
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  expect_ptrace_denied();
  // A private file in a directory others can write (they could have swapped it in).
  forge_allow_all(path);
  ASSERT_EQ(::chmod(cache_dir().c_str(), 0777), 0);
  expect_ptrace_denied();
  ASSERT_EQ(::chmod(cache_dir().c_str(), 0700), 0);
}

}  // namespace
}  // namespace cell::test
