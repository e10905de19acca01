#include <catch2/catch.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/params.hpp"
#include "io/geography.hpp"
#include "model/world.hpp"

using ruralsim::Category;
using ruralsim::Geography;
using ruralsim::Id;
using ruralsim::InputError;
using ruralsim::Params;

namespace {

std::string data_dir() {
#ifdef RURALSIM_TEST_DATA_DIR
  return RURALSIM_TEST_DATA_DIR;
#else
  return (std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "data").string();
#endif
}

std::string geo_file(const std::string& name) {
  return data_dir() + "/geo/" + name;
}

std::vector<Category> test_categories() {
  return {{"fresh_produce", 0.15, 0.22, 60.0},
          {"processed_food", 0.20, 0.28, 70.0},
          {"handicrafts", 0.15, 0.35, 120.0},
          {"light_manufacturing", 0.30, 0.20, 90.0},
          {"apparel", 0.20, 0.30, 100.0}};
}

Params csv_params() {
  Params p;
  p.geography.source = "csv";
  return p;
}

std::size_t find_village(const Geography& g, std::int64_t code) {
  for (std::size_t v = 0; v < g.villages(); ++v)
    if (g.village_code[v] == code) return v;
  FAIL("village code " << code << " not found");
  return 0;
}

// County and town ranges tile [0, villages) in order, and every village lies in the ranges of
// its own town and county.
void check_ranges(const Geography& g) {
  const std::size_t nv = g.villages(), nc = g.counties(), nt = g.towns();
  REQUIRE(g.county_village_begin.size() == nc);
  REQUIRE(g.county_village_end.size() == nc);
  REQUIRE(g.town_village_begin.size() == nt);
  REQUIRE(g.town_village_end.size() == nt);
  REQUIRE(g.village_county.size() == nv);
  REQUIRE(g.village_province.size() == nv);
  Id next = 0;
  for (std::size_t c = 0; c < nc; ++c) {
    CHECK(g.county_village_begin[c] == next);
    CHECK(g.county_village_begin[c] < g.county_village_end[c]);
    for (Id v = g.county_village_begin[c]; v < g.county_village_end[c]; ++v) {
      CHECK(g.village_county[v] == c);
      CHECK(g.village_province[v] == g.county_province[c]);
    }
    next = g.county_village_end[c];
    if (c > 0) CHECK(g.county_province[c - 1] <= g.county_province[c]);
  }
  CHECK(next == nv);
  next = 0;
  for (std::size_t t = 0; t < nt; ++t) {
    CHECK(g.town_village_begin[t] == next);
    CHECK(g.town_village_begin[t] < g.town_village_end[t]);
    const Id c = g.town_county[t];
    CHECK(g.town_village_begin[t] >= g.county_village_begin[c]);
    CHECK(g.town_village_end[t] <= g.county_village_end[c]);
    for (Id v = g.town_village_begin[t]; v < g.town_village_end[t]; ++v)
      CHECK(g.village_town[v] == t);
    next = g.town_village_end[t];
    if (t > 0) CHECK(g.town_county[t - 1] <= g.town_county[t]);
  }
  CHECK(next == nv);
}

// Neighbour lists: sorted, no self, symmetric, and exactly the pairs within radius_km.
void check_neighbours(const Geography& g, double radius) {
  const std::size_t nv = g.villages();
  REQUIRE(g.nbr_offset.size() == nv + 1);
  REQUIRE(g.nbr_offset[nv] == g.nbr_index.size());
  std::set<std::pair<Id, Id>> listed, expected;
  for (std::size_t v = 0; v < nv; ++v) {
    for (std::uint64_t i = g.nbr_offset[v]; i < g.nbr_offset[v + 1]; ++i) {
      const Id w = g.nbr_index[i];
      CHECK(w != v);
      if (i > g.nbr_offset[v]) CHECK(g.nbr_index[i - 1] < w);
      listed.emplace(static_cast<Id>(v), w);
    }
    for (std::size_t w = 0; w < nv; ++w) {
      if (w == v) continue;
      const double dx = g.village_x[w] - g.village_x[v], dy = g.village_y[w] - g.village_y[v];
      if (dx * dx + dy * dy <= radius * radius)
        expected.emplace(static_cast<Id>(v), static_cast<Id>(w));
    }
  }
  for (const auto& [a, b] : listed) CHECK(listed.count({b, a}) == 1);
  CHECK(listed == expected);
}

std::string number(double x) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, x);
  REQUIRE(ec == std::errc());
  return std::string(buf, ptr);
}

}  // namespace

