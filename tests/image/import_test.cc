// The import itself: cancelling it (library flag, and `cell image import` under SIGTERM/SIGINT),
// the name it reports, layer sizes of docker-archives, and `rm` racing with an import that
// found its image already in the store.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "image/image_test_util.hpp"

namespace cell::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

using ImportTest = ImageStoreTest;

// Imports `source` with a progress callback that sets the cancel flag in `phase`.
Result<ImageInfo> import_cancelled_in(const ImageStore& store, const std::string& source,
                                      const std::string& phase, bool* seen) {
  std::atomic<bool> cancel{false};
  ImportOptions o;
  o.cancel = &cancel;
  o.progress = [&](const ImportProgress& p) {
    if (p.phase == phase) {
      *seen = true;
      cancel = true;
    }
  };
  return store.import(source, o);
}

void expect_interrupted(const Result<ImageInfo>& r) {
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("import interrupted"), std::string::npos) << r.error().what();
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
}

TEST_F(ImportTest, CancelStopsTheImportAndLeavesNothing) {
  const std::string src =
      layout("lay", {{file("big", std::string(3 << 20, 'x'))}, {file("b", "2")}});
  bool seen = false;
  expect_interrupted(import_cancelled_in(store, src, "layer", &seen));
  EXPECT_TRUE(seen);
  EXPECT_EQ(store_leftovers(), std::vector<std::string>{});
  // While staging an oci-archive.
  write_bytes(tmp.sub("a.tar"), make_tar(entries_of(tmp.sub("lay"))));
  seen = false;
  expect_interrupted(
      import_cancelled_in(store, "oci-archive:" + tmp.sub("a.tar"), "reading archive", &seen));
  EXPECT_TRUE(seen);
  EXPECT_EQ(store_leftovers(), std::vector<std::string>{});
  // Set before the import starts (a directory source is packed first).
  fs::create_directories(tmp.sub("tree/etc"));
  std::atomic<bool> cancel{true};
  ImportOptions o;
  o.cancel = &cancel;
  expect_interrupted(store.import(tmp.sub("tree"), o));
  EXPECT_EQ(store_leftovers(), std::vector<std::string>{});
  // Unset, the same imports work.
  cancel = false;
  Result<ImageInfo> ok = store.import(src, o);
  EXPECT_TRUE(ok.ok()) << ok.error().what();
}

TEST_F(ImportTest, TheResultNamesWhatThisImportGave) {
  const std::string src = layout("lay", {{file("a", "1")}});
  ASSERT_TRUE(import(src, "alpha").ok());
  Result<ImageInfo> z = import(src, "zeta:2");
  ASSERT_TRUE(z.ok()) << z.error().what();
  EXPECT_EQ(z->imported_as, "zeta:2");
  EXPECT_EQ(z->names, (std::vector<std::string>{"alpha:latest", "zeta:2"}));
  EXPECT_EQ(json::parse(z->to_json())["imported_as"], "zeta:2");
  EXPECT_TRUE(store.inspect("zeta:2")->imported_as.empty());
}

TEST_F(ImportTest, DockerArchiveLayersHaveTheirSizes) {
  const std::string l1 = make_tar({file("etc/a", std::string(100000, 'a'))}, Compression::gzip);
  const std::string l2 = make_tar({file("etc/b", "b")});
  const std::string cfg =
      json{{"os", "linux"},
           {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id_of(l1), diff_id_of(l2)}}}}}
          .dump();
  const std::string cfg_name = sha256_of(cfg).substr(7) + ".json";
  write_bytes(
      tmp.sub("d.tar"),
      make_tar({file("1/layer.tar", l1), file("2/layer.tar", l2), file(cfg_name, cfg),
                file("manifest.json", json::array({{{"Config", cfg_name},
                                                    {"Layers", {"1/layer.tar", "2/layer.tar"}}}})
                                          .dump())}));
  std::uint64_t layer_total = 0;
  ImportOptions o;
  o.progress = [&](const ImportProgress& p) {
    if (p.phase == "layer") layer_total = p.bytes_total;
  };
  Result<ImageInfo> r = store.import("docker-archive:" + tmp.sub("d.tar"), o);
  ASSERT_TRUE(r.ok()) << r.error().what();
  ASSERT_EQ(r->layers.size(), 2u);
  EXPECT_EQ(r->layers[0].size, l1.size());
  EXPECT_EQ(r->layers[1].size, l2.size());
  EXPECT_EQ(r->layers[0].media_type, "application/vnd.docker.image.rootfs.diff.tar.gzip");
  EXPECT_EQ(r->layers[1].media_type, "application/vnd.docker.image.rootfs.diff.tar");
  EXPECT_EQ(layer_total, l1.size() + l2.size());
  for (const std::string& w : r->warnings) EXPECT_EQ(w.find("compressed"), std::string::npos) << w;
  EXPECT_EQ(store.inspect(r->id)->layers[0].size, l1.size());
}

