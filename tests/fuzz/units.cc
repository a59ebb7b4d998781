// Text the CLI turns into numbers and names: sizes, durations (src/base/units.cc), image
// references and seccomp actions.
#include <cell/image.hpp>
#include <cell/profile.hpp>
#include <cell/units.hpp>

#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/targets.hpp"

namespace cell::fuzz {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 19 && s.find_first_not_of("0123456789") == std::string::npos;
}

void sizes(std::string_view text) {
  std::string why;
  const std::optional<std::uint64_t> v = parse_size(text, why);
  if (!v) {
    check(!why.empty(), "parse_size failed without saying why");
    return;
  }
  // A plain number of bytes is exact (no detour through a double).
  if (all_digits(text))
    check(*v == std::strtoull(std::string(text).c_str(), nullptr, 10), "parse_size is not exact");
  const std::string printed = format_size(*v);
  const std::optional<std::uint64_t> back = parse_size(printed, why);
  check(back.has_value() && *back == *v, "format_size does not parse back to the same size");
}

void durations(std::string_view text) {
  std::string why;
  const std::optional<std::chrono::nanoseconds> d = parse_duration(text, why);
  if (!d) {
    check(!why.empty(), "parse_duration failed without saying why");
    return;
  }
  check(d->count() >= 0, "parse_duration gave a negative duration");
  const std::string printed = format_duration(*d);
  const std::optional<std::chrono::nanoseconds> back = parse_duration(printed, why);
  check(back.has_value(), "format_duration does not parse back");
  // format_duration may print a fraction of a millisecond: allow its 6 significant digits.
  const long long diff = back->count() - d->count();
  check(diff <= d->count() / 100000 + 1 && -diff <= d->count() / 100000 + 1,
        "format_duration does not parse back to the same duration");
}

}  // namespace

int units(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sizes(text);
  durations(text);
  std::string name, tag, why;
  if (parse_image_name(text, name, tag, why)) {
    check(!name.empty() && !tag.empty(), "an image name without name or tag");
  }
  if (std::optional<SeccompAction> a = parse_seccomp_action(text, why)) {
    const std::optional<SeccompAction> back = parse_seccomp_action(to_string(*a), why);
    check(back.has_value() && *back == *a, "a seccomp action does not print and parse back");
  }
  (void)parse_network(text);
  return 0;
}

}  // namespace cell::fuzz
