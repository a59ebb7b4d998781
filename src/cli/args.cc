// What main() checks before CLI11 parses: unknown commands, and `cell run`'s split between its
// options and PROGRAM, which also notes --json and the exit mode so that every usage error of
// `cell run` (CLI11's own included) is answered the way the caller asked.
#include <cstdio>

#include "cli/cli.hpp"

namespace cell::cli {

namespace {

Error usage(std::string message) {
  return Error::make(ErrorKind::usage, std::move(message));
}

std::vector<const CLI::App*> commands(const CLI::App& app) {
  return app.get_subcommands(std::function<bool(const CLI::App*)>());
}

const CLI::App* find_command(const CLI::App& app, const std::string& name) {
  for (const CLI::App* sub : commands(app))
    if (sub->get_name() == name) return sub;
  return nullptr;
}

std::string command_names(const CLI::App& app) {
  std::string names;
  for (const CLI::App* sub : commands(app)) names += (names.empty() ? "" : ", ") + sub->get_name();
  return names;
}

// The option an argument names: "--memory=1G" -> "--memory", "-wDIR" -> "-w".
std::string option_name(const std::string& arg) {
  if (arg.rfind("--", 0) == 0) return arg.substr(0, arg.find('='));
  return arg.substr(0, 2);
}

// Notes what main() must know before the parse: --json, and the last --exit-mode.
void note(const std::string& name, const std::string& value, RunArgs& seen) {
  if (name == "--json") seen.json = true;
  if (name == "--exit-mode") seen.judge = value == "judge";
}

}  // namespace

std::optional<std::string> unknown_command(const CLI::App& app,
                                           const std::vector<std::string>& args) {
  const CLI::App* at = &app;
  std::string where = "cell";  // "cell profile" once inside `cell profile`
  const auto listing = [&] {
    return "(" + (at == &app ? std::string() : at->get_name() + " ") +
           "commands: " + command_names(*at) + "; see " + where + " --help)";
  };
  for (const std::string& a : args) {
    if (commands(*at).empty()) return std::nullopt;  // a leaf: its own parse checks the rest
    if (!a.empty() && a[0] == '-') {
      if (at->get_option_no_throw(option_name(a)) != nullptr) return std::nullopt;
      return "unknown option '" + option_name(a) + "' for '" + where + "' " + listing();
    }
    const CLI::App* sub = find_command(*at, a);
    if (sub == nullptr) return "unknown command '" + (where + " " + a).substr(5) + "' " + listing();
    where += " " + a;
    at = sub;
  }
  if (at->get_require_subcommand_min() == 0) return std::nullopt;
  return "missing command after '" + where + "' " + listing();
}

Result<void> split_run_args(const CLI::App& run, std::vector<std::string>& args,
                            std::vector<std::string>& program, RunArgs& seen) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--" || a.size() < 2 || a[0] != '-') {
      program.assign(args.begin() + static_cast<long>(i) + (a == "--" ? 1 : 0), args.end());
      args.resize(i);
      return {};
    }
    const std::string name = option_name(a);
    const CLI::Option* opt = run.get_option_no_throw(name);
    if (opt == nullptr)
      return usage("unknown option '" + name + "' for 'cell run' (see cell run --help)");
    if (opt->get_expected_min() == 0) {
      note(name, "", seen);
      continue;
    }
    std::string value;
    if (a.size() > name.size()) {
      value = a.substr(name.size() + (a[name.size()] == '=' ? 1 : 0));
    } else if (i + 1 < args.size() && args[i + 1] != "--") {  // `--` is never a value
      value = args[++i];
    } else {
      return usage(name + " needs a value (see cell run --help)");
    }
    if (value.empty()) return usage(name + " needs a value, not an empty string");
    note(name, value, seen);
  }
  return {};
}

int run_usage_failure(const Error& e, bool json, bool judge) {
  print_error(e);
  if (json) std::puts(result_from_error(e).to_json().c_str());
  if (e.kind == ErrorKind::internal) return judge ? 3 : 125;
  return judge ? 2 : 125;
}

}  // namespace cell::cli