TEST_CASE("village table: a small valid file", "[csv][geography]") {
  const Params p = csv_params();
  const auto cats = test_categories();
  const Geography g = ruralsim::load_geography_csv(geo_file("good_small.csv"), p, cats);

  REQUIRE(g.provinces() == 2);
  REQUIRE(g.counties() == 3);
  REQUIRE(g.towns() == 5);
  REQUIRE(g.villages() == 20);

  CHECK(g.province_name == std::vector<std::string>{"P11", "P32"});
  CHECK(g.province_industrial_base == std::vector<double>{1.0, 1.0});
  CHECK(g.province_rollout_offset == std::vector<double>{0.0, 0.0});
  CHECK(g.county_code == std::vector<std::int64_t>{1101, 1102, 3201});
  CHECK(g.county_province == std::vector<Id>{0, 0, 1});
  CHECK(g.town_code == std::vector<std::int64_t>{110101, 110102, 110201, 320101, 320102});
  CHECK(g.town_county == std::vector<Id>{0, 0, 1, 2, 2});
  std::vector<std::int64_t> codes;
  for (std::int64_t c = 1001; c <= 1012; ++c) codes.push_back(c);
  for (std::int64_t c = 2001; c <= 2008; ++c) codes.push_back(c);
  CHECK(g.village_code == codes);

  check_ranges(g);
  check_neighbours(g, p.adoption.radius_km);
  CHECK(g.nbr_index.size() > 0);

  // Values read from the table (including a padded row and a quoted field).
  const auto v1001 = find_village(g, 1001), v1003 = find_village(g, 1003);
  const auto v1006 = find_village(g, 1006), v1007 = find_village(g, 1007);
  const auto v2002 = find_village(g, 2002), v1002 = find_village(g, 1002);
  CHECK(g.households[v1001] == 320);
  CHECK(g.households[v1007] == 275);
  CHECK(g.village_x[v1007] == 103.1);
  CHECK(g.village_y[v1007] == 105.0);
  CHECK(g.strength[v1001] == 1.5);
  CHECK(g.strength[v1007] == 0.7);
  CHECK(g.specialty[v1001] == 0);  // by name
  CHECK(g.specialty[v1003] == 0);  // by index
  CHECK(g.specialty[v1006] == 2);  // quoted name
  CHECK(g.specialty[v2002] == 4);
  CHECK(g.county_poverty == std::vector<std::uint8_t>{1, 0, 0});

  // Drawn values.
  CHECK(std::isfinite(g.strength[v1002]));
  CHECK(g.strength[v1002] > 0);
  for (std::size_t v = 0; v < g.villages(); ++v) {
    CHECK(std::isfinite(g.base_income[v]));
    CHECK(g.base_income[v] > 0);
    CHECK(g.specialty[v] < cats.size());
  }

  // County specialty: the most common in the county (ties to the lowest index); the drawn
  // county specialty where the table gives none (county 1102).
  CHECK(g.county_specialty[0] == 0);
  CHECK(g.county_specialty[1] < cats.size());
  CHECK(g.county_specialty[2] == 4);

  // Seats: household-weighted means.
  const double hh = 500 + 220 + 340 + 310;
  CHECK(g.county_x[1] == Approx((140.0 * 500 + 141.2 * 220 + 138.9 * 340 + 142.5 * 310) / hh));
  CHECK(g.county_y[1] == Approx((100.0 * 500 + 101.3 * 220 + 99.1 * 340 + 98.4 * 310) / hh));
  CHECK(g.town_x[2] == Approx(g.county_x[1]));
  REQUIRE(g.dist_seat.size() == g.villages());
  for (std::size_t v = 0; v < g.villages(); ++v) {
    CHECK(std::isfinite(g.dist_seat[v]));
    const Id c = g.village_county[v];
    CHECK(g.dist_seat[v] ==
          Approx(std::hypot(g.village_x[v] - g.county_x[c], g.village_y[v] - g.county_y[c])));
  }

  // Deterministic in geography.seed.
  const Geography again = ruralsim::load_geography_csv(geo_file("good_small.csv"), p, cats);
  CHECK(again.strength == g.strength);
  CHECK(again.base_income == g.base_income);
  CHECK(again.specialty == g.specialty);
  Params q = p;
  q.geography.seed += 1;
  const Geography other = ruralsim::load_geography_csv(geo_file("good_small.csv"), q, cats);
  CHECK(other.strength[v1001] == 1.5);
  CHECK(other.strength[v1002] != g.strength[v1002]);
  CHECK(other.base_income != g.base_income);
}

