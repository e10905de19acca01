#pragma once
#include <string>
#include <vector>

namespace ruralsim {

// `ruralsim bench SCENARIO [--threads N] [--json FILE] ...` (docs/performance.md).
int cmd_bench(const std::vector<std::string>& argv);
extern const char* const kBenchHelp;

}  // namespace ruralsim
