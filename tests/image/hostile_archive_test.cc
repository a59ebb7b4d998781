// Hostile archive files and documents: tar members of oci-archive and docker-archive that aim
// outside or lie about their digest, JSON fields of the wrong type, unknown media types, and
// layers that are not what the config's diff_ids say. Each fails in one line and leaves nothing.
#include <filesystem>
#include <fstream>

#include "image/image_test_util.hpp"
#include "image/oci.hpp"

namespace cell::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kManifestType = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kConfigType = "application/vnd.oci.image.config.v1+json";
constexpr const char* kIndexType = "application/vnd.oci.image.index.v1+json";

class HostileArchiveTest : public HostileTest {
 protected:
  // A layout with one image (one uncompressed layer) under tmp/NAME; returns the directory.
  std::string one_image(const std::string& name, const json& config = json::object()) {
    OciLayout lay(tmp.sub(name));
    lay.write_index({lay.image({{make_tar({file("a", "1")}), layer_media_type(Compression::none)}},
                               "latest", config)});
    return lay.dir();
  }
  // An oci-archive of the layout `dir` with `extra` members appended; returns the source.
  std::string archive_of(const std::string& dir, const std::vector<TarEntry>& extra = {},
                         const std::string& name = "a.tar") {
    std::vector<TarEntry> entries = entries_of(dir);
    entries.insert(entries.end(), extra.begin(), extra.end());
    write_bytes(tmp.sub(name), make_tar(entries));
    return "oci-archive:" + tmp.sub(name);
  }
  // A layout whose index.json lists a manifest built from `manifest` (config and layers
  // filled in unless given), with `desc` merged into its descriptor.
  std::string custom(const std::string& name, json manifest, const json& desc = json::object(),
                     const json& config_patch = json::object()) {
    OciLayout lay(tmp.sub(name));
    const std::string layer = make_tar({file("a", "1")});
    json cfg = {{"os", "linux"},
                {"architecture", "amd64"},
                {"rootfs", {{"type", "layers"}, {"diff_ids", {sha256_of(layer)}}}}};
    if (config_patch.is_object()) cfg.merge_patch(config_patch);  // `{}` is null: nothing
    const std::string cfg_text = cfg.dump();
    json m = {
        {"schemaVersion", 2},
        {"mediaType", kManifestType},
        {"config",
         {{"mediaType", kConfigType}, {"digest", lay.blob(cfg_text)}, {"size", cfg_text.size()}}},
        {"layers",
         {{{"mediaType", layer_media_type(Compression::none)},
           {"digest", lay.blob(layer)},
           {"size", layer.size()}}}}};
    if (manifest.is_object()) m.merge_patch(manifest);
    const std::string text = m.dump();
    json d = {{"mediaType", kManifestType}, {"digest", lay.blob(text)}, {"size", text.size()}};
    if (desc.is_object()) d.merge_patch(desc);
    lay.write_index({d});
    return "oci:" + lay.dir();
  }
  // A docker-archive with one uncompressed layer and `manifest_patch` merged into its entry.
  std::string docker(const std::string& name, const json& manifest_patch) {
    const std::string layer = make_tar({file("a", "1")});
    const std::string cfg =
        json{{"os", "linux"}, {"rootfs", {{"type", "layers"}, {"diff_ids", {sha256_of(layer)}}}}}
            .dump();
    const std::string cfg_name = sha256_of(cfg).substr(7) + ".json";
    json entry = {{"Config", cfg_name}, {"RepoTags", {"d:1"}}, {"Layers", {"l/layer.tar"}}};
    entry.merge_patch(manifest_patch);
    write_bytes(tmp.sub(name), make_tar({file("l/layer.tar", layer), file(cfg_name, cfg),
                                         file("manifest.json", json::array({entry}).dump())}));
    return "docker-archive:" + tmp.sub(name);
  }
};

