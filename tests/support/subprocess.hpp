// Runs a command (the `cell` binary) with captured stdout/stderr, for end-to-end tests.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace cell::test {

struct Finished {
  int exit_code = -1;  // -1 if killed by a signal
  int signal = 0;      // the signal that killed it, 0 if it exited
  std::string out;
  std::string err;
  // The stderr lines (without the trailing newline).
  [[nodiscard]] std::vector<std::string> err_lines() const;
  [[nodiscard]] std::string describe() const;  // exit/signal, stdout, stderr
};

struct CommandOptions {
  std::string stdin_data;                 // fed to the command's stdin, then EOF
  std::vector<std::string> env;           // KEY=VAL added to (or replacing) ours
  std::function<void(pid_t)> on_started;  // called on a side thread once it runs
};

Finished run_command(const std::vector<std::string>& argv, const CommandOptions& opts = {});

}  // namespace cell::test
