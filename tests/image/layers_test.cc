// Layer application through the public import: whiteouts, opaque directories, replacement
// rules, metadata, compression, and the odd-but-real tarballs umoci writes.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "image/image_test_util.hpp"

namespace cell::test {
namespace {

namespace fs = std::filesystem;

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

using LayerTest = ImageStoreTest;

TEST_F(LayerTest, WhiteoutsAndOpaqueDirectoriesHideOnlyLowerLayers) {
  const std::string root = import_tree(layout(
      "lay", {{dir("a"), file("a/x", "x"), file("a/y", "y"), dir("b"), file("b/old", "old"),
               dir("b/sub"), file("b/sub/deep", "d"), file("c/keep", "k"), symlink("link", "a")},
              // Opaque marker after a child of the same layer: that child must stay.
              {whiteout("a", "x"), dir("b"), file("b/new", "new"), opaque("b"),
               whiteout("", "link"), file("d/e/f", "implicit parents")},
              {whiteout("", "c"), file("c", "now a file")}}));
  EXPECT_FALSE(exists(root + "/a/x"));
  EXPECT_EQ(read(root + "/a/y"), "y");
  EXPECT_FALSE(exists(root + "/b/old"));
  EXPECT_FALSE(exists(root + "/b/sub"));
  EXPECT_EQ(read(root + "/b/new"), "new");
  EXPECT_FALSE(exists(root + "/link"));
  EXPECT_EQ(read(root + "/c"), "now a file");
  EXPECT_EQ(read(root + "/d/e/f"), "implicit parents");
}

TEST_F(LayerTest, OpaqueMarkerKeepsSameLayerChildrenOfImplicitDirectories) {
  const std::string root = import_tree(layout(
      "lay", {{file("o/a/old", "1"), file("o/top", "2")}, {file("o/a/new", "3"), opaque("o")}}));
  EXPECT_EQ(read(root + "/o/a/new"), "3");
  EXPECT_FALSE(exists(root + "/o/a/old"));
  EXPECT_FALSE(exists(root + "/o/top"));
}

TEST_F(LayerTest, WhiteoutUnderAPathThatBecameASymlinkIsIgnored) {
  // umoci 0.4.7 writes this: a/ turned into a symlink to b/, plus a whiteout for a/x.
  const std::string root = import_tree(layout(
      "lay", {{file("a/x", "ax"), file("b/x", "bx")}, {symlink("a", "b"), whiteout("a", "x")}}));
  EXPECT_EQ(fs::read_symlink(root + "/a"), "b");
  EXPECT_EQ(read(root + "/b/x"), "bx");  // not deleted through the symlink
}

TEST_F(LayerTest, EntriesReplaceEachOther) {
  const std::string root =
      import_tree(layout("lay", {{file("d/x", "x"), symlink("s", "d"), file("f", "file")},
                                 {file("d", "a file replaces the directory"), dir("s"),
                                  file("s/in", "dir replaced the symlink"), dir("f")}}));
  EXPECT_EQ(read(root + "/d"), "a file replaces the directory");
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(root + "/s")));
  EXPECT_EQ(read(root + "/s/in"), "dir replaced the symlink");
  EXPECT_TRUE(fs::is_directory(root + "/f"));
}

TEST_F(LayerTest, WritesFollowSymlinksInsideTheRoot) {
  // Merged-/usr images: lib -> usr/lib; a later layer writes lib/x.
  const std::string root = import_tree(
      layout("lay", {{dir("usr/lib"), symlink("lib", "usr/lib"), symlink("abs", "/usr/lib")},
                     {file("lib/x", "via relative"), file("abs/y", "via absolute")}}));
  EXPECT_EQ(read(root + "/usr/lib/x"), "via relative");
  EXPECT_EQ(read(root + "/usr/lib/y"), "via absolute");
  EXPECT_EQ(fs::read_symlink(root + "/lib"), "usr/lib");
}

