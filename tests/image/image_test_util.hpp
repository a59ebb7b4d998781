// A temporary data directory with an image store, for tests that import.
#pragma once

#include <gtest/gtest.h>
#include <cell/image.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "image/fixtures.hpp"
#include "image/safe_fs.hpp"
#include "support/temp_dir.hpp"

namespace cell::test {

// A whole file's bytes ("" if it cannot be read).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class ImageStoreTest : public ::testing::Test {
 protected:
  TempDir tmp{"cell-image-test"};
  std::string data = tmp.sub("data");
  ImageStore store = ImageStore::open(data).value();

  // Image trees may hold read-only directories that a plain recursive delete cannot empty
  // without root.
  ~ImageStoreTest() override { (void)image::remove_tree(tmp.path()); }

  Result<ImageInfo> import(const std::string& source, const std::string& name = "",
                           const ImageLimits& limits = {}) {
    ImportOptions o;
    o.name = name;
    o.limits = limits;
    return store.import(source, o);
  }
  // Imports `source` and returns the flattened tree's path (fails the test otherwise).
  std::string import_tree(const std::string& source, const std::string& name = "") {
    Result<ImageInfo> r = import(source, name);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().what());
    return r.ok() ? r->rootfs : std::string("/nonexistent");
  }
  // Everything an import may leave: work directories, images, blobs.
  std::vector<std::string> store_leftovers() const {
    std::vector<std::string> out;
    for (const char* sub : {"/images/tmp", "/images/roots", "/images/blobs/sha256"})
      for (const std::string& n : list_tree(data + sub)) out.push_back(sub + n);
    return out;
  }
  // A layout under tmp with one image made of `layers` (gzip).
  std::string layout(const std::string& name, const std::vector<std::vector<TarEntry>>& layers) {
    write_simple_layout(tmp.sub(name), layers);
    return "oci:" + tmp.sub(name);
  }
};

// Hostile inputs: a sentinel directory outside the store that they aim at, and a check that a
// refused import names the problem in one line, leaves nothing and touches nothing outside.
class HostileTest : public ImageStoreTest {
 protected:
  // A directory outside the store that hostile layers aim at.
  std::string outside = tmp.sub("outside");
  void SetUp() override {
    std::filesystem::create_directories(outside);
    std::ofstream(outside + "/secret") << "host secret";
  }
  // Imports, expects failure mentioning every `words`, and checks nothing was left or touched.
  void expect_refused(const std::string& source, const std::vector<std::string>& words,
                      const ImageLimits& limits = {}) {
    Result<ImageInfo> r = import(source, "", limits);
    ASSERT_FALSE(r.ok()) << "import of " << source << " succeeded";
    const std::string msg = r.error().what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    for (const std::string& w : words)
      EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
    EXPECT_EQ(store_leftovers(), std::vector<std::string>{}) << msg;
    expect_outside_untouched();
  }
  void expect_outside_untouched() {
    EXPECT_EQ(list_tree(outside), std::vector<std::string>{"/secret"});
    std::ifstream in(outside + "/secret");
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "host secret");
  }
  // A relative path from the image root to `outside`, as deep as any store path needs.
  std::string dotdots() const { return "../../../../../../../../../../../../.." + outside; }
};

}  // namespace cell::test
