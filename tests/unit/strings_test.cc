#include <gtest/gtest.h>

#include "base/errno_names.hpp"
#include "base/strings.hpp"

namespace cell {
namespace {

TEST(NormalizeAbsPath, CollapsesAndRejects) {
  std::string out, why;
  ASSERT_TRUE(normalize_abs_path("//a/./b/", out, why));
  EXPECT_EQ(out, "/a/b");
  EXPECT_FALSE(normalize_abs_path("a/b", out, why));
  EXPECT_FALSE(normalize_abs_path("/a/../b", out, why));
  EXPECT_NE(why.find(".."), std::string::npos);
}

TEST(ErrnoNames, NamesAndParses) {
  EXPECT_EQ(errno_name(ENOENT), "ENOENT");
  EXPECT_EQ(errno_from_name("EPERM"), EPERM);
  EXPECT_FALSE(errno_from_name("ENOTATHING"));
  EXPECT_EQ(errno_describe(ENOENT), "No such file or directory (ENOENT)");
}

TEST(Split, KeepsEmptyFields) {
  EXPECT_EQ(split("a::b", ':'), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(join({"x", "y"}, ", "), "x, y");
}

// Found by tests/fuzz (oci_json, layer): image text (media types, tar names) with newlines or
// bytes that are not UTF-8 made multi-line messages and JSON that could not be written.
TEST(Printable, EscapesControlsAndInvalidUtf8KeepsTheRest) {
  EXPECT_EQ(printable("plain /path:tag 'q'"), "plain /path:tag 'q'");
  EXPECT_EQ(printable("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  EXPECT_EQ(printable(std::string("nul\0esc\x1b[2J", 11)), "nul\\x00esc\\x1b[2J");
  EXPECT_EQ(printable("del\x7f"), "del\\x7f");
  EXPECT_EQ(printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(printable("bad\xff\xfe"), "bad\\xff\\xfe");
  EXPECT_EQ(printable("c1 \xc2\x9b csi"), "c1 \\xc2\\x9b csi");  // U+009B
  EXPECT_EQ(printable("overlong \xc0\xaf"), "overlong \\xc0\\xaf");
  EXPECT_EQ(printable("surrogate \xed\xa0\x80"), "surrogate \\xed\\xa0\\x80");
  EXPECT_EQ(printable("cut \xe2\x82"), "cut \\xe2\\x82");
  EXPECT_EQ(printable(printable("twice\n")), printable("twice\n"));
}

}  // namespace
}  // namespace cell
