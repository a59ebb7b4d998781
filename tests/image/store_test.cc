// The store: names, listing, removal while in use, export, shared blobs, index selection,
// docker-archive reading, crashed and concurrent imports.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "image/image_test_util.hpp"

namespace cell::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

using StoreTest = ImageStoreTest;

std::size_t count_files(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

TEST(ImageNames, ParseNameAndTag) {
  std::string n, t, why;
  ASSERT_TRUE(parse_image_name("python", n, t, why));
  EXPECT_EQ(n + ":" + t, "python:latest");
  ASSERT_TRUE(parse_image_name("localhost:5000/team/py-3.11:v1.2_x", n, t, why));
  EXPECT_EQ(n, "localhost:5000/team/py-3.11");
  EXPECT_EQ(t, "v1.2_x");
  EXPECT_FALSE(parse_image_name("Python", n, t, why));
  EXPECT_FALSE(parse_image_name("py:", n, t, why));
  EXPECT_FALSE(parse_image_name("py@sha256:00", n, t, why));
  EXPECT_FALSE(parse_image_name("a//b", n, t, why));
}

TEST_F(StoreTest, ImportListInspectRemove) {
  const std::string src = layout("py", {{file("usr/bin/python3", "#!", 0755)}});
  Result<ImageInfo> a = import(src, "python:3.11");
  ASSERT_TRUE(a.ok()) << a.error().what();
  EXPECT_EQ(a->names, std::vector<std::string>{"python:3.11"});
  EXPECT_EQ(a->env, std::vector<std::string>{"PATH=/usr/bin:/bin"});
  // A second name for the same image: no second tree.
  Result<ImageInfo> b = import(src, "python");
  ASSERT_TRUE(b.ok()) << b.error().what();
  EXPECT_EQ(a->id, b->id);
  Result<std::vector<ImageInfo>> all = store.list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].names.size(), 2u);
  Result<ImageInfo> by_id = store.inspect(a->id.substr(0, 12));
  ASSERT_TRUE(by_id.ok()) << by_id.error().what();
  EXPECT_EQ(by_id->id, a->id);
  // Removing one name keeps the image; removing the last deletes it and its blobs.
  Result<std::vector<std::string>> r1 = store.remove("python:3.11");
  ASSERT_TRUE(r1.ok()) << r1.error().what();
  EXPECT_EQ(*r1, std::vector<std::string>{"untagged python:3.11"});
  EXPECT_TRUE(fs::exists(a->rootfs));
  Result<std::vector<std::string>> r2 = store.remove("python");
  ASSERT_TRUE(r2.ok()) << r2.error().what();
  EXPECT_FALSE(fs::exists(a->rootfs));
  EXPECT_EQ(store_leftovers(), std::vector<std::string>{});
  Result<ImageInfo> gone = store.inspect("python");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind, ErrorKind::not_found);
}

TEST_F(StoreTest, RemoveIsRefusedWhileARunHoldsTheImage) {
  ASSERT_TRUE(import(layout("lay", {{file("a", "1")}}), "busy").ok());
  {
    Result<ImageLease> lease = store.acquire("busy");
    ASSERT_TRUE(lease.ok()) << lease.error().what();
    Result<std::vector<std::string>> r = store.remove("busy");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("in use"), std::string::npos) << r.error().what();
    EXPECT_TRUE(store.inspect("busy").ok());  // the name survives a refused removal
  }
  EXPECT_TRUE(store.remove("busy").ok());
}