TEST_F(LayerTest, KeepsModesMtimesHardlinksSymlinksAndFifos) {
  TarEntry secret = file("etc/secret", "s", 0640);
  secret.mtime = 1600000000;
  TarEntry ro = dir("ro", 0555);
  ro.mtime = 1500000000;
  TarEntry fifo;
  fifo.type = TarEntry::Type::fifo;
  fifo.path = "run/fifo";
  fifo.mode = 0600;
  const std::string root = import_tree(
      layout("lay", {{secret, ro, file("ro/inside", "i", 0444), hardlink("etc/same", "etc/secret"),
                      symlink("etc/rel", "../ro/inside"), file("bin/tool", "#!", 04755), fifo}}));
  struct stat a {
  }, b{}, d{}, t{}, f{};
  ASSERT_EQ(::stat((root + "/etc/secret").c_str(), &a), 0);
  ASSERT_EQ(::stat((root + "/etc/same").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_mode & 07777, 0640u);
  EXPECT_EQ(a.st_mtim.tv_sec, 1600000000);
  ASSERT_EQ(::stat((root + "/ro").c_str(), &d), 0);
  EXPECT_EQ(d.st_mode & 07777, 0555u);  // set after its children were written
  EXPECT_EQ(d.st_mtim.tv_sec, 1500000000);
  EXPECT_EQ(fs::read_symlink(root + "/etc/rel"), "../ro/inside");
  ASSERT_EQ(::stat((root + "/bin/tool").c_str(), &t), 0);
  EXPECT_EQ(t.st_mode & 07777, 04755u);
  ASSERT_EQ(::lstat((root + "/run/fifo").c_str(), &f), 0);
  EXPECT_TRUE(S_ISFIFO(f.st_mode));
}

TEST_F(LayerTest, CreatesMountPointsForRuns) {
  const std::string root = import_tree(layout("lay", {{file("etc/os-release", "x")}}));
  for (const char* d : {"/proc", "/dev", "/sys", "/tmp", "/workspace"})
    EXPECT_TRUE(fs::is_directory(root + d)) << d;
  struct stat st {};
  ASSERT_EQ(::stat((root + "/tmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
}

TEST_F(LayerTest, UserXattrsAreKept) {
  TarEntry e = file("x", "data");
  e.xattrs = {{"user.cell.test", "value"}};
  const std::string root = import_tree(layout("lay", {{e}}));
  char buf[64] = {};
  const ssize_t n = ::getxattr((root + "/x").c_str(), "user.cell.test", buf, sizeof buf);
  if (n < 0 && errno == ENOTSUP) GTEST_SKIP() << "the temp filesystem has no user xattrs";
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0), "value");
}

TEST_F(LayerTest, DeviceNodesAreSkippedAndReportedWithoutRoot) {
  if (::geteuid() == 0) GTEST_SKIP() << "as root device nodes are created (see root_test)";
  TarEntry null;
  null.type = TarEntry::Type::chr;
  null.path = "dev/null";
  null.major = 1;
  null.minor = 3;
  null.mode = 0666;
  Result<ImageInfo> r = import(layout("lay", {{null, file("ok", "1")}}));
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_FALSE(exists(r->rootfs + "/dev/null"));
  bool reported = false;
  for (const std::string& w : r->warnings)
    reported = reported || w.find("dev/null") != std::string::npos;
  EXPECT_TRUE(reported);
}

TEST_F(LayerTest, CompressionsFlattenToTheSameTree) {
  const std::vector<TarEntry> entries = {dir("a", 0700), file("a/b", std::string(100000, 'z')),
                                         symlink("c", "a/b")};
  std::vector<std::map<std::string, std::string>> trees;
  for (Compression c : {Compression::none, Compression::gzip, Compression::zstd}) {
    const std::string d = tmp.sub("lay" + std::to_string(static_cast<int>(c)));
    OciLayout lay(d);
    lay.write_index({lay.image({{make_tar(entries, c), layer_media_type(c)}}, "latest")});
    trees.push_back(snapshot(import_tree("oci:" + d, "c" + std::to_string(static_cast<int>(c)))));
  }
  EXPECT_EQ(trees[0], trees[1]);
  EXPECT_EQ(trees[0], trees[2]);
}

TEST_F(LayerTest, ToleratesLayersWithoutEndOfArchiveOrFinalPadding) {
  // What `umoci insert` writes: the tar stops right after the last file's data.
  std::string cut = make_tar({file("etc/n", "n\n")}, Compression::none);
  cut.resize(512 + 2);  // header + data, no padding, no end-of-archive blocks
  std::string header_only = make_tar({whiteout("etc", "gone")}, Compression::none);
  header_only.resize(512);
  OciLayout lay(tmp.sub("lay"));
  lay.write_index({lay.image(
      {{make_tar({file("etc/gone", "g")}, Compression::none), layer_media_type(Compression::none)},
       {cut, layer_media_type(Compression::none)},
       {header_only, layer_media_type(Compression::none)}},
      "latest")});
  const std::string root = import_tree("oci:" + tmp.sub("lay"));
  EXPECT_EQ(read(root + "/etc/n"), "n\n");
  EXPECT_FALSE(exists(root + "/etc/gone"));
}

TEST_F(LayerTest, RootfsTarballAndDirectoryGiveTheSameTree) {
  const std::vector<TarEntry> entries = {dir("./", 0755),
                                         dir("./etc"),
                                         file("./etc/hostname", "h\n"),
                                         symlink("./bin", "usr/bin"),
                                         dir("./usr/bin"),
                                         file("./usr/bin/tool", "t", 0755)};
  {
    std::ofstream out(tmp.sub("root.tar.gz"), std::ios::binary);
    out << make_tar(entries, Compression::gzip);
  }
  const std::string from_tar = import_tree("rootfs-tar:" + tmp.sub("root.tar.gz"));
  const std::string from_dir = import_tree(from_tar, "copy");
  EXPECT_EQ(snapshot(from_tar), snapshot(from_dir));
  EXPECT_EQ(read(from_tar + "/usr/bin/tool"), "t");
}

}  // namespace
}  // namespace cell::test
