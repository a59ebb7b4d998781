#include <cstdio>
#include <cstdlib>

#include "fuzz/targets.hpp"

namespace cell::fuzz {

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "cell fuzz invariant broken: %s\n", what);
  std::abort();
}

}  // namespace cell::fuzz
