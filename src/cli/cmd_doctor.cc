// cell doctor: what this host allows, and whether `cell run` can work here.
#include <cstdio>

#include "cli/cli.hpp"

namespace cell::cli {

Runner add_doctor_command(CLI::App& app) {
  CLI::App* doctor = app.add_subcommand("doctor", "Check what this host allows for sandboxes");
  return [doctor]() -> int {
    (void)doctor;
    const DoctorReport report = run_doctor();
    for (const DoctorCheck& c : report.checks) {
      std::printf("%-4s %-28s %s\n", c.ok ? "ok" : (c.required ? "FAIL" : "warn"), c.name.c_str(),
                  c.detail.c_str());
      if (!c.ok && !c.fix.empty()) std::printf("     %-28s fix: %s\n", "", c.fix.c_str());
    }
    std::printf("%s\n", report.can_run() ? "cell run can work on this host."
                                         : "cell run cannot work on this host (see FAIL above).");
    return report.can_run() ? 0 : 1;
  };
}

}  // namespace cell::cli
