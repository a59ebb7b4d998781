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

}  // namespace
}  // namespace cell
