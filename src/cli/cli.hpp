// The `cell` command: one file per command, each a thin translation onto libcell.
#pragma once

#include <CLI/CLI.hpp>

#include <cell/cell.hpp>

#include <functional>
#include <string>
#include <vector>

namespace cell::cli {

// Every command registers its subcommand and returns the function that runs it (exit code).
using Runner = std::function<int()>;

// `program` receives PROGRAM [ARGS...] of `cell run`, split off before CLI11 parses the options
// (so the payload's own flags, like `python3 -c`, are never taken for cell's).
Runner add_run_command(CLI::App& app, std::vector<std::string>& program);
// Splits `cell run` arguments at the first one that is not an option or an option's value.
void split_run_args(const CLI::App& run, std::vector<std::string>& args,
                    std::vector<std::string>& program);
Runner add_profile_commands(CLI::App& app);
Runner add_doctor_command(CLI::App& app);
Runner add_image_commands(CLI::App& app);
Runner add_gc_command(CLI::App& app);

// "cell: <message>; hint: <hint>" on stderr, one line.
void print_error(const Error& e);
void print_error(const std::string& message);

}  // namespace cell::cli
