// National geography from the province table (docs/ODD.md section 5.3) and its cache.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>

#include "core/error.hpp"
#include "io/provinces.hpp"
#include "io/scenario.hpp"
#include "support.hpp"

using namespace ruralsim;

namespace {

struct TmpDir {
  std::filesystem::path path;
  TmpDir() {
    std::string t = (std::filesystem::temp_directory_path() / "ruralsim-prov-XXXXXX").string();
    REQUIRE(mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~TmpDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const auto p = (path / name).string();
    std::ofstream(p) << text;
    return p;
  }
};

const char* const kHeader =
    "province_en,region_nbs,county_level_divisions_2009,towns_plus_townships_2009,"
    "rural_pop_2008_10k,rural_net_income_per_capita_2008_yuan,poverty_counties_832_count\n";

// Sums of a per-village or per-county quantity by province.
std::vector<std::int64_t> by_province(const Geography& g, bool counties) {
  std::vector<std::int64_t> out(g.provinces(), 0);
  if (counties)
    for (auto p : g.county_province) ++out[p];
  else
    for (auto p : g.village_province) ++out[p];
  return out;
}

}  // namespace

TEST_CASE("province table: the national geography matches the table by the stated rule",
          "[provinces][geography]") {
  const std::string path = test::source_path("data/provinces_2009.csv");
  const auto rows = read_province_table(path);
  REQUIRE(rows.size() == 31);
  Params p;
  ProvinceTotals tot;
  const Geography g = build_province_geography(path, p, 5, &tot);
  REQUIRE(g.provinces() == 31);
  // Counties and towns per province exactly as published (CSY 2010 table 1-1).
  const auto counties = by_province(g, true);
  std::vector<std::int64_t> towns(31, 0);
  for (auto c : g.town_county) ++towns[g.county_province[c]];
  std::int64_t all_counties = 0, all_towns = 0;
  for (std::size_t i = 0; i < 31; ++i) {
    CHECK(counties[i] == rows[i].counties);
    CHECK(towns[i] == rows[i].towns);
    all_counties += counties[i];
    all_towns += towns[i];
  }
  CHECK(all_counties == 2858);
  CHECK(all_towns == 34170);
  // Villages: 599,078 in all, each province within one village of its share of the towns.
  const auto villages = by_province(g, false);
  CHECK(std::accumulate(villages.begin(), villages.end(), std::int64_t{0}) == 599078);
  for (std::size_t i = 0; i < 31; ++i) {
    const double share = 599078.0 * static_cast<double>(rows[i].towns) / 34170.0;
    CHECK(std::abs(static_cast<double>(villages[i]) - share) < 1.0);
    CHECK(villages[i] == tot.villages[i]);
  }
  // Every town has a village and every county a town.
  for (std::size_t t = 0; t < g.towns(); ++t)
    CHECK(g.town_village_end[t] > g.town_village_begin[t]);
  // Households: rural population / household size per province; blank cells (Qinghai, Ningxia,
  // Xinjiang) get the persons per village of the other provinces.
  double known_pop = 0, known_villages = 0;
  for (std::size_t i = 0; i < 31; ++i)
    if (rows[i].rural_pop_10k > 0) {
      known_pop += rows[i].rural_pop_10k;
      known_villages += static_cast<double>(villages[i]);
    }
  std::vector<std::int64_t> hh(31, 0);
  for (std::size_t v = 0; v < g.villages(); ++v) {
    CHECK(g.households[v] >= 1);
    hh[g.village_province[v]] += g.households[v];
  }
  int filled = 0;
  for (std::size_t i = 0; i < 31; ++i) {
    const bool blank = !(rows[i].rural_pop_10k > 0);
    filled += blank;
    const double pop = blank ? known_pop / known_villages * static_cast<double>(villages[i])
                             : rows[i].rural_pop_10k;
    CHECK(hh[i] == std::llround(pop * 1.0e4 / 3.5));
  }
  CHECK(filled == 3);
  // Poverty-listed counties per province as counted, at most the province's counties (Tibet:
  // 74 listed, 73 county-level divisions).
  std::vector<std::int64_t> pov(31, 0);
  for (std::size_t c = 0; c < g.counties(); ++c) pov[g.county_province[c]] += g.county_poverty[c];
  std::int64_t all_pov = 0;
  for (std::size_t i = 0; i < 31; ++i) {
    CHECK(pov[i] == std::min(rows[i].poverty_counties, rows[i].counties));
    all_pov += pov[i];
  }
  CHECK(all_pov == 831);
  // Base income: a province's household-weighted mean is its 2008 income x household size x
  // the 2008->2009 factor, up to the within-province dispersion.
  std::vector<double> inc(31, 0.0);
  for (std::size_t v = 0; v < g.villages(); ++v)
    inc[g.village_province[v]] += g.base_income[v] * g.households[v];
  for (std::size_t i = 0; i < 31; ++i) {
    const double expect = rows[i].income_per_capita * 3.5 * p.geography.province_income_scale;
    CHECK(inc[i] / static_cast<double>(hh[i]) == Approx(expect).epsilon(0.05));
  }
  // Roll-out offsets by NBS region.
  for (std::size_t i = 0; i < 31; ++i) {
    const double want = rows[i].region == "east" ? -1.0 : rows[i].region == "west" ? 1.0 : 0.0;
    CHECK(g.province_rollout_offset[i] == want);
  }
}

TEST_CASE("province table: bad rows are located by file, line and column",
          "[provinces][geography]") {
  TmpDir tmp;
  const std::string good_row = "Alpha,east,3,40,500,6000,0\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {std::string(kHeader) + good_row + "Beta,west,2,x,300,3000,2\n", ":3:13: column 'towns"},
      {std::string(kHeader) + good_row + "Beta,north,2,20,300,3000,2\n",
       ":3:6: column 'region_nbs'"},
      {std::string(kHeader) + good_row + "Alpha,west,2,20,300,3000,2\n", ":3:1: province 'Alpha'"},
      {std::string(kHeader) + good_row + "Beta,west,2,20,300,3000\n", ":3:1: expected 7 fields"},
      {std::string(kHeader) + good_row + "Beta,west,30,20,300,3000,2\n",
       ":3:14: towns and townships"},
      {std::string(kHeader) + good_row + "Beta,west,2,20,300,0,2\n", ":3:20: column 'rural_net"},
      {"province_en,region_nbs\nAlpha,east\n", ":1:1: the header has no column"},
  };
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const std::string path = tmp.write("t" + std::to_string(k) + ".csv", cases[k].first);
    try {
      read_province_table(path);
      FAIL("no error for case " << k);
    } catch (const InputError& e) {
      INFO("case " << k << ": " << e.what());
      CHECK(std::string(e.what()).find(path + cases[k].second) != std::string::npos);
    }
  }
}

