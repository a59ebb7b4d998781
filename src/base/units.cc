#include <cell/units.hpp>

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace cell {
namespace {

// Splits "1.5ms" into the number "1.5" and the suffix "ms". False if no digits lead.
bool split_number(std::string_view text, double& number, std::string& suffix, std::string& why) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) {
    why = text.empty() ? "is empty" : "does not start with a number";
    return false;
  }
  const std::string num(text.substr(0, i));
  char* end = nullptr;
  number = std::strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size() || !std::isfinite(number)) {
    why = "is not a number";
    return false;
  }
  suffix.clear();
  for (char c : text.substr(i)) suffix += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return true;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text, std::string& why) {
  double n = 0;
  std::string suffix;
  if (!split_number(text, n, suffix, why)) {
    why += " (use e.g. 256M or 1G)";
    return std::nullopt;
  }
  if (!suffix.empty() && suffix.back() == 'b') suffix.pop_back();  // "MB", "MiB"
  if (!suffix.empty() && suffix.back() == 'i') suffix.pop_back();
  double mult = 1;
  if (suffix.empty()) mult = 1;
  else if (suffix == "k") mult = 1024.0;
  else if (suffix == "m") mult = 1024.0 * 1024;
  else if (suffix == "g") mult = 1024.0 * 1024 * 1024;
  else if (suffix == "t") mult = 1024.0 * 1024 * 1024 * 1024;
  else {
    why = "has an unknown size unit (use K, M, G or T, e.g. 256M)";
    return std::nullopt;
  }
  const double bytes = n * mult;
  if (bytes >= 1.8e19) {
    why = "is too large";
    return std::nullopt;
  }
  if (suffix.empty() && n != std::floor(n)) {
    why = "is a fractional number of bytes";
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(std::llround(bytes));
}

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text, std::string& why) {
  double n = 0;
  std::string suffix;
  if (!split_number(text, n, suffix, why)) {
    why += " (use e.g. 1.5s or 500ms)";
    return std::nullopt;
  }
  double mult = 0;
  if (suffix.empty() || suffix == "s") mult = 1e9;
  else if (suffix == "ms") mult = 1e6;
  else if (suffix == "us") mult = 1e3;
  else if (suffix == "ns") mult = 1;
  else if (suffix == "m" || suffix == "min") mult = 60e9;
  else if (suffix == "h") mult = 3600e9;
  else {
    why = "has an unknown time unit (use ns, us, ms, s, m or h, e.g. 1.5s)";
    return std::nullopt;
  }
  const double ns = n * mult;
  if (ns > 9.2e18) {
    why = "is too long";
    return std::nullopt;
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(ns)));
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
