#include <gtest/gtest.h>
#include <cell/units.hpp>

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

// Found by tests/fuzz (units): whole numbers went through a double (53 bits) and llround
// (63 bits), so large byte counts came back changed.
TEST(ParseSize, WholeNumbersAreExactUpToTheLargestSize) {
  std::string why;
  EXPECT_EQ(parse_size("9007199254740993", why), 9007199254740993ull);
  EXPECT_EQ(parse_size("10000000000000000000", why), 10000000000000000000ull);
  EXPECT_EQ(parse_size("18446744073709551615", why), UINT64_MAX);
  EXPECT_EQ(parse_size("16777215T", why), 16777215ull << 40);
  EXPECT_FALSE(parse_size("18446744073709551616", why));
  EXPECT_NE(why.find("too large"), std::string::npos) << why;
  EXPECT_FALSE(parse_size("16777216T", why));
  EXPECT_FALSE(parse_size("99999999999999999999999G", why));
  EXPECT_EQ(parse_duration("9007199254740993ns", why), std::chrono::nanoseconds(9007199254740993));
  EXPECT_FALSE(parse_duration("9223372036854775808ns", why));
  EXPECT_FALSE(parse_duration("1e999s", why));
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