TEST_CASE("province table: a cache hit gives the same geography and results bit for bit",
          "[provinces][geography][cache]") {
  TmpDir tmp;
  const std::string table = tmp.write(
      "p.csv", std::string(kHeader) + "Alpha,east,2,6,40,6000,0\nBeta,west,2,5,,3000,1\n");
  const std::string yaml =
      "name: prov\nsimulation:\n  seed: 3\n  years: 3\n  ticks_per_year: 12\n"
      "geography:\n  source: provinces\n  csv: " +
      table + "\n  national_villages: 120\n";
  const std::string sc_path = tmp.write("prov.yaml", yaml);
  const Scenario sc = load_scenario(sc_path);
  const std::string cache = (tmp.path / "cache").string();
  set_geography_cache_dir(cache);
  bool hit = true;
  const Geography miss_geo =
      cached_province_geography(sc.csv_path, sc.params, sc.categories.size(), &hit);
  CHECK_FALSE(hit);
  const Geography hit_geo =
      cached_province_geography(sc.csv_path, sc.params, sc.categories.size(), &hit);
  CHECK(hit);
  CHECK(hit_geo.village_x == miss_geo.village_x);
  CHECK(hit_geo.base_income == miss_geo.base_income);
  CHECK(hit_geo.nbr_index == miss_geo.nbr_index);
  CHECK(hit_geo.province_name == miss_geo.province_name);
  // The whole run: one from a fresh build (no cache), one from the cache file.
  set_geography_cache_dir("");
  const auto built = test::run_trace(sc, 2);
  set_geography_cache_dir(cache);
  const auto cached = test::run_trace(sc, 2);
  REQUIRE(built.values.size() == cached.values.size());
  CHECK(std::memcmp(built.values.data(), cached.values.data(),
                    built.values.size() * sizeof(double)) == 0);
  // A changed parameter or table is a different key; a damaged file is not used.
  Params other = sc.params;
  other.geography.sigma_village = 0.7;
  cached_province_geography(sc.csv_path, other, sc.categories.size(), &hit);
  CHECK_FALSE(hit);
  for (const auto& f : std::filesystem::directory_iterator(cache)) {
    std::fstream fh(f.path(), std::ios::in | std::ios::out | std::ios::binary);
    fh.seekp(200);
    fh.put('\x5a');
  }
  const Geography again =
      cached_province_geography(sc.csv_path, sc.params, sc.categories.size(), &hit);
  CHECK_FALSE(hit);
  CHECK(again.village_x == miss_geo.village_x);
  set_geography_cache_dir("");
  unsetenv("RURALSIM_CACHE");
}
