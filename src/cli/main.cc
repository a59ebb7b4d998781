#include <algorithm>
#include <cstdio>
#include <vector>

#include "base/strings.hpp"
#include "cli/cli.hpp"

namespace cell::cli {

void print_error(const std::string& message) {
  for (const std::string& line : split(message, '\n'))
    if (!line.empty()) std::fprintf(stderr, "cell: %s\n", line.c_str());
}
void print_error(const Error& e) {
  print_error(e.what());
}

}  // namespace cell::cli

namespace {

using namespace cell::cli;

// CLI11's own parse error, as one `cell:` line naming the command.
std::string parse_error_message(const CLI::App& app, const CLI::ParseError& e) {
  std::string where = "cell";
  for (const CLI::App* sub : app.get_subcommands()) where += " " + sub->get_name();
  return (where == "cell" ? "" : where.substr(5) + ": ") + e.what() + " (see " + where + " --help)";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cell: run untrusted programs in a fresh sandbox and report a verdict"};
  app.set_version_flag("--version", std::string("cell ") + cell::kVersion);
  app.require_subcommand(1);
  std::vector<std::string> program;
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool is_run = !args.empty() && args[0] == "run";
  // `cell run` starts once per sandbox: build only its parser then (CLI11 builds every option
  // of every command up front); the others need the whole tree for help and suggestions.
  Runner run = add_run_command(app, program);
  Runner profile, doctor, image, gc;
  if (!is_run) {
    profile = add_profile_commands(app);
    doctor = add_doctor_command(app);
    image = add_image_commands(app);
    gc = add_gc_command(app);
  }
  if (auto unknown = unknown_command(app, args)) {
    print_error(*unknown);
    return 2;
  }
  RunArgs seen;
  if (is_run) {
    auto split = split_run_args(*app.get_subcommand("run"), args, program, seen);
    if (!split.ok()) return run_usage_failure(split.error(), seen.json, seen.judge);
  }
  try {
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last-first
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const std::string message = parse_error_message(app, e);
    if (is_run)
      return run_usage_failure(cell::Error::make(cell::ErrorKind::usage, message), seen.json,
                               seen.judge);
    print_error(message);
    return 2;
  }
  if (is_run) return run();
  if (app.got_subcommand("profile")) return profile();
  if (app.got_subcommand("doctor")) return doctor();
  if (app.got_subcommand("image")) return image();
  if (app.got_subcommand("gc")) return gc();
  return 2;
}
