// cell gc: remove what runs of dead cell processes left behind (their cgroups, and processes
// still in them).
#include <cstdio>

#include "cli/cli.hpp"

namespace cell::cli {

namespace {

struct GcFlags {
  std::string cgroup_parent;
  bool dry_run = false;
  int owner_pid = 0;
};

void print_list(const char* what, const std::vector<std::string>& items) {
  for (const std::string& i : items) std::printf("%s %s\n", what, i.c_str());
}

}  // namespace

Runner add_gc_command(CLI::App& app) {
  auto flags = std::make_shared<GcFlags>();
  CLI::App* gc = app.add_subcommand(
      "gc", "Remove the cgroups (and processes) of runs whose cell process died");
  gc->add_option("--cgroup-parent", flags->cgroup_parent, "the --cgroup-parent the runs used");
  gc->add_flag("-n,--dry-run", flags->dry_run, "only report what would be removed");
  gc->add_option("--owner", flags->owner_pid, "only the runs of this (dead) cell process id");
  return [flags]() -> int {
    auto report = collect_garbage({flags->cgroup_parent, flags->dry_run, flags->owner_pid});
    if (!report.ok()) {
      print_error(report.error());
      return 1;
    }
    print_list(flags->dry_run ? "would remove" : "removed", report->removed);
    print_list("in use", report->in_use);
    for (const std::string& p : report->problems) print_error(p);
    std::printf("cgroup %s: %zu removed, %u process(es) killed, %zu in use\n",
                report->cgroup_mode.c_str(), report->removed.size(), report->killed_processes,
                report->in_use.size());
    return report->problems.empty() ? 0 : 1;
  };
}

}  // namespace cell::cli