TEST_F(StoreTest, LayersAreSharedBetweenImages) {
  const std::vector<TarEntry> base = {file("base/big", std::string(50000, 'b'))};
  // Uncompressed: gzip stamps the time, and the layers must be byte-identical.
  for (const char* name : {"one", "two"}) {
    OciLayout lay(tmp.sub(name));
    lay.write_index(
        {lay.image({{make_tar(base), layer_media_type(Compression::none)},
                    {make_tar({file(name, name)}), layer_media_type(Compression::none)}},
                   "latest")});
  }
  ASSERT_TRUE(import("oci:" + tmp.sub("one"), "one").ok());
  ASSERT_TRUE(import("oci:" + tmp.sub("two"), "two").ok());
  // base layer once, one top layer and one config each.
  EXPECT_EQ(count_files(data + "/images/blobs/sha256"), 5u);
  ASSERT_TRUE(store.remove("one").ok());
  EXPECT_EQ(count_files(data + "/images/blobs/sha256"), 3u);
  EXPECT_TRUE(fs::exists(store.inspect("two")->rootfs + "/base/big"));
}

TEST_F(StoreTest, ExportWritesTheFlattenedTree) {
  Result<ImageInfo> a =
      import(layout("lay", {{dir("d", 0750), file("d/f", "x", 0600), symlink("l", "d/f")}}), "exp");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(store.export_rootfs("exp", tmp.sub("out")).ok());
  EXPECT_EQ(snapshot(tmp.sub("out")), snapshot(a->rootfs));
  Result<void> again = store.export_rootfs("exp", tmp.sub("out"));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("not empty"), std::string::npos);
}

