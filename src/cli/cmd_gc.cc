// cell gc: remove what runs of dead cell processes left behind (their cgroups, and processes
// still in them), and what interrupted image imports left in the image store.
#include <unistd.h>

#include <cell/image.hpp>
#include <cstdio>

#include "cli/cli.hpp"
#include "runtime/paths.hpp"

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

// Only a store that exists: gc never creates the data dir.
int collect_image_garbage() {
  const std::string data_dir = runtime::default_data_dir();
  if (::access(data_dir.c_str(), F_OK) != 0) return 0;
  Result<ImageStore> store = ImageStore::open(data_dir);
  Result<void> r = store.ok() ? store->gc() : Result<void>(store.error());
  if (!r.ok()) {
    print_error(r.error());
    return 1;
  }
  std::printf("images: leftovers of interrupted imports and unused blobs removed\n");
  return 0;
}

}  // namespace

Runner add_gc_command(CLI::App& app) {
  auto flags = std::make_shared<GcFlags>();
  CLI::App* gc = app.add_subcommand(
      "gc",
      "Remove the cgroups (and processes) of runs whose cell process died, and what "
      "interrupted image imports left");
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
    int status = report->problems.empty() ? 0 : 1;
    if (!flags->dry_run && flags->owner_pid == 0) status |= collect_image_garbage();
    return status;
  };
}

}  // namespace cell::cli
