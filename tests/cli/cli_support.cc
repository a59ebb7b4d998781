#include "cli/cli_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "support/sandbox.hpp"

namespace cell::test {

const std::string& cell_binary() {
  static const std::string path =
      std::getenv("CELL_TEST_CELL") != nullptr ? std::getenv("CELL_TEST_CELL") : CELL_BIN;
  return path;
}

Finished cell(const std::vector<std::string>& args, const CommandOptions& opts) {
  std::vector<std::string> argv = {cell_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, opts);
}

Finished cell_run(const std::vector<std::string>& options, const std::vector<std::string>& probe,
                  const CommandOptions& opts) {
  std::vector<std::string> args = {"run", "--rootfs", shared_rootfs().path()};
  // A backstop against a hung run, unless the test sets its own.
  if (std::find(options.begin(), options.end(), "--wall-time") == options.end())
    args.insert(args.end(), {"--wall-time", "30s"});
  args.insert(args.end(), options.begin(), options.end());
  args.insert(args.end(), {"--", "/cell-probe"});
  args.insert(args.end(), probe.begin(), probe.end());
  return cell(args, opts);
}

nlohmann::json parse_json(const Finished& f) {
  try {
    return nlohmann::json::parse(f.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "stdout is not JSON: " << e.what() << "\n" << f.describe();
    return nlohmann::json::object();
  }
}

void expect_one_line_error(const Finished& f, int code) {
  EXPECT_EQ(f.signal, 0) << f.describe();
  EXPECT_EQ(f.exit_code, code) << f.describe();
  const std::vector<std::string> lines = f.err_lines();
  ASSERT_EQ(lines.size(), 1u) << f.describe();
  EXPECT_EQ(lines[0].rfind("cell: ", 0), 0u) << lines[0];
  EXPECT_EQ(f.out, "") << f.describe();
}

}  // namespace cell::test