TEST_F(StoreTest, IndexPicksTheHostPlatformOrSaysWhichExist) {
  OciLayout lay(tmp.sub("multi"));
  json amd =
      lay.image({{make_tar({file("arch", "amd64")}), layer_media_type(Compression::none)}}, "");
  json arm = lay.image({{make_tar({file("arch", "arm64")}), layer_media_type(Compression::none)}},
                       "", {{"architecture", "arm64"}});
  amd["platform"] = {{"os", "linux"}, {"architecture", "amd64"}};
  arm["platform"] = {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"}};
  // Nested: index.json -> image index -> platform manifests (skopeo copy --all writes this).
  const std::string nested = json{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.index.v1+json"},
      {"manifests", {arm, amd}}}.dump();
  lay.write_index({{{"mediaType", "application/vnd.oci.image.index.v1+json"},
                    {"digest", lay.blob(nested)},
                    {"size", nested.size()},
                    {"annotations", {{"org.opencontainers.image.ref.name", "1.0"}}}}});
  Result<ImageInfo> r = import("oci:" + tmp.sub("multi") + ":1.0");
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(r->names, std::vector<std::string>{"multi:1.0"});
  EXPECT_EQ(slurp(r->rootfs + "/arch"), "amd64");
  OciLayout only_arm(tmp.sub("arm"));
  only_arm.write_index({arm});
  Result<ImageInfo> bad = import("oci:" + tmp.sub("arm"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(
      bad.error().message.find("no image for linux/amd64 in the index; it has: linux/arm64/v8"),
      std::string::npos)
      << bad.error().what();
}

TEST_F(StoreTest, SeveralTagsNeedAChoice) {
  OciLayout lay(tmp.sub("tags"));
  lay.write_index(
      {lay.image({{make_tar({file("v", "1")}), layer_media_type(Compression::none)}}, "v1"),
       lay.image({{make_tar({file("v", "2")}), layer_media_type(Compression::none)}}, "v2")});
  Result<ImageInfo> none = import("oci:" + tmp.sub("tags"));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("tags: v1, v2"), std::string::npos) << none.error().what();
  Result<ImageInfo> v2 = import("oci:" + tmp.sub("tags") + ":v2");
  ASSERT_TRUE(v2.ok()) << v2.error().what();
  EXPECT_EQ(slurp(v2->rootfs + "/v"), "2");
  Result<ImageInfo> v3 = import("oci:" + tmp.sub("tags") + ":v3");
  ASSERT_FALSE(v3.ok());
  EXPECT_NE(v3.error().message.find("no image tagged 'v3'"), std::string::npos);
}

TEST_F(StoreTest, DockerArchiveWithLegacyLayerDirectories) {
  // What `docker save` writes: <id>/layer.tar, a digest-named config, manifest.json, and a
  // symlink for a layer shared with another image.
  const std::string l1 = make_tar({file("etc/base", "b")}),
                    l2 = make_tar({file("etc/top", "t"), whiteout("etc", "base")});
  const json cfg = {{"architecture", "amd64"},
                    {"os", "linux"},
                    {"config", {{"Env", {"A=1"}}}},
                    {"rootfs", {{"type", "layers"}, {"diff_ids", {sha256_of(l1), sha256_of(l2)}}}}};
  const std::string cfg_text = cfg.dump();
  const std::string cfg_name = sha256_of(cfg_text).substr(7) + ".json";
  const json manifest = json::array({{{"Config", cfg_name},
                                      {"RepoTags", {"app:2"}},
                                      {"Layers", {"aaa/layer.tar", "bbb/layer.tar"}}}});
  std::ofstream(tmp.sub("docker.tar"), std::ios::binary)
      << make_tar({dir("aaa"), file("aaa/layer.tar", l1), dir("ccc"), file("ccc/layer.tar", l2),
                   dir("bbb"), symlink("bbb/layer.tar", "../ccc/layer.tar"),
                   file(cfg_name, cfg_text), file("manifest.json", manifest.dump())});
  Result<ImageInfo> r = import("docker-archive:" + tmp.sub("docker.tar"));
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(r->names, std::vector<std::string>{"app:2"});
  EXPECT_EQ(r->env, std::vector<std::string>{"A=1"});
  EXPECT_FALSE(fs::exists(r->rootfs + "/etc/base"));
  EXPECT_TRUE(fs::exists(r->rootfs + "/etc/top"));
  // A layer whose content does not match the config's diff_id.
  const json bad_cfg = {{"architecture", "amd64"},
                        {"os", "linux"},
                        {"rootfs", {{"type", "layers"}, {"diff_ids", {sha256_of(l2)}}}}};
  const std::string bad_text = bad_cfg.dump();
  const std::string bad_name = sha256_of(bad_text).substr(7) + ".json";
  std::ofstream(tmp.sub("bad.tar"), std::ios::binary) << make_tar(
      {file("x/layer.tar", l1), file(bad_name, bad_text),
       file("manifest.json",
            json::array({{{"Config", bad_name}, {"Layers", {"x/layer.tar"}}}}).dump())});
  Result<ImageInfo> bad = import("docker-archive:" + tmp.sub("bad.tar"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("diff_id"), std::string::npos) << bad.error().what();
}

TEST_F(StoreTest, InterruptedImportLeavesNothingAfterTheNextGc) {
  const std::string src =
      layout("lay", {{file("big", std::string(4 << 20, 'x'))}, {file("b", "2")}});
  ASSERT_TRUE(store.gc().ok());
  const pid_t pid = ::fork();
  if (pid == 0) {
    ImportOptions o;
    o.progress = [](const ImportProgress& p) {
      if (p.layer >= 1) ::raise(SIGKILL);  // killed in the middle of a layer
    };
    (void)store.import(src, o);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_NE(list_tree(data + "/images/tmp"), std::vector<std::string>{});
  EXPECT_EQ(list_tree(data + "/images/roots"), std::vector<std::string>{});
  ASSERT_TRUE(store.gc().ok());
  EXPECT_EQ(store_leftovers(), std::vector<std::string>{});
}

TEST_F(StoreTest, ConcurrentImportsOfOneImage) {
  const std::string src = layout("lay", {{file("a", std::string(1 << 20, 'a'))}, {file("b", "b")}});
  std::vector<Result<ImageInfo>> results(4, Error::make(ErrorKind::internal, "not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] { results[i] = import(src, "same:" + std::to_string(i)); });
  for (std::thread& t : threads) t.join();
  for (const auto& r : results) ASSERT_TRUE(r.ok()) << r.error().what();
  Result<std::vector<ImageInfo>> all = store.list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].names.size(), 4u);
  EXPECT_EQ(list_tree(data + "/images/tmp"), std::vector<std::string>{});
}

}  // namespace
}  // namespace cell::test
