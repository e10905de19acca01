#include "run/limits.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "io/scenario.hpp"
#include "model/outputs.hpp"

namespace ruralsim {
namespace {

// The fixed part of the process, the per-village state (geography, state vectors, additive
// quantities, snapshot rows, neighbour lists, and the eight spare store slots a village with
// stores may hold) and one store with the most slots the in-place layout can give it (its 65
// bytes, a quarter more of spare slots, up to half again of dead space left by villages that
// moved, a quarter more of capacity: 152 bytes), plus its entry in a store snapshot being
// written, for the largest number of stores the model allows (adoption.h_max of the
// households). Checked against peak memory: baseline 88 MiB estimated, 86 measured;
// bench/region.yaml 551 MiB estimated, 307 measured (its stores reach a quarter of the bound)
// before the store snapshots; with them, baseline 100 MiB estimated, 72 measured,
// bench/many_stores.yaml (1.8 million stores) 693 MiB estimated, 561 measured (with the double
// buffer the in-place layout replaced).
constexpr double kFixedBytes = 48.0 * (1 << 20);
constexpr double kStoreBytes = 65;
constexpr double kPerVillageBytes = 2048 + 8 * kStoreBytes * 1.5 * 1.25;
constexpr double kPerStoreBytes = kStoreBytes * 1.25 * 1.5 * 1.25;
constexpr double kStoreSnapshotBytes = 26;

double count_data_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  double n = 0;
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    if (header) {
      header = false;
      continue;
    }
    ++n;
  }
  return n;
}

}  // namespace

std::uint64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0)
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
  return std::uint64_t{1} << 40;  // unknown: no practical limit
}

std::uint64_t parse_memory_size(const std::string& text, const std::string& option) {
  const std::string usage = "option " + option + " = '" + text +
                            "': expected a size such as 512M, 8G or 1.5T (bytes without a "
                            "suffix; K, M, G, T are powers of 1024)";
  std::size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(text, &pos);
  } catch (const std::exception&) {
    throw UsageError(usage);
  }
  std::string suffix = text.substr(pos);
  if (suffix.size() > 1 && (suffix.back() == 'B' || suffix.back() == 'b')) suffix.pop_back();
  if (suffix.size() == 2 && (suffix[1] == 'i' || suffix[1] == 'I')) suffix.pop_back();
  double mult = 1;
  if (suffix.empty())
    mult = 1;
  else if (suffix == "K" || suffix == "k")
    mult = 1024.0;
  else if (suffix == "M" || suffix == "m")
    mult = 1024.0 * 1024;
  else if (suffix == "G" || suffix == "g")
    mult = 1024.0 * 1024 * 1024;
  else if (suffix == "T" || suffix == "t")
    mult = 1024.0 * 1024 * 1024 * 1024;
  else
    throw UsageError(usage);
  const double bytes = v * mult;
  if (!std::isfinite(bytes) || bytes < (1 << 20) || bytes > 1.0e18)
    throw UsageError(usage + "; at least 1M");
  return static_cast<std::uint64_t>(bytes);
}

std::string format_bytes(std::uint64_t bytes) {
  char buf[32];
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.1f GiB", b / (1024.0 * 1024 * 1024));
  else
    std::snprintf(buf, sizeof buf, "%.0f MiB", b / (1024.0 * 1024));
  return buf;
}

MemoryEstimate estimate_memory(const Scenario& sc) {
  const Params& p = sc.params;
  MemoryEstimate e;
  if (p.geography.source == "csv")
    e.villages = count_data_lines(sc.csv_path);
  else if (p.geography.source == "provinces")
    e.villages = static_cast<double>(p.geography.national_villages);
  else
    e.villages = static_cast<double>(p.geography.provinces) * p.geography.counties_per_province *
                 p.geography.towns_per_county * p.geography.villages_per_town;
  e.households = e.villages * p.geography.households_mean;
  e.max_stores = e.households * p.adoption.h_max;
  const double snapshot_row =
      p.output.village_snapshots ? static_cast<double>(output_table().size()) * 8 * 2 : 0;
  // A store and livestreamer snapshot holds, while it is written, the index (8 bytes) and the
  // fields (18 bytes) of every live store.
  const double store_snapshot = p.output.snapshot_years.empty() ? 0 : kStoreSnapshotBytes;
  const double bytes = kFixedBytes + e.villages * (kPerVillageBytes + snapshot_row) +
                       e.max_stores * (kPerStoreBytes + store_snapshot);
  e.bytes =
      bytes > 1.0e19 ? std::uint64_t{10000000000000000000ull} : static_cast<std::uint64_t>(bytes);
  return e;
}

void enforce_memory_limit(const Scenario& sc, std::uint64_t limit_bytes,
                          const std::string& limit_source) {
  const MemoryEstimate e = estimate_memory(sc);
  if (e.bytes <= limit_bytes) return;
  auto n = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", x);
    return std::string(buf);
  };
  throw InputError(sc.path + ": the run could need up to about " + format_bytes(e.bytes) +
                   " of memory (estimate for " + n(e.villages) + " villages, " + n(e.households) +
                   " households, up to " + n(e.max_stores) + " stores), more than the limit of " +
                   format_bytes(limit_bytes) + " (" + limit_source +
                   "); reduce the geography, or raise the limit with --max-memory if the "
                   "machine has the memory");
}

}  // namespace ruralsim
