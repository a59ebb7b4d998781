// config/profile_cache: the cached form of a profile is the parsed profile, field for field,
// and a cache entry is used only when it is the caller's own and well-formed.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "base/io.hpp"
#include "config/profile_cache.hpp"
#include "support/temp_dir.hpp"

namespace cell::config {
namespace {

namespace fs = std::filesystem;

const std::string kEverything = CELL_TEST_DATA "/profiles/valid/everything.yaml";

void expect_same(const Profile& a, const Profile& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.uid, b.uid);
  EXPECT_EQ(a.gid, b.gid);
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.network, b.network);
  EXPECT_EQ(a.mount_sys, b.mount_sys);
  const Limits &x = a.limits, &y = b.limits;
  EXPECT_EQ(x.cpu_time, y.cpu_time);
  EXPECT_EQ(x.wall_time, y.wall_time);
  EXPECT_EQ(x.memory_bytes, y.memory_bytes);
  EXPECT_EQ(x.pids, y.pids);
  EXPECT_EQ(x.cpus, y.cpus);
  EXPECT_EQ(x.cpuset, y.cpuset);
  EXPECT_EQ(x.output_bytes, y.output_bytes);
  EXPECT_EQ(x.fsize_bytes, y.fsize_bytes);
  EXPECT_EQ(x.nofile, y.nofile);
  EXPECT_EQ(x.stack_bytes, y.stack_bytes);
  ASSERT_EQ(a.mounts.size(), b.mounts.size());
  for (std::size_t i = 0; i < a.mounts.size(); ++i) {
    EXPECT_EQ(a.mounts[i].kind, b.mounts[i].kind);
    EXPECT_EQ(a.mounts[i].source, b.mounts[i].source);
    EXPECT_EQ(a.mounts[i].target, b.mounts[i].target);
    EXPECT_EQ(a.mounts[i].writable, b.mounts[i].writable);
    EXPECT_EQ(a.mounts[i].size_bytes, b.mounts[i].size_bytes);
    EXPECT_EQ(a.mounts[i].origin, b.mounts[i].origin);
  }
  EXPECT_EQ(a.env, b.env);
  EXPECT_EQ(a.capabilities, b.capabilities);
  EXPECT_EQ(a.seccomp.enabled, b.seccomp.enabled);
  EXPECT_EQ(a.seccomp.default_action, b.seccomp.default_action);
  ASSERT_EQ(a.seccomp.rules.size(), b.seccomp.rules.size());
  for (std::size_t i = 0; i < a.seccomp.rules.size(); ++i) {
    EXPECT_EQ(a.seccomp.rules[i].action, b.seccomp.rules[i].action);
    EXPECT_EQ(a.seccomp.rules[i].syscalls, b.seccomp.rules[i].syscalls);
  }
  EXPECT_EQ(a.seccomp.groups, b.seccomp.groups);
}

TEST(ProfileCodec, EveryBuiltinAndAProfileUsingEveryKeyRoundTrip) {
  std::vector<Profile> profiles;
  for (const std::string& name : builtin_profile_names()) profiles.push_back(*load_profile(name));
  Result<Profile> everything = load_profile_file(kEverything);
  ASSERT_TRUE(everything.ok()) << everything.error().what();
  profiles.push_back(*everything);
  for (const Profile& p : profiles) {
    SCOPED_TRACE(p.source);
    const std::optional<Profile> back = decode_profile(encode_profile(p));
    ASSERT_TRUE(back.has_value());
    expect_same(*back, p);
  }
}

TEST(ProfileCodec, AnythingElseIsRefused) {
  const std::string good = encode_profile(*load_profile("standard"));
  EXPECT_FALSE(decode_profile("").has_value());
  EXPECT_FALSE(decode_profile("{}").has_value());
  EXPECT_FALSE(decode_profile(good.substr(0, good.size() / 2)).has_value());
  std::string other_format = good;
  other_format.replace(other_format.find("\"format\":1"), 10, "\"format\":2");
  EXPECT_FALSE(decode_profile(other_format).has_value());
}

class ProfileCache : public ::testing::Test {
 protected:
  [[nodiscard]] std::vector<std::string> entries() const {
    std::vector<std::string> out;
    if (fs::exists(dir_))
      for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().string());
    return out;
  }
  test::TempDir tmp_{"cell-profile-cache"};
  std::string dir_ = tmp_.sub("profiles");
};

TEST_F(ProfileCache, ABuiltinProfileIsStoredThenReadBack) {
  const std::optional<Profile> first = cached_builtin_profile("standard", dir_);
  if (!first) GTEST_SKIP() << "this build has no GNU build-id: the cache is off";
  expect_same(*first, *load_profile("standard"));
  ASSERT_EQ(entries().size(), 1u);
  const std::string file = entries()[0];
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  // The entry is what a second process reads: changed by its owner, the change shows.
  Profile edited = *first;
  edited.hostname = "from-the-cache";
  ASSERT_TRUE(write_file_atomic(file, encode_profile(edited), 0600).ok());
  EXPECT_EQ(cached_builtin_profile("standard", dir_)->hostname, "from-the-cache");

  // Another profile, another entry.
  ASSERT_TRUE(cached_builtin_profile("hardened", dir_).has_value());
  EXPECT_EQ(entries().size(), 2u);
}

TEST_F(ProfileCache, BadOrForeignEntriesAreParsedAgain) {
  if (!cached_builtin_profile("standard", dir_)) GTEST_SKIP() << "no build-id: the cache is off";
  const std::string file = entries().at(0);
  Profile edited = *load_profile("standard");
  edited.hostname = "forged";
  for (const std::string& bytes :
       {std::string("not json"), std::string(), encode_profile(edited).substr(0, 100)}) {
    ASSERT_TRUE(write_file_atomic(file, bytes, 0600).ok());
    const std::optional<Profile> p = cached_builtin_profile("standard", dir_);
    ASSERT_TRUE(p.has_value());
    expect_same(*p, *load_profile("standard"));
  }
  // Well-formed but writable by others: not trusted.
  ASSERT_TRUE(write_file_atomic(file, encode_profile(edited), 0600).ok());
  ASSERT_EQ(::chmod(file.c_str(), 0666), 0);
  EXPECT_EQ(cached_builtin_profile("standard", dir_)->hostname, "cell");
}

TEST_F(ProfileCache, OnlyBuiltinNamesAreCached) {
  EXPECT_FALSE(cached_builtin_profile(kEverything, dir_).has_value());
  EXPECT_FALSE(cached_builtin_profile("no-such-profile", dir_).has_value());
  EXPECT_TRUE(entries().empty());
}

}  // namespace
}  // namespace cell::config
