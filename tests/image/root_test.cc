// As root, imports keep owners and create device nodes; the same import as an unprivileged
// user keeps what it can and says what it could not.
#include <grp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "image/image_test_util.hpp"

namespace cell::test {
namespace {

namespace fs = std::filesystem;

class RootImportTest : public ImageStoreTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  }
  std::vector<TarEntry> entries() const {
    TarEntry owned = file("home/app/data", "d", 0640);
    owned.uid = 1000;
    owned.gid = 1001;
    TarEntry dir_owned = dir("var/www", 0750);
    dir_owned.uid = 33;
    dir_owned.gid = 33;
    TarEntry link = symlink("home/app/link", "data");
    link.uid = 1000;
    link.gid = 1001;
    TarEntry null;
    null.type = TarEntry::Type::chr;
    null.path = "dev/null";
    null.major = 1;
    null.minor = 3;
    null.mode = 0666;
    TarEntry suid = file("usr/bin/su", "#!", 04755);
    return {dir("home/app", 0755), owned, link, dir_owned, null, suid};
  }
};

TEST_F(RootImportTest, KeepsOwnersAndCreatesDeviceNodes) {
  Result<ImageInfo> r = import(layout("lay", {entries()}));
  ASSERT_TRUE(r.ok()) << r.error().what();
  struct stat st {};
  ASSERT_EQ(::stat((r->rootfs + "/home/app/data").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1001u);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  ASSERT_EQ(::lstat((r->rootfs + "/home/app/link").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  ASSERT_EQ(::stat((r->rootfs + "/var/www").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 33u);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  ASSERT_EQ(::stat((r->rootfs + "/usr/bin/su").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);  // chmod after chown, which clears set-id bits
  ASSERT_EQ(::lstat((r->rootfs + "/dev/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(r->warnings, std::vector<std::string>{});
}

TEST_F(RootImportTest, AnUnprivilegedImportKeepsWhatItCanAndSaysWhatItCannot) {
  const std::string src = layout("lay", {entries()});
  const std::string own_data = tmp.sub("nobody-data");
  fs::create_directories(own_data);
  ::chown(own_data.c_str(), 65534, 65534);
  ::chmod(tmp.path().c_str(), 0755);
  ::chmod(tmp.sub("lay").c_str(), 0755);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0)
      ::_exit(10);
    Result<ImageStore> s = ImageStore::open(own_data);
    Result<ImageInfo> r = s->import(src);
    if (!r.ok()) ::_exit(11);
    struct stat st {};
    if (::stat((r->rootfs + "/home/app/data").c_str(), &st) != 0 || st.st_uid != 65534 ||
        (st.st_mode & 07777) != 0640)
      ::_exit(12);
    if (::lstat((r->rootfs + "/dev/null").c_str(), &st) == 0) ::_exit(13);
    bool said_devices = false, said_owners = false;
    for (const std::string& w : r->warnings) {
      said_devices = said_devices || w.find("skipped 1 device node(s)") != std::string::npos;
      said_owners = said_owners || w.find("owners are not kept") != std::string::npos;
    }
    ::_exit(said_devices && said_owners ? 0 : 14);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "10 drop privileges, 11 import, 12 owner/mode, 13 device, 14 warnings";
}

}  // namespace
}  // namespace cell::test
