// One test per malicious or broken input class: nothing outside the image root is touched,
// the error names the blob or file and the problem, and a failed import leaves nothing.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "image/image_test_util.hpp"

namespace cell::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

TEST_F(HostileTest, DotDotPathIsRefused) {
  expect_refused(layout("lay", {{file("ok", "1"), file(dotdots() + "/pwned", "x")}}),
                 {"layer 1/1", "'..'"});
  expect_refused(layout("lay2", {{file("a/../../pwned", "x")}}), {"'..' component"});
}

TEST_F(HostileTest, AbsolutePathIsRefused) {
  expect_refused(layout("lay", {{file(outside + "/pwned", "x")}}), {"absolute path"});
}

TEST_F(HostileTest, SymlinkEscapeThenWriteStaysInside) {
  // Both symlinks point out of the root; writes through them land inside it, like in a chroot.
  Result<ImageInfo> r = import(
      layout("lay", {{symlink("abs", outside), symlink("rel", dotdots()), file("abs/pwned1", "1")},
                     {file("rel/pwned2", "2"), file("abs/secret", "overwritten?")}}));
  ASSERT_TRUE(r.ok()) << r.error().what();
  expect_outside_untouched();
  EXPECT_TRUE(fs::exists(r->rootfs + outside + "/pwned1"));
  EXPECT_TRUE(fs::exists(r->rootfs + outside + "/pwned2"));
  EXPECT_TRUE(fs::exists(r->rootfs + outside + "/secret"));
}

TEST_F(HostileTest, HardlinkToOutsideIsRefused) {
  expect_refused(layout("lay", {{hardlink("h", dotdots() + "/secret")}}),
                 {"refused hardlink", "'..'"});
  expect_refused(layout("lay2", {{hardlink("h", outside + "/secret")}}), {"absolute path"});
  // Through a symlink that points out: resolved inside the root, where there is no such file.
  expect_refused(layout("lay3", {{symlink("s", outside), hardlink("h", "s/secret")}}),
                 {"hardlink target 's/secret'"});
}

TEST_F(HostileTest, WhiteoutNamingDotDotIsRefused) {
  expect_refused(layout("lay", {{file("a/b", "1")}, {file("a/.wh...", "")}}),
                 {"whiteout names '..'"});
  expect_refused(layout("lay2", {{file("x", "1")}, {file(".wh..", "")}}), {"whiteout names '.'"});
}

TEST_F(HostileTest, BadDigestIsRefused) {
  write_simple_layout(tmp.sub("lay"), {{file("a", "1")}});
  // Corrupt the layer blob (the largest file apart from JSON) without changing its size.
  std::string layer;
  for (const auto& e : fs::directory_iterator(tmp.sub("lay/blobs/sha256"))) {
    std::ifstream in(e.path(), std::ios::binary);
    const std::string d(std::istreambuf_iterator<char>(in), {});
    if (!d.empty() && d[0] == '\x1f') layer = e.path();
  }
  ASSERT_FALSE(layer.empty());
  {
    std::fstream f(layer, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-6, std::ios::end);
    f.put('\x55');
  }
  expect_refused(
      "oci:" + tmp.sub("lay"),
      {"sha256:" + fs::path(layer).filename().string().substr(0, 12), "digest mismatch"});
}

TEST_F(HostileTest, UnknownMediaTypeIsRefused) {
  OciLayout lay(tmp.sub("lay"));
  lay.write_index({lay.image(
      {{make_tar({file("a", "1")}), "application/vnd.example.layer.v1.tar+lz4"}}, "latest")});
  expect_refused("oci:" + tmp.sub("lay"),
                 {"unknown media type 'application/vnd.example.layer.v1.tar+lz4'"});
}

TEST_F(HostileTest, TruncatedGzipIsRefused) {
  std::string gz =
      make_tar({file("big", std::string(200000, 'q')), file("after", "x")}, Compression::gzip);
  gz.resize(gz.size() / 2);  // the manifest describes the truncated blob: only gzip can tell
  OciLayout lay(tmp.sub("lay"));
  lay.write_index({lay.image({{gz, layer_media_type(Compression::gzip)}}, "latest")});
  expect_refused("oci:" + tmp.sub("lay"), {"layer 1/1", "runcated"});
}

TEST_F(HostileTest, DecompressionBombHitsTheSizeLimit) {
  ImageLimits limits;
  limits.max_unpacked_bytes = 1 << 20;
  expect_refused(layout("lay", {{file("zeros", std::string(8 << 20, '\0'))}}),
                 {"max_unpacked_bytes"}, limits);
}

TEST_F(HostileTest, AbsurdEntryCountsAndPathsHitTheirLimits) {
  ImageLimits limits;
  limits.max_entries = 100;
  std::vector<TarEntry> many;
  for (int i = 0; i < 200; ++i) many.push_back(file("f" + std::to_string(i), ""));
  expect_refused(layout("lay", {many}), {"max_entries"}, limits);
  ImageLimits paths;
  paths.max_path_bytes = 64;
  expect_refused(layout("lay2", {{file(std::string(100, 'p'), "")}}), {"max_path_bytes"}, paths);
  ImageLimits json_limit;
  json_limit.max_json_bytes = 100;
  expect_refused(layout("lay3", {{file("a", "")}}), {"max_json_bytes"}, json_limit);
}

TEST_F(HostileTest, BadJsonIsRefused) {
  write_simple_layout(tmp.sub("lay"), {{file("a", "1")}});
  std::ofstream(tmp.sub("lay/index.json")) << R"({"schemaVersion": 2, "manifests": [)";
  expect_refused("oci:" + tmp.sub("lay"), {"index.json", "invalid JSON"});
  // A manifest blob that is valid as a blob (digest matches) but not JSON.
  OciLayout lay(tmp.sub("lay2"));
  const std::string bad = "{not json";
  lay.write_index({{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                    {"digest", lay.blob(bad)},
                    {"size", bad.size()}}});
  expect_refused("oci:" + tmp.sub("lay2"), {"manifest sha256:", "invalid JSON"});
  // A config with a wrong type where a string list belongs.
  OciLayout lay3(tmp.sub("lay3"));
  lay3.write_index({lay3.image({{make_tar({file("a", "1")}), layer_media_type(Compression::none)}},
                               "latest", {{"config", {{"Env", "PATH=/bin"}}}})});
  expect_refused("oci:" + tmp.sub("lay3"), {"config sha256:", "'Env' is not an array of strings"});
}

TEST_F(HostileTest, SizeMismatchIsRefused) {
  OciLayout lay(tmp.sub("lay"));
  json desc = lay.image(
      {{make_tar({file("a", "1")}, Compression::gzip), layer_media_type(Compression::gzip)}},
      "latest");
  desc["size"] = desc["size"].get<int>() + 1;
  lay.write_index({desc});
  expect_refused("oci:" + tmp.sub("lay"), {"manifest sha256:", "size mismatch"});
}

TEST_F(HostileTest, BlobSymlinkInLayoutCannotReadHostFiles) {
  write_simple_layout(tmp.sub("lay"), {{file("a", "1")}});
  for (const auto& e : fs::directory_iterator(tmp.sub("lay/blobs/sha256"))) {
    fs::remove(e.path());
    fs::create_symlink(outside + "/secret", e.path());  // resolved inside the layout: missing
  }
  expect_refused("oci:" + tmp.sub("lay"), {"No such file"});
}

}  // namespace
}  // namespace cell::test
