// Language images end to end: tools/build-image builds python and bash with mmdebstrap from
// the Debian mirror (about a minute each), imports them, and programs run in them.
// CELL_TEST_LANGS="python c" picks other languages; CELL_SKIP_IMAGE_BUILD=1 skips (offline).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "image/image_test_util.hpp"

namespace cell::test {
namespace {

std::string capture(const std::string& command, int& status) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) {
    status = -1;
    return out;
  }
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int r = ::pclose(p);
  status = WIFEXITED(r) ? WEXITSTATUS(r) : -1;
  return out;
}

class LanguageImageTest : public ImageStoreTest {
 protected:
  void SetUp() override {
    if (const char* skip = std::getenv("CELL_SKIP_IMAGE_BUILD"); skip != nullptr && *skip == '1')
      GTEST_SKIP() << "CELL_SKIP_IMAGE_BUILD=1";
    for (const char* tool : {"mmdebstrap", "umoci"})
      if (!have_tool(tool)) GTEST_SKIP() << "needs " << tool;
    if (::geteuid() != 0 && sh("grep -q \"^$(id -un):\" /etc/subuid") != 0)
      GTEST_SKIP() << "mmdebstrap as a user needs an /etc/subuid range";
    ::chmod(tmp.path().c_str(), 0755);  // sandboxes of a root run must reach the store
  }
  std::string env() const {
    return "CELL=" + std::string(CELL_BINARY) + " CELL_DATA=" + data + " ";
  }
};

TEST_F(LanguageImageTest, BuildAndRunPrograms) {
  const char* picked = std::getenv("CELL_TEST_LANGS");
  std::istringstream langs(picked != nullptr && *picked ? picked : "python bash");
  std::string lang;
  while (langs >> lang) {
    int status = 0;
    const std::string log =
        capture(env() + CELL_SOURCE_DIR "/tools/build-image --check " + lang + " 2>&1", status);
    ASSERT_EQ(status, 0) << log;
    std::fprintf(stderr, "%s", log.c_str());  // the timings, for CI logs
    Result<ImageInfo> info = store.inspect(lang);
    ASSERT_TRUE(info.ok()) << info.error().what();
    EXPECT_EQ(info->labels["cell.lang"], lang);
  }
  int status = 0;
  if (store.inspect("python").ok()) {
    const std::string out = capture(
        env() + CELL_BINARY " run --image python -- python3 -c 'import json, sys; print(6*7)'",
        status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(out, "42\n");
  }
  if (store.inspect("bash").ok()) {
    const std::string out = capture(
        env() + CELL_BINARY " run --image bash -- bash -c 'echo $((6*7)) ${BASH_VERSINFO[0]}'",
        status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(out.substr(0, 3), "42 ");
  }
}

}  // namespace
}  // namespace cell::test
