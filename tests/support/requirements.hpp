// What a test needs from the host, and a macro that skips (with the reason) when it is missing.
//
//   TEST(Sandbox, Something) {
//     CELL_REQUIRE(cell::test::Need::sandbox, cell::test::Need::root);
//     ...
//   }
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace cell::test {

enum class Need {
  root,      // running as uid 0
  rootless,  // running as a non-root user
  userns,    // this user may create a user namespace
  sandbox,   // userns, and cell::Runtime::open works (runtime directory, ...)
  busybox,   // /bin/busybox (busybox-static) exists, for shell-based checks
};

// Empty when every need is met; otherwise why not, e.g. "needs root (running as uid 65534)".
std::string missing(std::initializer_list<Need> needs);

}  // namespace cell::test

#define CELL_REQUIRE(...)                                                       \
  do {                                                                          \
    if (const std::string cell_missing_ = ::cell::test::missing({__VA_ARGS__}); \
        !cell_missing_.empty())                                                 \
      GTEST_SKIP() << cell_missing_;                                            \
  } while (0)
