#include <cell/units.hpp>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace cell {
namespace {

// Splits "1.5ms" into the number "1.5" and the suffix "ms". False if no digits lead.
bool split_number(std::string_view text, std::string& number, std::string& suffix,
                  std::string& why) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) {
    why = text.empty() ? "is empty" : "does not start with a number";
    return false;
  }
  number = std::string(text.substr(0, i));
  suffix.clear();
  for (char c : text.substr(i))
    suffix += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return true;
}

// `number` (digits and dots) times `unit`, rounded to a whole count no larger than `max`. Whole
// numbers are computed exactly (a double holds only 53 bits); fractions go through a double.
std::optional<std::uint64_t> scale(const std::string& number, std::uint64_t unit, std::uint64_t max,
                                   const char* too_large, std::string& why) {
  if (number.find('.') == std::string::npos) {
    std::uint64_t n = 0, scaled = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
    if (ec == std::errc::result_out_of_range || __builtin_mul_overflow(n, unit, &scaled) ||
        scaled > max) {
      why = too_large;
      return std::nullopt;
    }
    return scaled;
  }
  char* end = nullptr;
  const double n = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(n)) {
    why = "is not a number";
    return std::nullopt;
  }
  const double scaled = std::round(n * static_cast<double>(unit));
  if (scaled >= static_cast<double>(max)) {  // max + 1 would not be representable either
    why = too_large;
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(scaled);
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text, std::string& why) {
  std::string number, suffix;
  if (!split_number(text, number, suffix, why)) {
    why += " (use e.g. 256M or 1G)";
    return std::nullopt;
  }
  if (!suffix.empty() && suffix.back() == 'b') suffix.pop_back();  // "MB", "MiB"
  if (!suffix.empty() && suffix.back() == 'i') suffix.pop_back();
  std::uint64_t unit = 1;
  if (suffix.empty())
    unit = 1;
  else if (suffix == "k")
    unit = 1ull << 10;
  else if (suffix == "m")
    unit = 1ull << 20;
  else if (suffix == "g")
    unit = 1ull << 30;
  else if (suffix == "t")
    unit = 1ull << 40;
  else {
    why = "has an unknown size unit (use K, M, G or T, e.g. 256M)";
    return std::nullopt;
  }
  if (suffix.empty() && number.find('.') != std::string::npos) {
    why = "is a fractional number of bytes";
    return std::nullopt;
  }
  return scale(number, unit, UINT64_MAX, "is too large", why);
}

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text, std::string& why) {
  std::string number, suffix;
  if (!split_number(text, number, suffix, why)) {
    why += " (use e.g. 1.5s or 500ms)";
    return std::nullopt;
  }
  std::uint64_t unit = 0;
  if (suffix.empty() || suffix == "s")
    unit = 1000000000;
  else if (suffix == "ms")
    unit = 1000000;
  else if (suffix == "us")
    unit = 1000;
  else if (suffix == "ns")
    unit = 1;
  else if (suffix == "m" || suffix == "min")
    unit = 60000000000;
  else if (suffix == "h")
    unit = 3600000000000;
  else {
    why = "has an unknown time unit (use ns, us, ms, s, m or h, e.g. 1.5s)";
    return std::nullopt;
  }
  const std::optional<std::uint64_t> ns = scale(number, unit, INT64_MAX, "is too long", why);
  if (!ns) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(*ns));
}

std::string format_duration(std::chrono::nanoseconds d) {
  const auto ns = d.count();
  struct Unit {
    std::int64_t ns;
    const char* name;
  };
  constexpr Unit kUnits[] = {{3600000000000, "h"}, {60000000000, "m"}, {1000000000, "s"},
                             {1000000, "ms"},      {1000, "us"},       {1, "ns"}};
  for (const Unit& u : kUnits)
    if (ns != 0 && ns % u.ns == 0) return std::to_string(ns / u.ns) + u.name;
  if (ns == 0) return "0s";
  // Not a whole number of any unit: milliseconds with a fraction.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6gms", static_cast<double>(ns) / 1e6);
  return buf;
}

std::string format_size(std::uint64_t bytes) {
  constexpr std::pair<std::uint64_t, const char*> kUnits[] = {
      {1ull << 40, "T"}, {1ull << 30, "G"}, {1ull << 20, "M"}, {1ull << 10, "K"}};
  for (const auto& [mult, name] : kUnits)
    if (bytes != 0 && bytes % mult == 0) return std::to_string(bytes / mult) + name;
  return std::to_string(bytes);
}

}  // namespace cell