TEST_F(ImportTest, RemovalRacingWithAnAlreadyImportedImage) {
  const std::string src = layout("lay", {{file("a", "1")}});
  ASSERT_TRUE(import(src, "first").ok());
  // The second import finds the image in the store; `rm` takes it away just before the
  // import publishes its name.
  int removals = 0;
  ImportOptions o;
  o.name = "second";
  o.progress = [&](const ImportProgress& p) {
    if (p.phase == "publishing" && removals++ == 0) {
      EXPECT_TRUE(store.remove("first").ok());
    }
  };
  Result<ImageInfo> r = store.import(src, o);
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(removals, 2);  // published on the second try, after unpacking after all
  Result<ImageInfo> again = store.inspect("second");
  ASSERT_TRUE(again.ok()) << again.error().what();
  EXPECT_EQ(slurp(again->rootfs + "/a"), "1");
  EXPECT_FALSE(store.inspect("first").ok());
}

TEST_F(ImportTest, DanglingNamesAreToleratedAndCleaned) {
  ASSERT_TRUE(import(layout("lay", {{file("a", "1")}}), "kept").ok());
  const std::string refs_path = data + "/images/refs.json";
  json refs = json::parse(slurp(refs_path));
  refs["refs"]["gone:1"] = "sha256:" + std::string(64, 'e');
  refs["refs"]["gone:2"] = "sha256:" + std::string(64, 'e');
  write_bytes(refs_path, refs.dump());
  Result<std::vector<ImageInfo>> all = store.list();
  ASSERT_TRUE(all.ok()) << all.error().what();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].names, std::vector<std::string>{"kept:latest"});
  Result<ImageInfo> gone = store.inspect("gone:1");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind, ErrorKind::not_found);
  Result<std::vector<std::string>> rm = store.remove("gone:1");
  ASSERT_TRUE(rm.ok()) << rm.error().what();
  EXPECT_EQ(*rm, std::vector<std::string>{"untagged gone:1"});
  ASSERT_TRUE(store.gc().ok());
  EXPECT_EQ(json::parse(slurp(refs_path))["refs"], (json{{"kept:latest", (*all)[0].id}}));
}

// `cell image import` as a process.
class ImportCliTest : public ImportTest {
 protected:
  pid_t spawn(const std::vector<std::string>& args, const std::string& out_file) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::setenv("CELL_DATA", data.c_str(), 1);
      std::FILE* out = std::freopen(out_file.c_str(), "w", stdout);
      if (out == nullptr || ::dup2(STDOUT_FILENO, STDERR_FILENO) < 0) ::_exit(126);
      std::vector<char*> argv = {const_cast<char*>(CELL_BINARY)};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(CELL_BINARY, argv.data());
      ::_exit(127);
    }
    return pid;
  }
  int run(const std::vector<std::string>& args, std::string& output) {
    const std::string out = tmp.sub("cli-out");
    int status = 0;
    ::waitpid(spawn(args, out), &status, 0);
    output = slurp(out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // Entries in the rootfs of a running import's work directory.
  std::size_t entries_being_written() const {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& w : fs::directory_iterator(data + "/images/tmp", ec)) {
      const fs::path root = w.path() / "tree/rootfs";
      for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator(); ++it)
        ++n;
    }
    return n;
  }
};

TEST_F(ImportCliTest, PrintsTheNameItGave) {
  const std::string src = layout("lay", {{file("a", "1")}});
  std::string out;
  ASSERT_EQ(run({"image", "import", "--name", "alpha", src}, out), 0) << out;
  ASSERT_EQ(run({"image", "import", "--name", "zeta", src}, out), 0) << out;
  EXPECT_NE(out.find("imported zeta:latest sha256:"), std::string::npos) << out;
}

TEST_F(ImportCliTest, SignalsInterruptTheImportAndLeaveNothing) {
  // One layer of many small files: long enough to be caught in the middle.
  std::vector<TarEntry> many;
  for (int i = 0; i < 30000; ++i) many.push_back(file(std::to_string(i), "x"));
  OciLayout lay(tmp.sub("big"));
  lay.write_index(
      {lay.image({{make_tar(many, Compression::gzip), layer_media_type(Compression::gzip)}}, "")});
  for (const int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(sig);
    const pid_t pid = spawn({"image", "import", "oci:" + lay.dir()}, tmp.sub("out"));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (entries_being_written() < 100 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_GE(entries_being_written(), 100u) << slurp(tmp.sub("out"));
    ASSERT_EQ(::kill(pid, sig), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "exit " << WEXITSTATUS(status) << ": " << slurp(tmp.sub("out"));
    EXPECT_EQ(WTERMSIG(status), sig);
    EXPECT_NE(slurp(tmp.sub("out")).find("import interrupted"), std::string::npos)
        << slurp(tmp.sub("out"));
    EXPECT_EQ(list_tree(data + "/images/tmp"), std::vector<std::string>{});
    EXPECT_EQ(list_tree(data + "/images/roots"), std::vector<std::string>{});
  }
}

}  // namespace
}  // namespace cell::test
