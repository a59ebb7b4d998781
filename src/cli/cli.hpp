// The `cell` command: one file per command, each a thin translation onto libcell.
#pragma once

#include <CLI/CLI.hpp>

#include <cell/cell.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cell::cli {

// Every command registers its subcommand and returns the function that runs it (exit code).
using Runner = std::function<int()>;

// `program` receives PROGRAM [ARGS...] of `cell run`, split off before CLI11 parses the options
// (so the payload's own flags, like `python3 -c`, are never taken for cell's).
Runner add_run_command(CLI::App& app, std::vector<std::string>& program);

// What the arguments of `cell run` ask for, known before CLI11 parses them: how to answer a
// usage error (CLI11's own included).
struct RunArgs {
  bool json = false;   // --json
  bool judge = false;  // the last --exit-mode is judge
};
// Splits `cell run` arguments at the first one that is not an option or an option's value
// (`--` is never taken as a value) and notes RunArgs. An unknown option, or an option without
// its value (or with an empty one), is a usage error naming the option.
Result<void> split_run_args(const CLI::App& run, std::vector<std::string>& args,
                            std::vector<std::string>& program, RunArgs& seen);
// A usage error of `cell run`: the `cell:` line on stderr, with `json` also the setup_error
// result on stdout; returns the exit code (125, or 2 in judge mode; internal: 125 or 3).
int run_usage_failure(const Error& e, bool json, bool judge);
// The error for arguments that name no command of app's tree ("unknown command 'frob' ..."), or
// stop before a command that needs one; nullopt when they are fine (or start with an option).
std::optional<std::string> unknown_command(const CLI::App& app,
                                           const std::vector<std::string>& args);

Runner add_profile_commands(CLI::App& app);
Runner add_doctor_command(CLI::App& app);
Runner add_image_commands(CLI::App& app);
Runner add_gc_command(CLI::App& app);

// "cell: <message>; hint: <hint>" on stderr; every line of a multi-line message (a profile's
// problems) starts with "cell: ".
void print_error(const Error& e);
void print_error(const std::string& message);

}  // namespace cell::cli
