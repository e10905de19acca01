#pragma once
#include <stdexcept>
#include <string>

namespace ruralsim {

// Bad input from the user (scenario file, CSV, command line). Exit code 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Wrong command-line usage. Exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Formats "file:line:column: message" (line and column are 1-based; 0 means unknown).
std::string located(const std::string& file, int line, int column, const std::string& message);

}  // namespace ruralsim
