// What a test needs from the host, and a macro that skips (with the reason) when it is missing.
//
//   TEST(Sandbox, Something) {
//     CELL_REQUIRE(cell::test::Need::sandbox, cell::test::Need::root);
//     ...
//   }
//
// Strict mode (CELL_TEST_STRICT=1, set by tools/run-tests.sh): a missing environment need
// (userns, sandbox, busybox) fails the test with the same reason instead of skipping it, so a
// broken host cannot pass as a green run. A root/rootless mismatch still skips: every test
// binary runs once as root and once rootless, and each test belongs to one of those runs.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace cell::test {

enum class Need {
  root,      // running as uid 0                         (mode: skips, even when strict)
  rootless,  // running as a non-root user               (mode: skips, even when strict)
  userns,    // this user may create a user namespace
  sandbox,   // userns, and cell::Runtime::open works (runtime directory, ...)
  busybox,   // /bin/busybox (busybox-static) exists, for shell-based checks
};

// Empty when every need is met; otherwise why not, e.g. "needs root (running as uid 65534)".
std::string missing(std::initializer_list<Need> needs);

// What CELL_REQUIRE does: `skip` when the test is not for this run (a mode need) or the host
// lacks something and strict mode is off; `fail` when the host lacks something in strict mode.
struct Unmet {
  std::string skip;
  std::string fail;
};
Unmet unmet(std::initializer_list<Need> needs);

// CELL_TEST_STRICT=1: missing environment needs fail instead of skipping.
bool strict();

}  // namespace cell::test

#define CELL_REQUIRE(...)                                                                \
  do {                                                                                   \
    if (const ::cell::test::Unmet cell_unmet_ = ::cell::test::unmet({__VA_ARGS__});      \
        !cell_unmet_.fail.empty())                                                       \
      GTEST_FAIL() << cell_unmet_.fail << " [CELL_TEST_STRICT=1: a missing need fails]"; \
    else if (!cell_unmet_.skip.empty())                                                  \
      GTEST_SKIP() << cell_unmet_.skip;                                                  \
  } while (0)

// For tests with needs of their own (a tool, a prepared user): fails with `why` in strict
// mode, else skips. Use as `CELL_MISSING(reason);` (returns from the test).
#define CELL_MISSING(why)                                                     \
  do {                                                                        \
    if (::cell::test::strict())                                               \
      GTEST_FAIL() << (why) << " [CELL_TEST_STRICT=1: a missing need fails]"; \
    GTEST_SKIP() << (why);                                                    \
  } while (0)
