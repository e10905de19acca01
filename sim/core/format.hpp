#pragma once
// Number formatting that round-trips: the shortest decimal text that reads back to the same
// double. Resolved scenarios are re-read by `ruralsim reproduce`, so no digit may be lost.
#include <charconv>
#include <cstdint>
#include <string>

namespace ruralsim {

inline std::string num(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s == "inf") return ".inf";
  if (s == "-inf") return "-.inf";
  if (s == "nan") return ".nan";
  return s;
}
inline std::string num(std::int64_t v) {
  return std::to_string(v);
}
inline std::string num(int v) {
  return std::to_string(v);
}

}  // namespace ruralsim