TEST(OciJson, WrongTypesAreErrorsNotExceptions) {
  const std::string d = "sha256:" + std::string(64, '0');
  const auto index_with = [&](const json& platform) {
    return json{
        {"schemaVersion", 2},
        {"manifests",
         {{{"mediaType", kManifestType}, {"digest", d}, {"size", 1}, {"platform", platform}}}}}
        .dump();
  };
  for (const auto& [platform, words] : std::vector<std::pair<json, std::string>>{
           {{{"os", 5}}, "platform: 'os' is not a string"},
           {{{"os", "linux"}, {"architecture", json::array()}}, "'architecture' is not a string"},
           {{{"variant", {{"a", 1}}}}, "'variant' is not a string"},
           {"linux", "'platform' is not an object"}}) {
    Result<image::Index> r = image::parse_index(index_with(platform), "index.json");
    ASSERT_FALSE(r.ok()) << platform.dump();
    EXPECT_NE(r.error().message.find("index.json: descriptor sha256:000000000000"),
              std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().message;
  }
  Result<image::ImageConfig> c =
      image::parse_config(R"({"config": {"Labels": {"a": 1}}})", "config x");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "config x: 'Labels' member 'a' is not a string");
}

TEST_F(HostileArchiveTest, WrongTypedJsonFieldsAreOneLineErrors) {
  expect_refused(custom("p1", {}, {{"platform", {{"os", 5}}}}),
                 {"index.json", "'os' is not a string"});
  expect_refused(custom("p2", {}, {{"annotations", json::array({"x"})}}),
                 {"index.json", "'annotations' is not an object"});
  expect_refused(custom("p3", {}, {{"annotations", {{"org.opencontainers.image.ref.name", 1}}}}),
                 {"index.json", "'annotations' member 'org.opencontainers.image.ref.name'"});
  expect_refused(custom("m1", {{"config", {{"digest", 5}}}}),
                 {"manifest sha256:", "'digest' is not a string"});
  expect_refused(custom("m2", {{"mediaType", 7}}),
                 {"manifest sha256:", "'mediaType' is not a string"});
  expect_refused(custom("c1", {}, {}, {{"os", 5}}), {"config sha256:", "'os' is not a string"});
  expect_refused(custom("c2", {}, {}, {{"rootfs", "layers"}}),
                 {"config sha256:", "'rootfs' is not an object"});
  expect_refused(custom("c3", {}, {}, {{"config", {{"Labels", {{"k", true}}}}}}),
                 {"config sha256:", "'Labels' member 'k' is not a string"});
  expect_refused(custom("c4", {}, {}, {{"rootfs", {{"diff_ids", {"md5:00"}}}}}),
                 {"config sha256:", "rootfs.diff_ids", "md5"});
  expect_refused(docker("d1.tar", {{"RepoTags", "d:1"}}),
                 {"manifest.json", "'RepoTags' is not an array of strings"});
  expect_refused(docker("d2.tar", {{"Layers", {5}}}),
                 {"manifest.json", "'Layers' is not an array of strings"});
  expect_refused(docker("d3.tar", {{"Config", 5}}), {"manifest.json", "'Config' is not a string"});
}

TEST_F(HostileArchiveTest, UnknownMediaTypesOfEveryDocumentAreRefused) {
  expect_refused(custom("idx-entry", {}, {{"mediaType", "application/vnd.example.manifest+json"}}),
                 {"index.json: unknown media type 'application/vnd.example.manifest+json'"});
  expect_refused(custom("manifest", {{"mediaType", "application/vnd.example.manifest+json"}}),
                 {"manifest sha256:",
                  "media type 'application/vnd.example.manifest+json' is not "
                  "an image manifest"});
  expect_refused(
      custom("config", {{"config", {{"mediaType", "application/vnd.example.cfg"}}}}),
      {"manifest sha256:", "config sha256:", "unknown media type 'application/vnd.example.cfg'"});
  // index.json itself, and a nested index, saying they are something else.
  const std::string dir = one_image("idx-own");
  json idx = json::parse(std::ifstream(dir + "/index.json"));
  idx["mediaType"] = "application/vnd.example.index+json";
  write_bytes(dir + "/index.json", idx.dump());
  expect_refused("oci:" + dir, {"index.json: media type 'application/vnd.example.index+json' is "
                                "not an image index"});
  OciLayout lay(tmp.sub("nested"));
  const json inner =
      lay.image({{make_tar({file("a", "1")}), layer_media_type(Compression::none)}}, "");
  const std::string nested =
      json{{"schemaVersion", 2}, {"mediaType", kManifestType}, {"manifests", {inner}}}.dump();
  lay.write_index(
      {{{"mediaType", kIndexType}, {"digest", lay.blob(nested)}, {"size", nested.size()}}});
  expect_refused("oci:" + lay.dir(), {"index sha256:", "is not an image index"});
}

