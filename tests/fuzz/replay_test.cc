// Every corpus file and every recorded crash (regressions/) through its fuzz target, in the
// ordinary build: inputs that once broke an invariant stay fixed. Run a target under libFuzzer
// with tools/fuzz.sh.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/targets.hpp"

namespace cell::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> inputs_of(const std::string& target) {
  std::vector<fs::path> files;
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path dir = fs::path(CELL_FUZZ_DIR) / kind / target;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string contents(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Replay : public ::testing::TestWithParam<Target> {};

TEST_P(Replay, EveryCorpusAndRegressionInputPasses) {
  const std::vector<fs::path> files = inputs_of(GetParam().name);
  ASSERT_FALSE(files.empty()) << "no corpus for " << GetParam().name;
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    const std::string data = contents(f);
    // A broken invariant aborts the process (and names the file through the trace above).
    std::fprintf(stderr, "replay %s\n", f.c_str());
    EXPECT_EQ(GetParam().run(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, Replay, ::testing::ValuesIn(kTargets),
                         [](const ::testing::TestParamInfo<Target>& i) { return i.param.name; });

}  // namespace
}  // namespace cell::fuzz
