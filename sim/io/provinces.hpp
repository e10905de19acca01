#pragma once
// National geography from a province table (geography.source: provinces), and the cache of
// built geographies keyed by a hash of their inputs. The rule is docs/ODD.md section 5.3.
#include <cstdint>
#include <string>
#include <vector>

#include "core/params.hpp"
#include "model/world.hpp"

namespace ruralsim {

// One row of the province table, as read (blank cells of optional columns are NaN / -1).
struct ProvinceRow {
  std::string name;
  std::string region;  // NBS region: east, central, west, northeast
  std::int64_t counties = 0;
  std::int64_t towns = 0;        // towns + townships
  double rural_pop_10k = -1;     // -1: blank (filled by the stated rule)
  double income_per_capita = 0;  // rural net income per capita, RMB/yr
  std::int64_t poverty_counties = 0;
  int line = 0;
};

// Reads and checks the province table (CSV with a header; columns by name, any order, extra
// columns ignored). Bad rows are InputErrors naming file:line:column.
std::vector<ProvinceRow> read_province_table(const std::string& path);

// What the build derived per province (for tests and `validate`).
struct ProvinceTotals {
  std::vector<std::int64_t> villages, households, poverty_counties;
  std::vector<double> rural_pop_10k;  // after the fill rule
  std::vector<bool> filled;           // rural population filled by the rule
};

// Builds the national geography (including neighbour lists) from the table at `path`.
Geography build_province_geography(const std::string& path, const Params& p,
                                   std::size_t n_categories, ProvinceTotals* totals = nullptr);

// Cache directory for built geographies: set by --geography-cache, else the environment
// variable RURALSIM_CACHE; empty means no cache.
void set_geography_cache_dir(const std::string& dir);
std::string geography_cache_dir();

// Hex SHA-256 of everything the built geography depends on: the table's bytes, every
// geography.* parameter except the path, adoption.radius_km, income.household_size, the number
// of categories and the format version of the cache file.
std::string province_geography_key(const std::string& table_bytes, const Params& p,
                                   std::size_t n_categories);

// The geography of `path`, read from the cache when a file with the key exists and is intact,
// else built and (when a cache directory is set) stored. `hit` tells which happened.
Geography cached_province_geography(const std::string& path, const Params& p,
                                    std::size_t n_categories, bool* hit = nullptr);

// Geography to and from the cache file format (tests use them directly). read returns false
// for a missing, truncated, damaged or foreign file.
void write_geography_file(const std::string& path, const Geography& g, const std::string& key);
bool read_geography_file(const std::string& path, const std::string& key, Geography& g);

}  // namespace ruralsim
