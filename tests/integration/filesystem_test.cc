// The sandbox's file system from inside: a read-only root (test rootfs and host image), a
// writable size-capped /tmp, /proc with runc's masked and read-only paths, a minimal /dev,
// /sys only when asked, and binds.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "integration/common.hpp"

namespace cell::test {
namespace {

using ::testing::AnyOf;
using ::testing::Eq;

// "mount=PATH FSTYPE ro|rw" facts -> the last mount at PATH ("" if none).
std::string mount_at(const Facts& f, const std::string& path) {
  std::string found;
  for (const std::string& m : f.all("mount"))
    if (m.substr(0, m.find(' ')) == path) found = m.substr(m.find(' ') + 1);
  return found;
}

TEST(RootFs, IsReadOnly) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r =
      run_probe({"write", "/new-file", "mkdir", "/new-dir", "write", "/cell-probe", "mounts"});
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  const std::vector<std::string> writes = r.facts.all("write");
  ASSERT_EQ(writes.size(), 2u) << r.describe();
  EXPECT_EQ(writes[0], "EROFS");
  EXPECT_EQ(writes[1], "EROFS");
  EXPECT_EQ(r.facts.get("mkdir"), "EROFS");
  EXPECT_THAT(mount_at(r.facts, "/"), ::testing::EndsWith(" ro")) << r.describe();
}

TEST(RootFs, RootfsWithoutMountPointsStillWorksAndStaysUntouched) {
  CELL_REQUIRE(Need::sandbox);
  const TestRootfs bare(TestRootfs::Options{false, false});  // no /proc /dev /tmp /sys
  const ProbeRun r = run_probe({"write", "/new-file", "write", "/tmp/x", "ls", "/proc/self"},
                               [&](RunSpec& s) { s.rootfs = bare.path(); });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  const std::vector<std::string> writes = r.facts.all("write");
  ASSERT_EQ(writes.size(), 2u) << r.describe();
  EXPECT_EQ(writes[0], "EROFS");
  EXPECT_EQ(writes[1], "ok");
  EXPECT_EQ(r.facts.get("ls"), "ok");
  for (const char* d : {"proc", "dev", "tmp", "sys", "new-file"})
    EXPECT_FALSE(std::filesystem::exists(bare.dir().sub(d))) << d << " appeared in the rootfs";
}

TEST(RootFs, HostImageIsReadOnly) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"write", "/etc/passwd", "write", "/usr/cell-test", "mkdir",
                                "/new-dir", "read", "/etc/passwd"},
                               use_host_image);
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  for (const std::string& w : r.facts.all("write")) EXPECT_EQ(w, "EROFS") << r.describe();
  EXPECT_EQ(r.facts.get("mkdir"), "EROFS");
  EXPECT_EQ(r.facts.get("read"), "ok") << "the host image has an /etc/passwd of its own";
}

TEST(Tmp, IsWritable) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"write", "/tmp/f", "read", "/tmp/f", "mounts"});
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.get("write"), "ok");
  EXPECT_EQ(r.facts.get("bytes"), "1");
  EXPECT_EQ(mount_at(r.facts, "/tmp"), "tmpfs rw");
}

TEST(Tmp, IsSizeCapped) {
  CELL_REQUIRE(Need::sandbox);
  Profile p = builtin("standard");
  bool found = false;
  for (Mount& m : p.mounts)
    if (m.target == "/tmp") {
      m.size_bytes = 1 << 20;
      found = true;
    }
  ASSERT_TRUE(found) << "the standard profile has no /tmp tmpfs";
  const ProbeRun r = run_probe({"fill", "/tmp/big", "8388608"}, [&](RunSpec& s) {
    s.profile_value = p;
    s.limits.fsize_bytes = 64 << 20;  // the tmpfs, not RLIMIT_FSIZE, must stop it
  });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.get("fill"), "ENOSPC") << r.describe();
  const long long written = std::stoll(r.facts.get("written"));
  EXPECT_GT(written, 0);
  EXPECT_LE(written, 1 << 20);
}

