// Profile YAML (src/config): parse, print, parse again.
#include <cell/profile.hpp>

#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz/targets.hpp"

namespace cell::fuzz {

int profile(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;  // the loader refuses files over 1 MiB; keep runs fast
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<Profile> p = parse_profile(text, "fuzz.yaml");
  if (!p.ok()) {
    check(!p.error().message.empty(), "a profile error without a message");
    return 0;
  }
  // What cell prints as the effective profile must read back as the same profile.
  const std::string yaml = profile_to_yaml(*p);
  Result<Profile> again = parse_profile(yaml, "printed.yaml");
  if (!again.ok()) {
    std::fprintf(stderr, "printed profile does not parse: %s\n--- printed ---\n%s\n",
                 again.error().what().c_str(), yaml.c_str());
    check(false, "profile_to_yaml output does not parse");
  }
  check(profile_to_yaml(*again) == yaml, "profile_to_yaml is not stable across a round trip");
  return 0;
}

}  // namespace cell::fuzz