TEST_CASE("village table: a generated geography round-trips through the required columns",
          "[csv][geography]") {
  Params p;
  p.geography.provinces = 2;
  p.geography.counties_per_province = 3;
  p.geography.towns_per_county = 3;
  p.geography.villages_per_town = 4.0;
  p.geography.industrial_base_sigma = 0.0;  // CSV provinces have industrial base 1
  const auto cats = test_categories();
  const Geography gen = ruralsim::generate_geography(p, cats.size());

  const auto path = std::filesystem::temp_directory_path() / "ruralsim_test_geography_rt.csv";
  {
    std::ofstream out(path);
    out << "households,y,x,province,county,town,id\n";
    for (std::size_t v = 0; v < gen.villages(); ++v)
      out << gen.households[v] << ',' << number(gen.village_y[v]) << ',' << number(gen.village_x[v])
          << ',' << gen.village_province[v] << ',' << gen.county_code[gen.village_county[v]] << ','
          << gen.town_code[gen.village_town[v]] << ',' << gen.village_code[v] << '\n';
  }
  Params pc = p;
  pc.geography.source = "csv";
  const Geography g = ruralsim::load_geography_csv(path.string(), pc, cats);
  std::filesystem::remove(path);

  REQUIRE(g.villages() == gen.villages());
  CHECK(g.counties() == gen.counties());
  CHECK(g.towns() == gen.towns());
  CHECK(g.village_code == gen.village_code);
  CHECK(g.village_x == gen.village_x);
  CHECK(g.households == gen.households);
  CHECK(g.specialty == gen.specialty);
  CHECK(g.county_specialty == gen.county_specialty);
  CHECK(g.strength == gen.strength);
  CHECK(g.base_income == gen.base_income);
  CHECK(g.county_poverty == gen.county_poverty);  // no poverty column: lowest-income counties
  CHECK(g.nbr_offset == gen.nbr_offset);
  CHECK(g.nbr_index == gen.nbr_index);
  check_ranges(g);
}

