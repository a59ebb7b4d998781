// Untrusted text in what cell prints: bytes that are not UTF-8 in paths and names, newlines and
// terminal escapes in an image's JSON. Output stays one line per message, terminals are not
// driven, and --json output is always JSON (nlohmann's dump threw on invalid UTF-8 and
// cell aborted; found by the fuzz targets and these tests).
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "image/fixtures.hpp"
#include "security/common.hpp"
#include "support/subprocess.hpp"

namespace cell::test::sec {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string cell_binary() {
  const char* env = std::getenv("CELL_TEST_CELL");
  return env != nullptr && *env != '\0' ? env : CELL_BIN;
}

Finished cell(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), cell_binary());
  CommandOptions o;
  o.env = env;
  return run_command(args, o);
}

// Parses `text` as JSON, failing the test (with the text) when it is not.
json parsed(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": not JSON (" << e.what() << "):\n" << text;
    return json();
  }
}

bool has_control(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f;
  });
}

TEST(UntrustedText, ResultJsonSurvivesPathsThatAreNotUtf8) {
  CELL_REQUIRE(Need::sandbox);
  const TempDir dir("cell-sec-text");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--", "/no\xff-program"},
        std::vector<std::string>{"--profile", dir.sub("\xfe.yaml"), "--", "/cell-probe"},
        std::vector<std::string>{"--bind", "/nonexistent-\xff:/data", "--", "/cell-probe"},
        std::vector<std::string>{"--", "/cell-probe", "echo", "\xff\xfe"}}) {
    std::vector<std::string> full = {"run", "--json", "--rootfs", shared_rootfs().path()};
    full.insert(full.end(), args.begin(), args.end());
    const Finished f = cell(full);
    const std::string what = "cell run --json " + args.front() + " " + args[1];
    EXPECT_EQ(f.signal, 0) << what << "\n" << f.describe();
    const json j = parsed(f.out, what);
    if (j.is_object()) {
      EXPECT_EQ(j.value("schema", ""), "cell.result/v1") << f.out;
    }
  }
}

// An OCI image whose JSON strings carry a newline and an ANSI escape: the import fails with a
// one-line message that holds neither.
TEST(UntrustedText, ImageStringsCannotBreakMessagesOrDriveTheTerminal) {
  CELL_REQUIRE(Need::userns);
  const TempDir dir("cell-sec-text");
  ::chmod(dir.path().c_str(), 0755);
  OciLayout layout(dir.sub("oci"));
  const std::string hostile_type = "application/x\n\x1b[31mred\x1b[0m";
  json manifest = layout.image({{make_tar({file("a", "1")}), hostile_type}}, "latest");
  layout.write_index({manifest});
  const std::vector<std::string> env = {"CELL_DATA=" + dir.sub("data")};
  const Finished f = cell({"image", "import", "--name", "hostile", "oci:" + dir.sub("oci")}, env);
  EXPECT_EQ(f.signal, 0) << f.describe();
  EXPECT_NE(f.exit_code, 0) << f.describe();
  EXPECT_EQ(f.err_lines().size(), 1u) << "one line:\n" << f.err;
  EXPECT_FALSE(has_control(f.err)) << "a control character reached the terminal:\n" << f.err;
  EXPECT_NE(f.err.find("unknown media type"), std::string::npos) << f.err;
}

// A directory source whose name is not UTF-8, and a layer whose device node's name holds a
// newline and a terminal escape (rootless, the warning quotes it): import, list and inspect.
TEST(UntrustedText, ImageRecordsSurviveNamesThatAreNotUtf8) {
  CELL_REQUIRE(Need::userns);
  const TempDir dir("cell-sec-text");
  ::chmod(dir.path().c_str(), 0755);
  fs::create_directories(dir.sub("src-\xff/etc"));
  dir.write("src-\xff/etc/hostname", "cell\n");
  TarEntry device;
  device.type = TarEntry::Type::chr;
  device.path = "dev/n\n\x1b[2Jull";  // a newline and a terminal escape in a name
  device.major = 1;
  device.minor = 3;
  dir.write("dev.tar", make_tar({file("etc/ok", "1"), device}));
  const std::vector<std::string> env = {"CELL_DATA=" + dir.sub("data")};
  const Finished a = cell({"image", "import", "--name", "a", dir.sub("src-\xff")}, env);
  EXPECT_EQ(a.exit_code, 0) << a.describe();
  const Finished b =
      cell({"image", "import", "--name", "b", "rootfs-tar:" + dir.sub("dev.tar")}, env);
  EXPECT_EQ(b.exit_code, 0) << b.describe();
  EXPECT_FALSE(has_control(b.err)) << b.err;
  for (const char* ref : {"a", "b"}) {
    const Finished i = cell({"image", "inspect", "--json", ref}, env);
    EXPECT_EQ(i.exit_code, 0) << i.describe();
    parsed(i.out, std::string("image inspect ") + ref);
  }
  const Finished ls = cell({"image", "ls", "--json"}, env);
  EXPECT_EQ(ls.exit_code, 0) << ls.describe();
  EXPECT_EQ(parsed(ls.out, "image ls").size(), 2u) << ls.out;
}

}  // namespace
}  // namespace cell::test::sec