TEST(Proc, MaskedAndReadOnlyPaths) {
  CELL_REQUIRE(Need::sandbox);
  // runc's maskedPaths and readonlyPaths that exist on this kernel.
  std::vector<std::string> masked, readonly;
  for (const char* m :
       {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi"})
    if (::access(m, F_OK) == 0) masked.emplace_back(m);
  for (const char* ro : {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"})
    if (::access(ro, F_OK) == 0) readonly.emplace_back(ro);
  std::vector<std::string> args = {"mounts", "write", "/proc/sys/kernel/hostname"};
  for (const std::string& m : masked) {
    std::error_code ec;
    args.insert(args.end(), {std::filesystem::is_directory(m, ec) ? "ls" : "read", m});
  }
  const ProbeRun r = run_probe(args);
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(mount_at(r.facts, "/proc"), "proc rw");
  for (const std::string& m : masked) EXPECT_NE(mount_at(r.facts, m), "") << m << " not masked";
  for (const std::string& ro : readonly)
    EXPECT_THAT(mount_at(r.facts, ro), ::testing::EndsWith(" ro")) << ro;
  EXPECT_THAT(r.facts.get("write"), AnyOf(Eq("EROFS"), Eq("EACCES")));
  EXPECT_TRUE(r.facts.all("entry").empty()) << "a masked directory shows entries";
  for (const std::string& b : r.facts.all("bytes")) EXPECT_EQ(b, "0") << "a masked file has data";
}

TEST(Dev, IsMinimal) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r =
      run_probe({"ls", "/dev", "write", "/dev/null", "write", "/dev/full", "open", "/dev/urandom",
                 "open", "/dev/zero", "open", "/dev/ptmx", "write", "/dev/shm/x", "mounts"});
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(as_set(r.facts.all("entry")),
            (std::set<std::string>{"null", "zero", "full", "random", "urandom", "tty", "pts",
                                   "ptmx", "shm", "fd", "stdin", "stdout", "stderr"}));
  EXPECT_EQ(r.facts.all("write"), (std::vector<std::string>{"ok", "ENOSPC", "ok"}))
      << "/dev/null, /dev/full, /dev/shm/x";
  EXPECT_EQ(r.facts.all("open"), (std::vector<std::string>{"ok", "ok", "ok"}));
  EXPECT_THAT(mount_at(r.facts, "/dev"), ::testing::StartsWith("tmpfs"));
  EXPECT_THAT(mount_at(r.facts, "/dev/pts"), ::testing::StartsWith("devpts"));
  EXPECT_EQ(mount_at(r.facts, "/dev/shm"), "tmpfs rw");
}

// Rootless, the single-uid map makes the program the owner of the /dev tmpfs: it must be
// sealed read-only once populated (/dev/shm and /dev/pts are mounts of their own).
TEST(Dev, TheProgramCannotAddNodes) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun r = run_probe({"write", "/dev/new-file", "mkdir", "/dev/new-dir"});
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_NE(r.facts.get("write"), "ok") << "the program created /dev/new-file";
  EXPECT_NE(r.facts.get("mkdir"), "ok") << "the program created /dev/new-dir";
}

TEST(Sys, AbsentUnlessAsked) {
  CELL_REQUIRE(Need::sandbox);
  const ProbeRun rootfs = run_probe({"ls", "/sys", "mounts"});
  ASSERT_EQ(rootfs.result.status, Status::ok) << rootfs.describe();
  EXPECT_EQ(mount_at(rootfs.facts, "/sys"), "");
  EXPECT_TRUE(rootfs.facts.all("entry").empty()) << "the rootfs's empty /sys shows entries";
  const ProbeRun host = run_probe({"ls", "/sys"}, use_host_image);
  ASSERT_EQ(host.result.status, Status::ok) << host.describe();
  EXPECT_EQ(host.facts.get("ls"), "ENOENT");
}

TEST(Sys, ReadOnlyWhenAsked) {
  CELL_REQUIRE(Need::sandbox);
  Profile p = builtin("standard");
  p.mount_sys = true;
  const ProbeRun r = run_probe({"ls", "/sys", "write", "/sys/kernel/cell-test", "mounts"},
                               [&](RunSpec& s) { s.profile_value = p; });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(mount_at(r.facts, "/sys"), "sysfs ro");
  EXPECT_TRUE(contains(r.facts.all("entry"), "kernel")) << r.describe();
  EXPECT_THAT(r.facts.get("write"), AnyOf(Eq("EROFS"), Eq("EACCES")));
  if (::access("/sys/firmware", F_OK) == 0) {
    EXPECT_NE(mount_at(r.facts, "/sys/firmware"), "") << "/sys/firmware not masked";
  }
}

TEST(Binds, ReadOnlyByDefaultWritableWhenAsked) {
  CELL_REQUIRE(Need::sandbox);
  TempDir ro("cell-bind-ro"), rw("cell-bind-rw");
  ro.write("hello", "hi\n");
  // World-writable: the sandbox user maps to a host uid that does not own the directory.
  std::filesystem::permissions(ro.path(), std::filesystem::perms(0755));
  std::filesystem::permissions(rw.path(), std::filesystem::perms(0777));
  const ProbeRun r = run_probe(
      {"read", "/data/hello", "write", "/data/new", "write", "/out/result"}, [&](RunSpec& s) {
        s.mounts.push_back({Mount::Kind::bind, ro.path(), "/data", false, 0, "test"});
        s.mounts.push_back({Mount::Kind::bind, rw.path(), "/out", true, 0, "test"});
      });
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.get("bytes"), "3");
  EXPECT_EQ(r.facts.all("write"), (std::vector<std::string>{"EROFS", "ok"}));
  EXPECT_EQ(rw.read("result"), "x") << "the write did not reach the host directory";
  EXPECT_FALSE(std::filesystem::exists(ro.sub("new")));
}

}  // namespace
}  // namespace cell::test