// The store-poisoning attack: the real config of image L (so L's id) with another layer.
TEST_F(HostileArchiveTest, LayersMustMatchTheConfigsDiffIds) {
  const std::string real = make_tar({file("who", "legit")}, Compression::gzip);
  const std::string fake = make_tar({file("who", "evil")}, Compression::gzip);
  OciLayout legit(tmp.sub("legit"));
  legit.write_index({legit.image({{real, layer_media_type(Compression::gzip)}}, "latest")});
  // Same config bytes (same digest), the manifest lists the fake layer.
  json manifest;
  for (const auto& e : fs::directory_iterator(legit.dir() + "/blobs/sha256")) {
    std::ifstream in(e.path());
    const std::string text(std::istreambuf_iterator<char>(in), {});
    if (text.find("\"schemaVersion\"") != std::string::npos) manifest = json::parse(text);
  }
  ASSERT_TRUE(manifest.is_object());
  fs::create_directories(tmp.sub("evil"));
  fs::copy(legit.dir(), tmp.sub("evil"), fs::copy_options::recursive);
  OciLayout evil(tmp.sub("evil"));
  manifest["layers"][0]["digest"] = evil.blob(fake);
  manifest["layers"][0]["size"] = fake.size();
  const std::string mtext = manifest.dump();
  evil.write_index(
      {{{"mediaType", kManifestType}, {"digest", evil.blob(mtext)}, {"size", mtext.size()}}});
  expect_refused("oci:" + evil.dir(), {"layer 1/1 (" + sha256_of(fake).substr(0, 19) + ")",
                                       "uncompressed content hashes to " + diff_id_of(fake),
                                       "the config's diff_id is " + diff_id_of(real)});
  Result<ImageInfo> ok = import("oci:" + legit.dir(), "legit");
  ASSERT_TRUE(ok.ok()) << ok.error().what();
  EXPECT_TRUE(ok->warnings.empty() || ok->warnings[0] != "already imported; name updated");
  std::ifstream who(ok->rootfs + "/who");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(who), {}), "legit");
  ASSERT_TRUE(store.remove("legit").ok());
  // A zstd docker-archive layer is checked the same way.
  const std::string l1 = make_tar({file("a", "1")}),
                    l2 = make_tar({file("a", "2")}, Compression::zstd);
  const std::string cfg =
      json{{"os", "linux"}, {"rootfs", {{"type", "layers"}, {"diff_ids", {sha256_of(l1)}}}}}.dump();
  const std::string cfg_name = sha256_of(cfg).substr(7) + ".json";
  write_bytes(
      tmp.sub("d.tar"),
      make_tar({file("x/layer.tar", l2), file(cfg_name, cfg),
                file("manifest.json",
                     json::array({{{"Config", cfg_name}, {"Layers", {"x/layer.tar"}}}}).dump())}));
  expect_refused("docker-archive:" + tmp.sub("d.tar"),
                 {"layer 1/1", "hashes to " + diff_id_of(l2), "diff_id is " + sha256_of(l1)});
}

TEST_F(HostileArchiveTest, DiffIdCountMustMatchTheLayers) {
  expect_refused(
      custom("two", {}, {}, {{"rootfs", {{"diff_ids", {sha256_of("a"), sha256_of("b")}}}}}),
      {"config sha256:", "2 diff_ids for 1 layers"});
  expect_refused(custom("none", {}, {}, {{"rootfs", nullptr}}),
                 {"config sha256:", "no rootfs.diff_ids"});
}

TEST_F(HostileArchiveTest, ArchiveMembersAimingOutsideAreRefused) {
  const std::string dir = one_image("lay");
  for (const char* kind : {"oci", "docker"}) {
    SCOPED_TRACE(kind);
    const auto source = [&](const std::vector<TarEntry>& extra, const std::string& name) {
      if (std::string(kind) == "oci") return archive_of(dir, extra, name);
      std::vector<TarEntry> entries = extra;
      entries.push_back(file("manifest.json", "[]"));
      write_bytes(tmp.sub(name), make_tar(entries));
      return "docker-archive:" + tmp.sub(name);
    };
    expect_refused(source({file("../x", "x")}, "dotdot.tar"), {"member '../x'", "'..'"});
    expect_refused(source({file(dotdots() + "/pwned", "x")}, "deep.tar"), {"'..'"});
    expect_refused(source({file(outside + "/pwned", "x")}, "abs.tar"), {"absolute path"});
    expect_refused(source({hardlink("index.json", outside + "/secret")}, "hl.tar"),
                   {"refused link", "absolute path"});
    expect_refused(source({hardlink("blobs/x", "../../secret")}, "hl2.tar"),
                   {"refused link", "'..'"});
    EXPECT_FALSE(fs::exists(tmp.path() + "/x"));
    EXPECT_FALSE(fs::exists(data + "/images/x"));
  }
}

