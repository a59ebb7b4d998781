// cell profile check FILE | cell profile show NAME
#include <cstdio>

#include "cli/cli.hpp"

namespace cell::cli {

Runner add_profile_commands(CLI::App& app) {
  CLI::App* profile = app.add_subcommand("profile", "Validate or print profiles");
  profile->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  CLI::App* check =
      profile->add_subcommand("check", "Validate a profile file; print every problem");
  check->add_option("FILE", *file, "profile YAML file")->required();
  CLI::App* show = profile->add_subcommand("show", "Print the effective profile as YAML");
  show->add_option("NAME", *name, "built-in name or file")->required();
  return [=]() -> int {
    if (check->parsed()) {
      Result<Profile> p = load_profile_file(*file);
      if (!p.ok()) {
        // Config errors hold one `file:line:col: key: problem` line per problem: each is printed
        // as `cell: file:line:col: ...`, like every other error line.
        print_error(p.error());
        return 1;
      }
      std::printf("%s: ok (profile '%s')\n", file->c_str(), p->name.c_str());
      return 0;
    }
    Result<Profile> p = load_profile(*name);
    if (!p.ok()) {
      print_error(p.error());
      return p.error().kind == ErrorKind::config ? 1 : 2;
    }
    std::fputs(profile_to_yaml(*p).c_str(), stdout);
    return 0;
  };
}

}  // namespace cell::cli