TEST_CASE("village table: faults are located by file, line and column", "[csv][geography]") {
  struct Case {
    const char* file;
    int line;    // 0: no line expected
    int column;  // 0: no column expected
    const char* fragment;
  };
  const Case cases[] = {
      {"bad_empty.csv", 0, 0, "empty"},
      {"bad_header_only.csv", 2, 0, "no villages"},
      {"bad_unknown_column.csv", 1, 40, "unknown column 'elevation' (valid columns: id, town"},
      {"bad_duplicate_column.csv", 1, 40, "duplicate column 'x'"},
      {"bad_missing_households.csv", 1, 0, "missing required column(s): households"},
      {"bad_nonnumeric_x.csv", 3, 12, "column 'x': not a number: 'abc'"},
      {"bad_nonfinite_y.csv", 2, 16, "column 'y': not a finite number"},
      {"bad_households_zero.csv", 4, 20, "column 'households': must be an integer >= 1"},
      {"bad_households_fraction.csv", 2, 20, "column 'households': not an integer"},
      {"bad_id_not_integer.csv", 2, 1, "column 'id': not an integer id"},
      {"bad_duplicate_id.csv", 6, 1, "duplicate village id 1 (first at line 2)"},
      {"bad_town_two_counties.csv", 4, 3,
       "town 10 is under county 101 here but under county 100 at line 2"},
      {"bad_county_two_provinces.csv", 3, 6,
       "county 100 is under province 2 here but under province 1 at line 2"},
      {"bad_unknown_specialty.csv", 3, 24, "unknown specialty 'tea' (valid: fresh_produce,"},
      {"bad_field_count.csv", 3, 24, "wrong number of fields: expected 7"},
      {"bad_too_few_fields.csv", 3, 15, "wrong number of fields: expected 7"},
      {"bad_poverty_inconsistent.csv", 3, 24, "inconsistent poverty flag for county 100"},
      {"bad_strength_negative.csv", 2, 24, "column 'strength': must be > 0"},
  };
  const Params p = csv_params();
  const auto cats = test_categories();
  for (const Case& c : cases) {
    INFO(c.file);
    const std::string path = geo_file(c.file);
    std::string where = path;
    if (c.line > 0) where += ":" + std::to_string(c.line);
    if (c.column > 0) where += ":" + std::to_string(c.column);
    where += ": ";
    try {
      (void)ruralsim::load_geography_csv(path, p, cats);
      FAIL("no InputError for " << c.file);
    } catch (const InputError& e) {
      const std::string msg = e.what();
      INFO(msg);
      CHECK(msg.rfind(where, 0) == 0);
      CHECK(msg.find(c.fragment) != std::string::npos);
    }
  }
}

TEST_CASE("village table: a missing file", "[csv][geography]") {
  const std::string path = geo_file("does_not_exist.csv");
  try {
    (void)ruralsim::load_geography_csv(path, csv_params(), test_categories());
    FAIL("no InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) == path + ": cannot open the village table (no such file)");
  }
}

TEST_CASE("generated geography: contiguous ranges and exact neighbour lists", "[geography]") {
  Params p;
  p.geography.provinces = 2;
  p.geography.counties_per_province = 2;
  p.geography.towns_per_county = 4;
  p.geography.villages_per_town = 6.0;
  p.adoption.radius_km = 4.0;
  const Geography g = ruralsim::generate_geography(p, 5);
  REQUIRE(g.provinces() == 2);
  REQUIRE(g.counties() == 4);
  REQUIRE(g.towns() == 16);
  REQUIRE(g.villages() >= 16);
  check_ranges(g);
  check_neighbours(g, p.adoption.radius_km);
  CHECK(g.nbr_index.size() > 0);
  REQUIRE(g.dist_seat.size() == g.villages());
  for (double d : g.dist_seat) CHECK(std::isfinite(d));
}

TEST_CASE("generated geography: exact neighbour lists in dense single-town layouts",
          "[geography]") {
  // Every village within a few grid cells of the corner: exercises the cells at the grid edge.
  for (std::int64_t seed = 1; seed <= 20; ++seed) {
    Params p;
    p.geography.seed = seed;
    p.geography.counties_per_province = 1;
    p.geography.towns_per_county = 1;
    p.geography.villages_per_town = 30.0;
    p.geography.town_radius_km = 7.0;
    p.adoption.radius_km = 5.0;
    const Geography g = ruralsim::generate_geography(p, 5);
    INFO("seed " << seed);
    check_ranges(g);
    check_neighbours(g, p.adoption.radius_km);
  }
}