TEST_F(HostileArchiveTest, ArchiveSymlinksCannotReachHostFiles) {
  // The layer blob replaced by a symlink to a host file: resolved inside the archive, where
  // there is no such member.
  const std::string dir = one_image("lay");
  std::vector<TarEntry> entries;
  std::string layer_hex;
  for (const TarEntry& e : entries_of(dir)) {
    if (e.data.size() > 1000 && e.path.rfind("blobs/", 0) == 0) {  // the tar layer
      layer_hex = e.path.substr(13);
      entries.push_back(symlink(e.path, outside + "/secret"));
      continue;
    }
    entries.push_back(e);
  }
  ASSERT_FALSE(layer_hex.empty());
  write_bytes(tmp.sub("sym.tar"), make_tar(entries));
  expect_refused("oci-archive:" + tmp.sub("sym.tar"),
                 {"blob sha256:" + layer_hex, "not in the archive"});
  // docker-archive: the layer member is a relative symlink climbing out.
  const std::string cfg = json{{"os", "linux"}, {"rootfs", {{"diff_ids", json::array()}}}}.dump();
  write_bytes(
      tmp.sub("dsym.tar"),
      make_tar({symlink("l/layer.tar", dotdots() + "/secret"), file("c.json", cfg),
                file("manifest.json",
                     json::array({{{"Config", "c.json"}, {"Layers", {"l/layer.tar"}}}}).dump())}));
  expect_refused("docker-archive:" + tmp.sub("dsym.tar"),
                 {"layer 'l/layer.tar' is not in the archive"});
}

TEST_F(HostileArchiveTest, ArchiveMemberMustHashToItsName) {
  const std::string dir = one_image("lay");
  const std::string liar = "blobs/sha256/" + std::string(64, 'a');
  expect_refused(archive_of(dir, {file(liar, "not that")}),
                 {"blob sha256:aaaaaaaa", "digest mismatch", sha256_of("not that")});
  const std::string layer = make_tar({file("a", "1")});
  const std::string cfg = json{{"rootfs", {{"diff_ids", {sha256_of(layer)}}}}}.dump();
  const std::string cfg_name = std::string(64, 'b') + ".json";
  write_bytes(
      tmp.sub("d.tar"),
      make_tar({file("l/layer.tar", layer), file(cfg_name, cfg),
                file("manifest.json",
                     json::array({{{"Config", cfg_name}, {"Layers", {"l/layer.tar"}}}}).dump())}));
  expect_refused("docker-archive:" + tmp.sub("d.tar"),
                 {"config " + cfg_name, "digest mismatch", sha256_of(cfg)});
}

TEST_F(HostileArchiveTest, StagingHasATotalLimitAndSkipsUnreferencedMembers) {
  const std::string dir = one_image("lay");
  std::uint64_t needed = 0;
  for (const TarEntry& e : entries_of(dir)) needed += e.data.size();
  // 4 MiB nothing refers to: neither read nor counted, whatever the limits.
  std::string junk(4 << 20, '\0');
  for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>(i * 2654435761u >> 13);
  ImageLimits tight;
  tight.max_staged_bytes = needed + 16;
  tight.max_blob_bytes = 1 << 20;
  Result<ImageInfo> r =
      import(archive_of(dir, {file("junk/big.bin", junk), file("repositories", junk)}, "junk.tar"),
             "", tight);
  ASSERT_TRUE(r.ok()) << r.error().what();
  ASSERT_TRUE(store.remove(r->id).ok());
  // What is referenced counts.
  ImageLimits small;
  small.max_staged_bytes = needed / 2;
  expect_refused(archive_of(dir, {}, "plain.tar"), {"max_staged_bytes"}, small);
  ImageLimits total;
  total.max_staged_bytes = needed + (1 << 20);
  expect_refused(archive_of(dir, {file("blobs/sha256/x", junk)}, "big.tar"),
                 {"member 'blobs/sha256/x'", "max_staged_bytes"}, total);
}

}  // namespace
}  // namespace cell::test
