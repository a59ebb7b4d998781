// Runs in imported images (userns): the image is the read-only root, its Env reaches the
// program, and `rm` is refused while a run holds the image.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <cell/cell.hpp>

#include "image/image_test_util.hpp"

namespace cell::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class ImageRunTest : public ImageStoreTest {
 protected:
  void SetUp() override {
    if (::access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "needs /bin/busybox (busybox-static)";
    std::ifstream max_userns("/proc/sys/user/max_user_namespaces");
    if (std::string(std::istreambuf_iterator<char>(max_userns), {}) == "0\n")
      GTEST_SKIP() << "needs user namespaces (user.max_user_namespaces is 0)";
    // A busybox rootfs, packed as an OCI layout with an Env, like any image.
    std::ifstream in("/bin/busybox", std::ios::binary);
    const std::string busybox(std::istreambuf_iterator<char>(in), {});
    OciLayout lay(tmp.sub("bb"));
    lay.write_index(
        {lay.image({{make_tar({dir("bin"), file("bin/busybox", busybox, 0755),
                               symlink("bin/sh", "busybox"), file("etc/motd", "from the image\n")},
                              Compression::gzip),
                     layer_media_type(Compression::gzip)}},
                   "1", {{"config", {{"Env", {"PATH=/bin", "GREETING=image"}}}}})});
    Result<ImageInfo> r = import("oci:" + tmp.sub("bb"), "bb:1");
    ASSERT_TRUE(r.ok()) << r.error().what();
    // The sandbox user must reach the tree through the temp dirs.
    ::chmod(tmp.path().c_str(), 0755);
    RuntimeOptions o;
    o.data_dir = data;
    Result<Runtime> rt = Runtime::open(o);
    ASSERT_TRUE(rt.ok()) << rt.error().what();
    runtime = std::make_unique<Runtime>(std::move(*rt));
  }

  RunResult run(const std::string& script,
                std::vector<std::pair<std::string, std::string>> env = {}) {
    RunSpec s;
    s.image = "bb:1";
    s.argv = {"/bin/sh", "-c", script};
    s.env = std::move(env);
    s.stdout_ = Stdio::capture();
    s.stderr_ = Stdio::capture();
    Result<RunResult> r = runtime->run(s);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().what());
    return r.ok() ? *r : RunResult{};
  }

  std::unique_ptr<Runtime> runtime;
};

TEST_F(ImageRunTest, ProgramsRunInTheImageWithItsEnv) {
  RunResult r = run("cat /etc/motd; echo $GREETING $PATH");
  EXPECT_EQ(r.status, Status::ok) << r.to_json();
  EXPECT_EQ(r.stdout_.data, "from the image\nimage /bin\n");
  RunResult over = run("echo $GREETING", {{"GREETING", "request"}});
  EXPECT_EQ(over.stdout_.data, "request\n");  // --env wins over the image's Env
}

TEST_F(ImageRunTest, TheImageIsReadOnly) {
  RunResult r = run("echo x > /etc/motd || echo refused; echo y > /tmp/ok && echo tmp-ok");
  EXPECT_EQ(r.stdout_.data, "refused\ntmp-ok\n") << r.to_json();
  Result<ImageInfo> info = store.inspect("bb:1");
  ASSERT_TRUE(info.ok());
  std::ifstream motd(info->rootfs + "/etc/motd");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(motd), {}), "from the image\n");
}

TEST_F(ImageRunTest, RemoveIsRefusedWhileARunUsesTheImage) {
  // The run says on a pipe that it has started, then waits for its stdin to close.
  int out[2], in[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  std::thread runner([&] {
    RunSpec s;
    s.image = "bb:1";
    s.argv = {"/bin/sh", "-c", "echo started; read line"};
    s.stdout_ = Stdio::borrowed(out[1]);
    s.stdin_ = Stdio::borrowed(in[0]);
    Result<RunResult> r = runtime->run(s);
    EXPECT_TRUE(r.ok()) << r.error().what();
    ::close(out[1]);
  });
  char buf[16] = {};
  ASSERT_EQ(::read(out[0], buf, 8), 8) << "the run did not start";
  EXPECT_EQ(std::string(buf, 8), "started\n");
  Result<std::vector<std::string>> busy = store.remove("bb:1");
  ASSERT_FALSE(busy.ok());
  EXPECT_NE(busy.error().message.find("in use by a running sandbox"), std::string::npos)
      << busy.error().what();
  ::close(in[1]);  // the program's `read` ends, and so does the run
  runner.join();
  ::close(out[0]);
  ::close(in[0]);
  Result<std::vector<std::string>> done = store.remove("bb:1");
  EXPECT_TRUE(done.ok()) << done.error().what();
}

TEST_F(ImageRunTest, UnknownImageIsAClearError) {
  RunSpec s;
  s.image = "nope:1";
  s.argv = {"/bin/true"};
  Result<RunResult> r = runtime->run(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::not_found);
  EXPECT_NE(r.error().message.find("--image nope:1: image 'nope:1' not found"), std::string::npos)
      << r.error().what();
}

}  // namespace
}  // namespace cell::test
