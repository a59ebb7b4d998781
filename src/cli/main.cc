#include <algorithm>
#include <cstdio>
#include <vector>

#include "cli/cli.hpp"

namespace cell::cli {

void print_error(const Error& e) {
  std::fprintf(stderr, "cell: %s\n", e.what().c_str());
}
void print_error(const std::string& message) {
  std::fprintf(stderr, "cell: %s\n", message.c_str());
}

}  // namespace cell::cli

namespace {

// Whether `--exit-mode judge` was asked for, when the arguments could not be parsed.
bool judge_mode_requested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") break;
    if (a == "--exit-mode=judge" ||
        (a == "--exit-mode" && i + 1 < argc && std::string(argv[i + 1]) == "judge"))
      return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cell::cli;
  CLI::App app{"cell: run untrusted programs in a fresh sandbox and report a verdict"};
  app.set_version_flag("--version", std::string("cell ") + cell::kVersion);
  app.require_subcommand(1);
  std::vector<std::string> program;
  Runner run = add_run_command(app, program);
  Runner profile = add_profile_commands(app);
  Runner doctor = add_doctor_command(app);
  Runner image = add_image_commands(app);
  Runner gc = add_gc_command(app);
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "run")
      split_run_args(*app.get_subcommand("run"), args, program);
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last-first
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string where = "cell";
    for (const CLI::App* sub : app.get_subcommands()) where += " " + sub->get_name();
    std::fprintf(stderr, "%s: %s (see %s --help)\n", where.c_str(), e.what(), where.c_str());
    return where == "cell run" && !judge_mode_requested(argc, argv) ? 125 : 2;
  }
  if (app.got_subcommand("run")) return run();
  if (app.got_subcommand("profile")) return profile();
  if (app.got_subcommand("doctor")) return doctor();
  if (app.got_subcommand("image")) return image();
  if (app.got_subcommand("gc")) return gc();
  return 2;
}
