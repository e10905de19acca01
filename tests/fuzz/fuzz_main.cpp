// libFuzzer entry point; RURALSIM_FUZZ_TARGET names the function of targets.hpp.
#include "fuzz/targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return ruralsim::fuzz::RURALSIM_FUZZ_TARGET(data, size);
}
