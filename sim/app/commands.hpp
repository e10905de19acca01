#pragma once
#include <string>
#include <vector>

namespace ruralsim {

// The command-line interface; returns the exit code (0 ok, 2 bad input or usage, 1 failure).
int cli_main(const std::vector<std::string>& args);

}  // namespace ruralsim
