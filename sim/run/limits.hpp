#pragma once
// Limits checked before any work: an estimate of the memory a run needs, compared with
// --max-memory (default: the memory available on the machine) before the world is built.
#include <cstdint>
#include <string>

namespace ruralsim {

struct Scenario;

struct MemoryEstimate {
  double villages = 0;
  double households = 0;
  double max_stores = 0;  // adoption.h_max x households
  std::uint64_t bytes = 0;
};

// MemAvailable from /proc/meminfo (physical pages as a fallback), in bytes.
std::uint64_t available_memory_bytes();

// "512M", "8G", "1.5GiB", "2000000000" (bytes) -> bytes. UsageError naming `option` otherwise.
std::uint64_t parse_memory_size(const std::string& text, const std::string& option);

// "1.2 GiB" / "350 MiB".
std::string format_bytes(std::uint64_t bytes);

// Estimate for a validated scenario (a CSV village table is counted by lines, with
// geography.households_mean households per village).
MemoryEstimate estimate_memory(const Scenario& sc);

// InputError if the estimate exceeds `limit_bytes`; `limit_source` says where the limit came
// from (e.g. "--max-memory 2G" or "the memory available on this machine").
void enforce_memory_limit(const Scenario& sc, std::uint64_t limit_bytes,
                          const std::string& limit_source);

}  // namespace ruralsim
