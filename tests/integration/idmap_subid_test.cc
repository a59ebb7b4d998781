// `cell run --idmap subid`: newuidmap/newgidmap give the sandbox the caller's uid as root and
// the caller's /etc/subuid range above it. The IdmapSubid tests run in integration_test_subid,
// as $CELL_TEST_SUBID_USER (tools/run-tests.sh creates cell-subid with the range
// 2000000000-2000065535); in the other runs they skip. Idmap.SubidWithoutARange* runs as
// whoever has no range (root and nobody here).
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "integration/common.hpp"
#include "support/subprocess.hpp"

namespace cell::test {
namespace {

std::string cell_binary() {
  const char* env = std::getenv("CELL_TEST_CELL");  // as-user.sh's copy, when it made one
  return env != nullptr && *env != '\0' ? env : CELL_BIN;
}

struct Range {
  std::uint64_t start = 0, count = 0;
};

// The first "NAME:START:COUNT" (or "UID:START:COUNT") line for this user: read here, not
// with the product's parser, so that a parser bug cannot hide.
std::optional<Range> range_in(const std::string& file, const std::string& name, uid_t uid) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    const std::size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string who = line.substr(0, a);
    if (who != name && who != std::to_string(uid)) continue;
    return Range{std::stoull(line.substr(a + 1, b - a - 1)), std::stoull(line.substr(b + 1))};
  }
  return std::nullopt;
}

bool helper_installed(const char* name) {
  for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"})
    if (::access((std::string(dir) + name).c_str(), X_OK) == 0) return true;
  return false;
}

std::string name_of(uid_t uid) {
  const passwd* pw = ::getpwuid(uid);
  return pw != nullptr ? pw->pw_name : std::to_string(uid);
}

// A sandbox root with CAP_CHOWN (kept as an ambient capability), a tmpfs at /scratch.
constexpr const char* kChownProfile =
    "name: subid-chown\n"
    "user: {uid: 0, gid: 0}\n"
    "capabilities: [CAP_CHOWN]\n"
    "mounts:\n"
    "  - {type: tmpfs, target: /scratch, size: 1M}\n";

TEST(IdmapSubid, MapsTheCallerToRootAndTheSubuidRangeAbove) {
  const char* user = std::getenv("CELL_TEST_SUBID_USER");
  // Unset: not asked for (run-tests.sh sets it as root), a skip even when strict. Set, every
  // other need is the environment's and fails when strict.
  if (user == nullptr || *user == '\0')
    GTEST_SKIP()
        << ("needs CELL_TEST_SUBID_USER: a user with /etc/subuid and /etc/subgid ranges "
            "(tools/run-tests.sh creates cell-subid and runs integration_test_subid as it)");
  const passwd* pw = ::getpwnam(user);
  if (pw == nullptr) CELL_MISSING("CELL_TEST_SUBID_USER=" + std::string(user) + ": no such user");
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  if (::geteuid() != uid)
    GTEST_SKIP() << "runs as " << user << " (integration_test_subid), not as uid " << ::geteuid();
  CELL_REQUIRE(Need::sandbox);
  if (!helper_installed("newuidmap") || !helper_installed("newgidmap"))
    CELL_MISSING("needs newuidmap and newgidmap (apt install uidmap)");
  const std::optional<Range> su = range_in("/etc/subuid", user, uid);
  const std::optional<Range> sg = range_in("/etc/subgid", user, uid);
  if (!su || !sg) CELL_MISSING(std::string(user) + " has no range in /etc/subuid or /etc/subgid");
  ASSERT_GE(su->count, 1001u) << "the range must hold sandbox uid 1000";

  const TempDir dir("cell-subid");
  ::chmod(dir.path().c_str(), 0755);
  dir.write("chown.yaml", kChownProfile);
  std::filesystem::create_directory(dir.sub("out"));
  const Finished f = run_command({cell_binary(), "run",
                                  "--idmap",     "subid",
                                  "--profile",   dir.sub("chown.yaml"),
                                  "--rootfs",    shared_rootfs().path(),
                                  "--bind",      dir.sub("out") + ":/out:rw",
                                  "--",          "/cell-probe",
                                  "ids",         "status",
                                  "write",       "/scratch/f",
                                  "chown",       "/scratch/f",
                                  "1000",        "1000",
                                  "stat",        "/scratch/f",
                                  "write",       "/out/g",
                                  "chown",       "/out/g",
                                  "1000",        "1000"});
  ASSERT_EQ(f.exit_code, 0) << f.describe();
  const Facts facts(f.out);
  const std::string line0 = "0 " + std::to_string(uid) + " 1";
  const std::string line1 = "1 " + std::to_string(su->start) + " " + std::to_string(su->count);
  EXPECT_EQ(facts.all("uid_map"), (std::vector<std::string>{line0, line1})) << f.out;
  EXPECT_EQ(facts.all("gid_map"), (std::vector<std::string>{"0 " + std::to_string(gid) + " 1",
                                                            "1 " + std::to_string(sg->start) + " " +
                                                                std::to_string(sg->count)}))
      << f.out;
  EXPECT_EQ(facts.get("uid"), "0") << f.out;
  EXPECT_EQ(facts.all("write"), (std::vector<std::string>{"ok", "ok"})) << f.out;
  // Only a mapped uid can own a file: with a one-line map, chown to 1000 is EINVAL.
  EXPECT_EQ(facts.all("chown"), (std::vector<std::string>{"ok", "ok"})) << f.out;
  EXPECT_EQ(facts.get("stat_uid"), "1000") << f.out;
  EXPECT_EQ(facts.get("stat_gid"), "1000") << f.out;
  // On the host, the bound file belongs to the subordinate id of sandbox uid 1000.
  struct stat st {};
  ASSERT_EQ(::stat(dir.sub("out/g").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, su->start + 999) << "sandbox uid 1000 is subuid start + 999 on the host";
  EXPECT_EQ(st.st_gid, sg->start + 999);
}

// Without a range for the caller, the run stops before anything starts, in one line naming
// the file and the fix.
TEST(Idmap, SubidWithoutARangeSaysWhereAndHow) {
  CELL_REQUIRE(Need::sandbox);
  const std::string name = name_of(::geteuid());
  if (range_in("/etc/subuid", name, ::geteuid()) && range_in("/etc/subgid", name, ::geteuid()))
    GTEST_SKIP() << name << " has /etc/subuid and /etc/subgid ranges";
  const Finished f = run_command({cell_binary(), "run", "--idmap", "subid", "--rootfs",
                                  shared_rootfs().path(), "--", "/cell-probe", "echo", "ran"});
  EXPECT_NE(f.exit_code, 0) << f.describe();
  EXPECT_EQ(f.signal, 0) << f.describe();
  EXPECT_EQ(f.out.find("ran"), std::string::npos) << "the program ran: " << f.describe();
  const std::vector<std::string> lines = f.err_lines();
  ASSERT_EQ(lines.size(), 1u) << "one line:\n" << f.err;
  EXPECT_NE(lines[0].find("/etc/subuid"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("usermod --add-subuids"), std::string::npos) << "no fix: " << lines[0];
  EXPECT_NE(lines[0].find("--idmap single"), std::string::npos) << "no way around: " << lines[0];
}

}  // namespace
}  // namespace cell::test
