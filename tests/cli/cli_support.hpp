// What the tests of the `cell` binary share: running it, and checking its answers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/subprocess.hpp"

namespace cell::test {

// $CELL_TEST_CELL (as-user.sh sets it when it copies the binary), else the one built here.
const std::string& cell_binary();

// cell ARGS...
Finished cell(const std::vector<std::string>& args, const CommandOptions& opts = {});

// cell run OPTIONS... --rootfs TESTROOT [--wall-time 30s] -- /cell-probe PROBE...
Finished cell_run(const std::vector<std::string>& options, const std::vector<std::string>& probe,
                  const CommandOptions& opts = {});

// stdout as JSON (a test failure, and an empty object, when it is not).
nlohmann::json parse_json(const Finished& f);

// Exited (not killed) with `code`, nothing on stdout, exactly one stderr line "cell: ...".
void expect_one_line_error(const Finished& f, int code);

}  // namespace cell::test
