// libFuzzer's entry point for one target; CELL_FUZZ_TARGET names its function (targets.hpp).
#include "fuzz/targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return cell::fuzz::CELL_FUZZ_TARGET(data, size);
}
