#include <cell/units.hpp>
#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace cell {
namespace {

TEST(ParseSize, AcceptsBinaryUnits) {
  std::string why;
  EXPECT_EQ(parse_size("4096", why), 4096u);
  EXPECT_EQ(parse_size("256M", why), 256ull << 20);
  EXPECT_EQ(parse_size("256MiB", why), 256ull << 20);
  EXPECT_EQ(parse_size("1g", why), 1ull << 30);
  EXPECT_EQ(parse_size("1.5K", why), 1536u);
}

TEST(ParseSize, RejectsBadUnitsWithAReason) {
  std::string why;
  EXPECT_FALSE(parse_size("512X", why));
  EXPECT_NE(why.find("unknown size unit"), std::string::npos) << why;
  EXPECT_FALSE(parse_size("", why));
  EXPECT_FALSE(parse_size("M", why));
  EXPECT_FALSE(parse_size("1.5", why));
}

TEST(ParseDuration, AcceptsCommonUnits) {
  std::string why;
  EXPECT_EQ(parse_duration("1.5s", why), 1500ms);
  EXPECT_EQ(parse_duration("500ms", why), 500ms);
  EXPECT_EQ(parse_duration("2", why), 2s);
  EXPECT_EQ(parse_duration("2m", why), 120s);
  EXPECT_EQ(parse_duration("250us", why), 250us);
}

TEST(ParseDuration, RejectsGarbage) {
  std::string why;
  EXPECT_FALSE(parse_duration("1.5 parsecs", why));
  EXPECT_FALSE(parse_duration("soon", why));
}

TEST(FormatDuration, RoundTrips) {
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(format_duration(2s), "2s");
  EXPECT_EQ(format_size(256ull << 20), "256M");
  EXPECT_EQ(format_size(1000), "1000");
}

}  // namespace
}  // namespace cell
