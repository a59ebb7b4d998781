// seccomp/cache_file: names and the checks a cached program must pass to be used.
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "seccomp/cache_file.hpp"
#include "support/temp_dir.hpp"

namespace cell::seccomp {
namespace {

namespace fs = std::filesystem;

CompiledFilter sample(bool notify) {
  CompiledFilter f;
  f.program = {{BPF_LD | BPF_W | BPF_ABS, 0, 0, 4}, {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW}};
  f.notify = notify;
  return f;
}

TEST(SeccompCacheKey, IsAHexDigestThatChangesWithThePolicyAndTheOptions) {
  const std::string a = cache_key("policy a", {});
  if (a.empty()) GTEST_SKIP() << "this build has no GNU build-id: the disk cache is off";
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
  EXPECT_EQ(cache_key("policy a", {}), a);
  EXPECT_NE(cache_key("policy b", {}), a);
  CompileOptions kill;
  kill.notify_kills = false;
  EXPECT_NE(cache_key("policy a", kill), a);
}

TEST(SeccompCacheFile, RoundTripsAndRejectsWhatItDidNotWrite) {
  test::TempDir tmp("cell-seccomp-cache");
  const std::string dir = tmp.sub("cache");
  const std::string key(64, 'a'), other(64, 'b');
  EXPECT_FALSE(read_cache_file(dir, key).has_value()) << "no directory yet";
  ASSERT_TRUE(write_cache_file(dir, key, sample(true)).ok());
  const auto back = read_cache_file(dir, key);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->program.size(), 2u);
  EXPECT_EQ(back->program[1].k, static_cast<std::uint32_t>(SECCOMP_RET_ALLOW));
  EXPECT_TRUE(back->notify);
  EXPECT_FALSE(read_cache_file(dir, other).has_value());

  // Moved under another key's name: the header names the key it was written for.
  fs::rename(dir + "/" + key + ".bpf", dir + "/" + other + ".bpf");
  EXPECT_FALSE(read_cache_file(dir, other).has_value());
  // Not a 64-character key, or no program: nothing is read or written.
  EXPECT_FALSE(read_cache_file(dir, "../x").has_value());
  EXPECT_FALSE(write_cache_file(dir, key, CompiledFilter{}).ok());
  // A symlink in place of the file is not followed.
  ASSERT_TRUE(write_cache_file(dir, other, sample(false)).ok());
  fs::create_symlink(dir + "/" + other + ".bpf", dir + "/" + key + ".bpf");
  EXPECT_FALSE(read_cache_file(dir, key).has_value());
  EXPECT_TRUE(read_cache_file(dir, other).has_value());
}

TEST(SeccompCacheFile, ManyEntriesEmptyTheDirectory) {
  test::TempDir tmp("cell-seccomp-cache");
  const std::string dir = tmp.sub("cache");
  for (int i = 0; i < 100; ++i) {
    std::string key = std::to_string(i);
    key.resize(64, 'c');
    ASSERT_TRUE(write_cache_file(dir, key, sample(false)).ok());
  }
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  EXPECT_LE(n, 64u);
  EXPECT_GE(n, 1u);
}

}  // namespace
}  // namespace cell::seccomp
