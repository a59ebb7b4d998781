// cell image import | ls | inspect | rm | export: the image store under the data directory.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>

#include "cli/cli.hpp"
#include "runtime/paths.hpp"

namespace cell::cli {

namespace {

struct ImageArgs {
  std::string source, name, ref, dir;
  std::vector<std::string> refs;
  bool json = false, quiet = false;
};

std::uint64_t now_ms() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000 +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000000;
}

// 1536 -> "1.5 KiB": image sizes are never round numbers.
std::string human(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

// A one-line progress bar on stderr, redrawn at most ten times a second.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label) : label_(std::move(label)) {}
  ~ProgressBar() { clear(); }

  void update(const ImportProgress& p) {
    const std::uint64_t now = now_ms();
    if (now - last_ms_ < 100) return;
    last_ms_ = now;
    drawn_ = true;
    const double frac =
        p.bytes_total > 0 ? std::min(1.0, static_cast<double>(p.bytes_done) / p.bytes_total) : 0;
    constexpr int kWidth = 24;
    std::string bar(static_cast<std::size_t>(frac * kWidth), '#');
    bar.resize(kWidth, '.');
    std::string what = p.phase;
    if (p.phase == "layer")
      what = "layer " + std::to_string(p.layer) + "/" + std::to_string(p.layers);
    std::fprintf(stderr, "\r\033[K%s: %s [%s] %3d%% %s/%s", label_.c_str(), what.c_str(),
                 bar.c_str(), static_cast<int>(frac * 100), human(p.bytes_done).c_str(),
                 p.bytes_total ? human(p.bytes_total).c_str() : "?");
    std::fflush(stderr);
  }
  void clear() {
    if (drawn_) std::fputs("\r\033[K", stderr);
    drawn_ = false;
  }

 private:
  std::string label_;
  std::uint64_t last_ms_ = 0;
  bool drawn_ = false;
};

std::string short_id(const std::string& id) {
  return id.size() > 19 ? id.substr(7, 12) : id;
}

int fail(const Error& e) {
  print_error(e);
  return e.kind == ErrorKind::usage && e.sys_errno == 0 ? 2 : 1;
}

// SIGINT, SIGTERM and SIGHUP during an import only set this flag: the import stops at its next
// check and removes its work, then the process dies of the signal as it would have.
std::atomic<bool> g_interrupted{false};
volatile sig_atomic_t g_signal = 0;
constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void on_stop_signal(int sig) {
  g_signal = sig;
  g_interrupted.store(true);
}

class StopSignals {
 public:
  // A signal the caller ignores (nohup: SIGHUP) stays ignored.
  StopSignals() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (std::size_t i = 0; i < std::size(kStopSignals); ++i) {
      installed_[i] = ::sigaction(kStopSignals[i], nullptr, &old_[i]) == 0 &&
                      old_[i].sa_handler != SIG_IGN &&
                      ::sigaction(kStopSignals[i], &sa, nullptr) == 0;
    }
  }
  ~StopSignals() {
    for (std::size_t i = 0; i < std::size(kStopSignals); ++i)
      if (installed_[i]) ::sigaction(kStopSignals[i], &old_[i], nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_[std::size(kStopSignals)]{};
  bool installed_[std::size(kStopSignals)] = {};
};

// After an interrupted import: die of the signal (default disposition), so a shell sees what
// happened; 128 + signal should the process survive it.
int die_of_signal() {
  const int sig = g_signal;
  if (sig == 0) return 1;
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  ::raise(sig);
  return 128 + sig;
}

int do_import(const ImageStore& store, const ImageArgs& a) {
  ImportOptions o;
  o.name = a.name;
  o.cancel = &g_interrupted;
  auto handlers = std::make_unique<StopSignals>();  // for the import only
  std::unique_ptr<ProgressBar> bar;
  if (!a.quiet && ::isatty(STDERR_FILENO)) {
    bar = std::make_unique<ProgressBar>("importing " + a.source);
    o.progress = [&bar](const ImportProgress& p) { bar->update(p); };
  }
  Result<ImageInfo> info = store.import(a.source, o);
  if (bar) bar->clear();
  handlers.reset();
  if (!info.ok()) {
    const int code = fail(info.error());
    return g_interrupted.load() ? die_of_signal() : code;
  }
  for (const std::string& w : info->warnings)
    std::fprintf(stderr, "cell: warning: %s\n", w.c_str());
  if (a.json) {
    std::printf("%s\n", info->to_json().c_str());
    return 0;
  }
  std::printf("imported %s %s (%zu layer%s, %s, %llu entries)\n",
              info->imported_as.empty() ? "<none>" : info->imported_as.c_str(), info->id.c_str(),
              info->layers.size(), info->layers.size() == 1 ? "" : "s",
              human(info->size_bytes).c_str(), static_cast<unsigned long long>(info->entries));
  return 0;
}

int do_ls(const ImageStore& store, bool json) {
  Result<std::vector<ImageInfo>> images = store.list();
  if (!images.ok()) return fail(images.error());
  if (json) {
    std::string out = "[";
    for (std::size_t i = 0; i < images->size(); ++i)
      out += (i ? "," : "") + (*images)[i].to_json(-1);
    std::printf("%s]\n", out.c_str());
    return 0;
  }
  std::printf("%-32s %-12s %-12s %10s %6s  %s\n", "NAME", "TAG", "ID", "SIZE", "LAYERS",
              "IMPORTED");
  for (const ImageInfo& i : *images) {
    std::vector<std::string> names = i.names;
    if (names.empty()) names.push_back("<none>:<none>");
    for (const std::string& n : names) {
      const std::size_t colon = n.rfind(':');
      std::printf("%-32s %-12s %-12s %10s %6zu  %s\n", n.substr(0, colon).c_str(),
                  n.substr(colon + 1).c_str(), short_id(i.id).c_str(), human(i.size_bytes).c_str(),
                  i.layers.size(), i.imported_at.c_str());
    }
  }
  return 0;
}

int do_inspect(const ImageStore& store, const std::string& ref, bool json) {
  Result<ImageInfo> info = store.inspect(ref);
  if (!info.ok()) return fail(info.error());
  if (json) {
    std::printf("%s\n", info->to_json().c_str());
    return 0;
  }
  const ImageInfo& i = *info;
  std::string names;
  for (const std::string& n : i.names) names += (names.empty() ? "" : ", ") + n;
  std::printf(
      "id:           %s\nnames:        %s\nsource:       %s\nimported:     %s\ncreated:      %s\n",
      i.id.c_str(), names.empty() ? "<none>" : names.c_str(), i.source.c_str(),
      i.imported_at.c_str(), i.created.empty() ? "-" : i.created.c_str());
  std::printf("platform:     %s/%s%s%s\nsize:         %s (%llu entries)\nrootfs:       %s\n",
              i.os.c_str(), i.architecture.c_str(), i.variant.empty() ? "" : "/", i.variant.c_str(),
              human(i.size_bytes).c_str(), static_cast<unsigned long long>(i.entries),
              i.rootfs.c_str());
  for (const std::string& e : i.env) std::printf("env:          %s\n", e.c_str());
  for (const auto& [k, v] : i.labels) std::printf("label:        %s=%s\n", k.c_str(), v.c_str());
  for (std::size_t n = 0; n < i.layers.size(); ++n)
    std::printf("layer %-6zu  %s %s %s\n", n + 1, i.layers[n].digest.c_str(),
                human(i.layers[n].size).c_str(), i.layers[n].media_type.c_str());
  for (const std::string& w : i.warnings) std::printf("warning:      %s\n", w.c_str());
  return 0;
}

}  // namespace

Runner add_image_commands(CLI::App& app) {
  CLI::App* image = app.add_subcommand("image", "Import, list, inspect, remove and export images");
  image->require_subcommand(1);
  auto a = std::make_shared<ImageArgs>();
  CLI::App* imp = image->add_subcommand("import", "Import an image into the store");
  imp->add_option("--name", a->name, "NAME[:TAG] to give it (default: from the source)");
  imp->add_flag("-q,--quiet", a->quiet, "no progress bar");
  imp->add_flag("--json", a->json, "print the imported image as JSON");
  imp->add_option("SOURCE", a->source,
                  "oci:DIR[:TAG] | oci-archive:FILE[:TAG] | docker-archive:FILE[:REF] | "
                  "rootfs-tar:FILE | DIR")
      ->required();
  CLI::App* ls = image->add_subcommand("ls", "List imported images");
  ls->alias("list");
  ls->add_flag("--json", a->json, "a JSON array");
  CLI::App* inspect = image->add_subcommand("inspect", "Show one image");
  inspect->add_flag("--json", a->json, "as JSON");
  inspect->add_option("REF", a->ref, "NAME[:TAG] or sha256:ID")->required();
  CLI::App* rm = image->add_subcommand("rm", "Remove images (refused while a run uses one)");
  rm->add_option("REF", a->refs, "NAME[:TAG] or sha256:ID")->required();
  CLI::App* exp = image->add_subcommand("export", "Write an image's flattened rootfs into DIR");
  exp->add_option("REF", a->ref, "NAME[:TAG] or sha256:ID")->required();
  exp->add_option("DIR", a->dir, "a new or empty directory")->required();
  return [=]() -> int {
    Result<ImageStore> store = ImageStore::open(runtime::default_data_dir());
    if (!store.ok()) return fail(store.error());
    if (imp->parsed()) return do_import(*store, *a);
    if (ls->parsed()) return do_ls(*store, a->json);
    if (inspect->parsed()) return do_inspect(*store, a->ref, a->json);
    if (exp->parsed()) {
      if (Result<void> r = store->export_rootfs(a->ref, a->dir); !r.ok()) return fail(r.error());
      return 0;
    }
    int code = 0;
    for (const std::string& ref : a->refs) {
      Result<std::vector<std::string>> done = store->remove(ref);
      if (!done.ok()) {
        code = fail(done.error());
        continue;
      }
      for (const std::string& line : *done) std::printf("%s\n", line.c_str());
    }
    return code;
  };
}

}  // namespace cell::cli
