// Intervention types (docs/ODD.md section 7): parsing from YAML with located errors, targeting,
// time windows with decay, and the effect of apply() on a small generated world.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/params.hpp"
#include "io/geography.hpp"
#include "model/outputs.hpp"
#include "model/submodels.hpp"
#include "model/world.hpp"
#include "policy/common.hpp"
#include "policy/intervention.hpp"

using namespace ruralsim;
using Catch::Matchers::Contains;

namespace {

constexpr int kTpy = 52;
constexpr int kStart = 2009;
constexpr std::uint64_t kSeed = 7;

// 1 province x 3 counties x 2 towns x (1 + Poisson(2)) villages.
Params small_params() {
  Params p;
  p.simulation.start_year = kStart;
  p.simulation.ticks_per_year = kTpy;
  p.geography.provinces = 1;
  p.geography.counties_per_province = 3;
  p.geography.towns_per_county = 2;
  p.geography.villages_per_town = 3;
  p.geography.poverty_share = 0.67;  // two of the three counties are poverty-listed
  return p;
}

World small_world(const Params& p) {
  World w;
  w.categories = {
      {"food", 0.5, 0.25, 80.0}, {"crafts", 0.3, 0.3, 60.0}, {"clothing", 0.2, 0.2, 90.0}};
  w.geo = generate_geography(p, w.categories.size());
  const std::vector<std::pair<int, double>> demand_table;
  Clock clk;
  clk.ticks_per_year = kTpy;
  clk.start_year = kStart;
  double hh = 0;
  for (auto h : w.geo.households) hh += h;
  const StepCtx ctx{p, w.categories, demand_table, clk, kSeed, hh};
  init_state(w, ctx);
  return w;
}

Clock clock_at(int tick) {
  Clock clk;
  clk.tick = tick;
  clk.ticks_per_year = kTpy;
  clk.start_year = kStart;
  clk.total_ticks = 100 * kTpy;
  return clk;
}

// First tick of a calendar year, plus `week` ticks.
int tick_of(int year, int week = 0) {
  return (year - kStart) * kTpy + week;
}

std::unique_ptr<Intervention> make(const std::string& yaml, int index = 0) {
  return make_intervention(YAML::Load(yaml), "test.yaml", index);
}

// Each intervention gets its own index (as in a scenario's list) unless one is given: the
// world keeps resolved targets per index.
std::unique_ptr<Intervention> make_init(const std::string& yaml, World& w, const Params& p,
                                        int index = -1) {
  static int next = 0;
  auto iv = make(yaml, index >= 0 ? index : next++);
  iv->initialize(w, p, kSeed);
  return iv;
}

// What the simulation does at step 2: reset the modifiers, then apply the interventions.
void step2(World& w, const Params& p, const std::vector<const Intervention*>& ivs, int tick) {
  std::fill(w.v.tau.begin(), w.v.tau.end(), 0.0);
  std::fill(w.v.brand_mult.begin(), w.v.brand_mult.end(), 1.0);
  std::fill(w.v.quality_mult.begin(), w.v.quality_mult.end(), 1.0);
  std::fill(w.v.ship_subsidy.begin(), w.v.ship_subsidy.end(), 0.0);
  const auto& rp = p.recognition;
  w.rules = {rp.village_sales,    rp.village_stores,     rp.village_store_share,
             rp.town_villages,    rp.town_sales,         rp.town_stores,
             rp.visibility_boost, rp.fixed_cost_subsidy, rp.can_lose};
  w.tick = tick;
  const Clock clk = clock_at(tick);
  for (const auto* iv : ivs) iv->apply(w, p, clk, kSeed);
}
void step2(World& w, const Params& p, const Intervention& iv, int tick) {
  step2(w, p, std::vector<const Intervention*>{&iv}, tick);
}

// Message of the InputError thrown by f ("" if none was thrown).
template <class F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// A copy: the next intervention initialised with the same index overwrites the world's slot.
std::vector<Id> targets_of(const Intervention& iv, const World& w) {
  const auto* ci = dynamic_cast<const CountyIntervention*>(&iv);
  REQUIRE(ci != nullptr);
  return ci->targets(w);
}

bool in_counties(const World& w, Id v, const std::vector<Id>& cs) {
  return std::find(cs.begin(), cs.end(), w.geo.village_county[v]) != cs.end();
}

double county_mean_income(const World& w, Id c) {
  double inc = 0, hh = 0;
  for (auto v = w.geo.county_village_begin[c]; v < w.geo.county_village_end[c]; ++v) {
    inc += w.geo.base_income[v] * w.geo.households[v];
    hh += w.geo.households[v];
  }
  return inc / hh;
}

int stations_in(const World& w, Id c) {
  int n = 0;
  for (auto v = w.geo.county_village_begin[c]; v < w.geo.county_village_end[c]; ++v)
    n += w.v.station[v];
  return n;
}

// Strength of a window [start, start + years) with half-life hl, at the middle of `tick`.
double expected_strength(double start, double years, double hl, int tick) {
  const double t = clock_at(tick).time_mid();
  if (t < start) return 0.0;
  if (t < start + years) return 1.0;
  return hl > 0 ? std::exp2(-(t - start - years) / hl) : 0.0;
}

const std::vector<std::string> kTypes = {"rural_technology_officer", "livestream_training",
                                         "station_programme",        "county_centre_programme",
                                         "branding_programme",       "shipping_subsidy",
                                         "internet_upgrade",         "taobao_thresholds"};

}  // namespace

TEST_CASE("small test world is as expected", "[policy]") {
  const Params p = small_params();
  World w = small_world(p);
  REQUIRE(w.geo.counties() == 3);
  for (Id c = 0; c < 3; ++c)
    REQUIRE(w.geo.county_village_end[c] - w.geo.county_village_begin[c] >= 2);
  int poor = 0;
  for (auto f : w.geo.county_poverty) poor += f;
  REQUIRE(poor == 2);
  REQUIRE(w.v.tau.size() == w.geo.villages());
  REQUIRE(w.c.trained_pending.size() == 3);
  REQUIRE(w.cq.size() == 3 * static_cast<std::size_t>(Q_COUNT - kVillageQ));
}

TEST_CASE("every type builds with defaults and its yaml() round-trips", "[policy]") {
  for (const auto& t : kTypes) {
    INFO(t);
    auto iv = make("{type: " + t + "}");
    CHECK(iv->type() == t);
    const std::string y = iv->yaml();
    CHECK_THAT(y, Contains("type: " + t));
    CHECK(y.front() == '{');
    CHECK(y.back() == '}');
    CHECK(make(y)->yaml() == y);
  }
  // Non-default values and explicit counties survive the round trip too.
  const std::vector<std::string> entries = {
      "{type: rural_technology_officer, start_year: 2020, years: 2, half_life_years: 0.5, "
      "counties: [0, 2], quality: 1.3, tau: 0.75}",
      "{type: livestream_training, rule: poorest, count: 1, per_county_per_year: 12, "
      "initial_followers: 2500, skill: 1.5}",
      "{type: station_programme, per_year: 3, subsidy_years: 1.5}",
      "{type: county_centre_programme, rule: random, count: 2, per_year: 1}",
      "{type: branding_programme, brand: 1.2, half_life_years: 2}",
      "{type: shipping_subsidy, rmb_per_parcel: 0.5, rule: poverty_listed}",
      "{type: internet_upgrade, boost: 0.35}",
      "{type: taobao_thresholds, from_year: 2018, village_sales: 12345678, village_stores: 50, "
      "town_villages: 2, can_lose: true}"};
  for (const auto& e : entries) {
    INFO(e);
    const std::string y = make(e)->yaml();
    CHECK(make(y)->yaml() == y);
  }
  const std::string tt = make(entries.back())->yaml();
  CHECK_THAT(tt, Contains("village_sales: 12345678"));
  CHECK_THAT(tt, Contains("can_lose: true"));
  CHECK_THAT(tt, !Contains("town_sales") && !Contains("village_store_share") &&
                     !Contains("visibility_boost"));
  CHECK_THAT(make(entries[0])->yaml(), Contains("counties: [0, 2]") && Contains("quality: 1.3") &&
                                           Contains("half_life_years: 0.5"));
}

TEST_CASE("unknown keys are rejected with the key and its line", "[policy]") {
  for (const auto& t : kTypes) {
    INFO(t);
    const std::string msg = input_error([&] { make("type: " + t + "\nbogus_key: 1\n"); });
    CHECK_THAT(msg, Contains("test.yaml:2:"));
    CHECK_THAT(msg, Contains("interventions[0].bogus_key"));
    CHECK_THAT(msg, Contains("valid keys"));
  }
  // Only decaying types accept a half-life.
  for (const char* t : {"livestream_training", "station_programme", "county_centre_programme",
                        "shipping_subsidy"}) {
    INFO(t);
    CHECK_THAT(input_error([&] { make(std::string("type: ") + t + "\nhalf_life_years: 1\n"); }),
               Contains("half_life_years") && Contains("test.yaml:2:"));
  }
  // taobao_thresholds has no targeting.
  CHECK_THAT(input_error([] { make("type: taobao_thresholds\nrule: poorest\n"); }),
             Contains("test.yaml:2:") && Contains(".rule"));
}

TEST_CASE("out-of-range values are rejected with the key and its line", "[policy]") {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"rural_technology_officer", "quality: 0.5"},
      {"rural_technology_officer", "tau: -1"},
      {"rural_technology_officer", "quality: 11"},
      {"livestream_training", "per_county_per_year: -3"},
      {"livestream_training", "per_county_per_year: 2.5"},
      {"livestream_training", "initial_followers: -1"},
      {"livestream_training", "skill: 0"},
      {"station_programme", "per_year: -1"},
      {"station_programme", "subsidy_years: 101"},
      {"county_centre_programme", "per_year: -2"},
      {"branding_programme", "brand: 0.9"},
      {"branding_programme", "brand: 10.5"},
      {"shipping_subsidy", "rmb_per_parcel: -0.1"},
      {"shipping_subsidy", "rmb_per_parcel: 1001"},
      {"internet_upgrade", "boost: 1.5"},
      {"internet_upgrade", "boost: abc"},
      {"internet_upgrade", "start_year: 1800"},
      {"taobao_thresholds", "from_year: 1800"},
      {"taobao_thresholds", "village_sales: -1"},
      {"taobao_thresholds", "village_stores: 1.5"},
      {"taobao_thresholds", "village_store_share: 2"},
      {"taobao_thresholds", "town_villages: 2000000"},
      {"taobao_thresholds", "town_sales: -5"},
      {"taobao_thresholds", "town_stores: -1"},
      {"taobao_thresholds", "visibility_boost: 101"},
      {"taobao_thresholds", "fixed_cost_subsidy: 1.5"},
      {"taobao_thresholds", "can_lose: maybe"},
  };
  for (const auto& entry : bad) {
    const std::string &type = entry.first, &line = entry.second;
    const std::string key = line.substr(0, line.find(':'));
    INFO(type << " / " << line);
    const std::string msg = input_error([&] { make("type: " + type + "\n" + line + "\n"); });
    CHECK_THAT(msg, Contains("test.yaml:2:"));
    CHECK_THAT(msg, Contains("interventions[0]." + key));
  }
  CHECK_THAT(input_error([] { make("type: internet_upgrade\nboost: 1.5\n"); }),
             Contains("out of range") && Contains("[0, 1]"));
  CHECK_THAT(input_error([] { make("type: taobao_thresholds\ncan_lose: maybe\n"); }),
             Contains("unchanged, true, false"));
  // The index of the entry appears in the key.
  CHECK_THAT(input_error([] {
               make_intervention(YAML::Load("type: branding_programme\nbrand: 0\n"), "s.yaml", 4);
             }),
             Contains("s.yaml:2:") && Contains("interventions[4].brand"));
}

TEST_CASE("county targeting by ids and by rule", "[policy]") {
  const Params p = small_params();
  World w = small_world(p);

  SECTION("default targets every county") {
    CHECK(targets_of(*make_init("{type: branding_programme}", w, p), w) ==
          std::vector<Id>{0, 1, 2});
  }
  SECTION("explicit ids, sorted and deduplicated") {
    CHECK(targets_of(*make_init("{type: branding_programme, counties: [2, 0, 2]}", w, p), w) ==
          std::vector<Id>{0, 2});
  }
  SECTION("poorest") {
    Id poorest = 0;
    for (Id c = 1; c < 3; ++c)
      if (county_mean_income(w, c) < county_mean_income(w, poorest)) poorest = c;
    CHECK(targets_of(*make_init("{type: shipping_subsidy, rule: poorest, count: 1}", w, p), w) ==
          std::vector<Id>{poorest});
    CHECK(targets_of(*make_init("{type: shipping_subsidy, rule: poorest}", w, p), w).size() == 3);
  }
  SECTION("poverty_listed with and without a count") {
    std::vector<Id> listed;
    for (Id c = 0; c < 3; ++c)
      if (w.geo.county_poverty[c]) listed.push_back(c);
    // every listed county, in priority order (poorest first): compare as sets
    auto got = targets_of(*make_init("{type: internet_upgrade, rule: poverty_listed}", w, p), w);
    std::sort(got.begin(), got.end());
    CHECK(got == listed);
    const auto one =
        targets_of(*make_init("{type: internet_upgrade, rule: poverty_listed, count: 1}", w, p), w);
    REQUIRE(one.size() == 1);
    CHECK(w.geo.county_poverty[one[0]] == 1);
    // The poorer of the two listed counties.
    const Id other = listed[0] == one[0] ? listed[1] : listed[0];
    CHECK(county_mean_income(w, one[0]) <= county_mean_income(w, other));
  }
  SECTION("random is deterministic in the seed") {
    auto a = make_init("{type: station_programme, rule: random, count: 2}", w, p, 0);
    const auto ta = targets_of(*a, w);
    auto b = make_init("{type: station_programme, rule: random, count: 2}", w, p, 0);
    CHECK(ta.size() == 2);
    CHECK(ta == targets_of(*b, w));
  }
  SECTION("a county id that does not exist names the entry") {
    auto iv = make("type: livestream_training\ncounties: [1, 99]\n");
    const std::string msg = input_error([&] { iv->initialize(w, p, kSeed); });
    CHECK_THAT(msg, Contains("test.yaml:1:"));
    CHECK_THAT(msg, Contains("interventions[0]"));
    CHECK_THAT(msg, Contains("county id 99 does not exist"));
  }
  SECTION("ids and a rule together are rejected") {
    CHECK_THAT(
        input_error([] { make("type: branding_programme\nrule: poorest\ncounties: [1]\n"); }),
        Contains("counties"));
  }
}

TEST_CASE("rural_technology_officer: quality and tau, window and decay", "[policy]") {
  const Params p = small_params();
  World w = small_world(p);
  auto iv =
      make_init("{type: rural_technology_officer, counties: [1], half_life_years: 0.5}", w, p);
  const std::vector<Id> tg{1};
  for (int tick : {tick_of(2020), tick_of(2020, 51), tick_of(2021), tick_of(2022, 20),
                   tick_of(2023, 51), tick_of(2024), tick_of(2024, 30), tick_of(2026)}) {
    INFO("tick " << tick);
    step2(w, p, *iv, tick);
    const double s = expected_strength(2021, 3, 0.5, tick);
    for (Id v = 0; v < w.geo.villages(); ++v) {
      const bool t = in_counties(w, v, tg);
      CHECK(w.v.tau[v] == Approx(t ? 0.3 * s : 0.0));
      CHECK(w.v.quality_mult[v] == Approx(t ? 1.0 + 0.1 * s : 1.0));
      CHECK(w.v.brand_mult[v] == 1.0);
      CHECK(w.v.ship_subsidy[v] == 0.0);
    }
  }
  // Independent check of the decay: 30.5/52 years after the end, half-life 0.5 years.
  const Id v1 = w.geo.county_village_begin[1];
  step2(w, p, *iv, tick_of(2024, 30));
  CHECK(w.v.tau[v1] == Approx(0.3 * std::exp2(-(30.5 / 52) / 0.5)));
  step2(w, p, *iv, tick_of(2023, 51));
  CHECK(w.v.tau[v1] == Approx(0.3));
  step2(w, p, *iv, tick_of(2020, 51));
  CHECK(w.v.tau[v1] == 0.0);
}

TEST_CASE("branding_programme multiplies brand_mult and decays", "[policy]") {
  const Params p = small_params();
  World w = small_world(p);
  auto a = make_init("{type: branding_programme, counties: [0, 2]}", w, p);
  auto b = make_init("{type: branding_programme, counties: [2], brand: 1.2}", w, p);
  step2(w, p, {a.get(), b.get()}, tick_of(2020, 10));
  for (Id v = 0; v < w.geo.villages(); ++v) {
    const Id c = w.geo.village_county[v];
    CHECK(w.v.brand_mult[v] == Approx(c == 0 ? 1.15 : c == 2 ? 1.15 * 1.2 : 1.0));
    CHECK(w.v.quality_mult[v] == 1.0);
  }
  // One year after the end (default half-life 1 year) the extra brand is about halved.
  const int t = tick_of(2023);
  step2(w, p, *a, t);
  const double s = expected_strength(2019, 3, 1.0, t);
  CHECK(s == Approx(0.5).margin(0.02));
  const Id v0 = w.geo.county_village_begin[0];
  CHECK(w.v.brand_mult[v0] == Approx(1.0 + 0.15 * s));
  // Without a half-life the effect stops at the end of the window.
  auto c = make_init("{type: branding_programme, half_life_years: 0}", w, p);
  step2(w, p, *c, tick_of(2022));
  CHECK(w.v.brand_mult[v0] == 1.0);
  step2(w, p, *c, tick_of(2021, 51));
  CHECK(w.v.brand_mult[v0] == Approx(1.15));
}

TEST_CASE("shipping_subsidy adds to ship_subsidy inside the window only", "[policy]") {
  const Params p = small_params();
  World w = small_world(p);
  auto iv = make_init("{type: shipping_subsidy, counties: [1], rmb_per_parcel: 0.8}", w, p);
  auto iv2 = make_init("{type: shipping_subsidy, counties: [1, 2]}", w, p);
  for (int tick : {tick_of(2018, 51), tick_of(2019), tick_of(2021, 51), tick_of(2022)}) {
    INFO("tick " << tick);
    step2(w, p, {iv.get(), iv2.get()}, tick);
    const bool on = tick >= tick_of(2019) && tick < tick_of(2022);
    for (Id v = 0; v < w.geo.villages(); ++v) {
      const Id c = w.geo.village_county[v];
      const double want = on ? (c == 1 ? 1.8 : c == 2 ? 1.0 : 0.0) : 0.0;
      CHECK(w.v.ship_subsidy[v] == Approx(want));
    }
  }
}

TEST_CASE("internet_upgrade raises internet, capped at 1, and decays", "[policy]") {
  const Params p = small_params();
  World w = small_world(p);
  auto iv = make_init("{type: internet_upgrade, counties: [0], boost: 0.3}", w, p);
  const Id a = w.geo.county_village_begin[0], b = a + 1, other = w.geo.county_village_begin[1];
  auto set_internet = [&] {  // what step 1 computes
    std::fill(w.v.internet.begin(), w.v.internet.end(), 0.5);
    w.v.internet[b] = 0.9;
  };
  set_internet();
  step2(w, p, *iv, tick_of(2014, 51));
  CHECK(w.v.internet[a] == 0.5);
  set_internet();
  step2(w, p, *iv, tick_of(2016));
  CHECK(w.v.internet[a] == Approx(0.8));
  CHECK(w.v.internet[b] == 1.0);
  CHECK(w.v.internet[other] == 0.5);
  set_internet();
  const int t = tick_of(2019, 13);
  step2(w, p, *iv, t);
  const double s = expected_strength(2015, 3, 1.0, t);
  CHECK(s < 0.5);
  CHECK(w.v.internet[a] == Approx(0.5 + 0.3 * s));
}

TEST_CASE("livestream_training queues trainees at each year start of the window", "[policy]") {
  const Params p = small_params();
  World w = small_world(p);
  auto iv = make_init("{type: livestream_training, counties: [0, 2]}", w, p);
  auto pending = [&] { return std::vector<std::int32_t>(w.c.trained_pending); };
  step2(w, p, *iv, tick_of(2018));
  CHECK(pending() == std::vector<std::int32_t>{0, 0, 0});
  step2(w, p, *iv, tick_of(2019));
  CHECK(pending() == std::vector<std::int32_t>{30, 0, 30});
  CHECK(w.c.trained_followers[0] == Approx(1000));
  CHECK(w.c.trained_skill[2] == Approx(1.2));
  CHECK(w.c.trained_skill[1] == 1.0);
  std::fill(w.c.trained_pending.begin(), w.c.trained_pending.end(), 0);  // step 4 consumes them
  step2(w, p, *iv, tick_of(2019, 1));
  CHECK(pending() == std::vector<std::int32_t>{0, 0, 0});
  step2(w, p, *iv, tick_of(2021));
  CHECK(pending() == std::vector<std::int32_t>{30, 0, 30});
  std::fill(w.c.trained_pending.begin(), w.c.trained_pending.end(), 0);
  step2(w, p, *iv, tick_of(2022));
  CHECK(pending() == std::vector<std::int32_t>{0, 0, 0});
  // Two programmes in one county in the same tick: trainee-weighted followers and skill.
  auto small = make_init(
      "{type: livestream_training, counties: [0], per_county_per_year: 10, initial_followers: 500, "
      "skill: 1.0}",
      w, p);
  step2(w, p, {small.get(), iv.get()}, tick_of(2020));
  CHECK(w.c.trained_pending[0] == 40);
  CHECK(w.c.trained_followers[0] == Approx((10 * 500.0 + 30 * 1000.0) / 40));
  CHECK(w.c.trained_skill[0] == Approx((10 * 1.0 + 30 * 1.2) / 40));
  CHECK(w.c.trained_pending[2] == 30);
  CHECK(w.c.trained_followers[2] == Approx(1000));
}

TEST_CASE("station_programme opens per_year stations per targeted county each year", "[policy]") {
  const Params p = small_params();
  World w = small_world(p);
  auto iv = make_init(
      "{type: station_programme, counties: [0, 2], per_year: 1, subsidy_years: 1.5}", w, p);
  // The village with the largest parcel volume in county 2 goes first.
  const Id busiest = w.geo.county_village_end[2] - 1;
  w.v.parcels_year[busiest] = 5000;
  const std::size_t nv = w.geo.villages();

  step2(w, p, *iv, tick_of(2014));
  CHECK(std::count(w.v.station.begin(), w.v.station.end(), 1) == 0);
  step2(w, p, *iv, tick_of(2014, 51));
  CHECK(std::count(w.v.station.begin(), w.v.station.end(), 1) == 0);

  const int t0 = tick_of(2015);
  step2(w, p, *iv, t0);
  CHECK(stations_in(w, 0) == 1);
  CHECK(stations_in(w, 1) == 0);
  CHECK(stations_in(w, 2) == 1);
  CHECK(w.v.station[busiest] == 1);
  for (Id v = 0; v < nv; ++v) {
    if (!w.v.station[v]) continue;
    CHECK(w.v.station_opened[v] == t0);
    CHECK(w.v.station_subsidised_until[v] == t0 + 78);
    CHECK(vq_at(std::as_const(w), QV_STATIONS_OPENED, v) == 1.0);
  }
  CHECK(std::count_if(w.events.begin(), w.events.end(), [](const Event& e) {
          return e.kind == static_cast<std::int32_t>(EventKind::StationOpened);
        }) == 2);

  // Not at later ticks of the year.
  for (int k = 1; k < kTpy; ++k) step2(w, p, *iv, t0 + k);
  CHECK(stations_in(w, 0) == 1);
  CHECK(stations_in(w, 2) == 1);

  // One more per targeted county at the next year start, while villages remain.
  step2(w, p, *iv, tick_of(2016));
  CHECK(stations_in(w, 0) == 2);
  CHECK(stations_in(w, 2) == 2);
  CHECK(stations_in(w, 1) == 0);
  for (int y = 2017; y <= 2021; ++y) step2(w, p, *iv, tick_of(y));
  for (Id c : {0u, 2u}) {
    const auto n = static_cast<int>(w.geo.county_village_end[c] - w.geo.county_village_begin[c]);
    CHECK(stations_in(w, c) == std::min(n, 7));
  }
  // Nothing after the window (2015 + 7 years).
  std::fill(w.v.station.begin(), w.v.station.end(), 0);
  step2(w, p, *iv, tick_of(2022));
  CHECK(std::count(w.v.station.begin(), w.v.station.end(), 1) == 0);
}

TEST_CASE("station_programme opens exactly per_year in each targeted county", "[policy]") {
  const Params p = small_params();
  World w = small_world(p);
  auto iv = make_init("{type: station_programme, rule: poverty_listed, per_year: 2}", w, p);
  const auto& tg = targets_of(*iv, w);
  REQUIRE(tg.size() == 2);
  const int t0 = tick_of(2015);
  step2(w, p, *iv, t0);
  for (Id c = 0; c < 3; ++c) {
    const bool targeted = std::find(tg.begin(), tg.end(), c) != tg.end();
    CHECK(stations_in(w, c) == (targeted ? 2 : 0));
  }
  for (Id v = 0; v < w.geo.villages(); ++v)
    CHECK(w.v.station_subsidised_until[v] == (w.v.station[v] ? t0 + 2 * kTpy : 0));
}

TEST_CASE("county_centre_programme opens centres in the first targets without one", "[policy]") {
  const Params p = small_params();
  World w = small_world(p);
  std::fill(w.c.centre.begin(), w.c.centre.end(), 0);
  w.c.centre[0] = 1;
  w.c.centre_opened[0] = 0;
  auto iv = make_init("{type: county_centre_programme, per_year: 1}", w, p);
  const std::size_t ncq = Q_COUNT - kVillageQ;
  auto flow = [&](Id c) { return w.cq[c * ncq + (QC_CENTRES_OPENED - kVillageQ)]; };

  step2(w, p, *iv, tick_of(2014));
  CHECK(w.c.centre == std::vector<std::uint8_t>{1, 0, 0});
  const int t0 = tick_of(2015);
  step2(w, p, *iv, t0);
  CHECK(w.c.centre == std::vector<std::uint8_t>{1, 1, 0});
  CHECK(w.c.centre_opened[1] == t0);
  CHECK(flow(0) == 0.0);
  CHECK(flow(1) == 1.0);
  REQUIRE(w.events.size() == 1);
  CHECK(w.events[0].tick == t0);
  CHECK(w.events[0].kind == static_cast<std::int32_t>(EventKind::CentreOpened));
  CHECK(w.events[0].entity == 1);
  CHECK(w.events[0].value == 0.0);
  step2(w, p, *iv, t0 + 1);
  CHECK(w.c.centre == std::vector<std::uint8_t>{1, 1, 0});
  step2(w, p, *iv, tick_of(2016));
  CHECK(w.c.centre == std::vector<std::uint8_t>{1, 1, 1});
  CHECK(w.c.centre_opened[2] == tick_of(2016));
  step2(w, p, *iv, tick_of(2017));
  CHECK(w.events.size() == 2);
  CHECK(flow(1) == 1.0);
  CHECK(flow(2) == 1.0);

  // per_year larger than the candidates, restricted to explicit ids.
  World w2 = small_world(p);
  std::fill(w2.c.centre.begin(), w2.c.centre.end(), 0);
  auto iv2 =
      make_init("{type: county_centre_programme, counties: [0, 2], start_year: 2016}", w2, p);
  step2(w2, p, *iv2, tick_of(2015));
  CHECK(w2.c.centre == std::vector<std::uint8_t>{0, 0, 0});
  step2(w2, p, *iv2, tick_of(2016));
  CHECK(w2.c.centre == std::vector<std::uint8_t>{1, 0, 1});
  CHECK(w2.events.size() == 2);
}

TEST_CASE("taobao_thresholds changes only the given rules from from_year on", "[policy]") {
  const Params p = small_params();
  World w = small_world(p);
  auto iv = make_init(
      "{type: taobao_thresholds, from_year: 2020, village_sales: 5.0e6, town_stores: 150, "
      "can_lose: true}",
      w, p);
  const auto& rp = p.recognition;
  step2(w, p, *iv, tick_of(2019, 51));
  CHECK(w.rules.village_sales == rp.village_sales);
  CHECK(w.rules.town_stores == rp.town_stores);
  CHECK(w.rules.can_lose == rp.can_lose);
  for (int tick : {tick_of(2020), tick_of(2025, 7)}) {
    step2(w, p, *iv, tick);
    CHECK(w.rules.village_sales == 5.0e6);
    CHECK(w.rules.town_stores == 150);
    CHECK(w.rules.can_lose == true);
    CHECK(w.rules.village_stores == rp.village_stores);
    CHECK(w.rules.village_store_share == rp.village_store_share);
    CHECK(w.rules.town_villages == rp.town_villages);
    CHECK(w.rules.town_sales == rp.town_sales);
    CHECK(w.rules.visibility_boost == rp.visibility_boost);
    CHECK(w.rules.fixed_cost_subsidy == rp.fixed_cost_subsidy);
  }
  // Nothing else of the world changes.
  for (Id v = 0; v < w.geo.villages(); ++v) {
    CHECK(w.v.tau[v] == 0.0);
    CHECK(w.v.brand_mult[v] == 1.0);
  }
  // Every override, and can_lose: false.
  auto all = make_init(
      "{type: taobao_thresholds, from_year: 2015.5, village_sales: 1, village_stores: 2, "
      "village_store_share: 0.3, town_villages: 4, town_sales: 5, town_stores: 6, "
      "visibility_boost: 0.7, fixed_cost_subsidy: 0.8, can_lose: false}",
      w, p);
  step2(w, p, *all, tick_of(2015, 25));
  CHECK(w.rules.village_sales == rp.village_sales);
  step2(w, p, *all, tick_of(2015, 26));
  CHECK(w.rules.village_sales == 1);
  CHECK(w.rules.village_stores == 2);
  CHECK(w.rules.village_store_share == 0.3);
  CHECK(w.rules.town_villages == 4);
  CHECK(w.rules.town_sales == 5);
  CHECK(w.rules.town_stores == 6);
  CHECK(w.rules.visibility_boost == 0.7);
  CHECK(w.rules.fixed_cost_subsidy == 0.8);
  CHECK(w.rules.can_lose == false);
  // A later entry overrides an earlier one for the keys it gives.
  step2(w, p, {all.get(), iv.get()}, tick_of(2021));
  CHECK(w.rules.village_sales == 5.0e6);
  CHECK(w.rules.can_lose == true);
  CHECK(w.rules.village_stores == 2);
}

TEST_CASE("apply() keeps no hidden state", "[policy]") {
  const Params p = small_params();
  World w = small_world(p);
  std::vector<std::unique_ptr<Intervention>> ivs;
  for (const char* e : {"{type: rural_technology_officer, rule: poorest, count: 2}",
                        "{type: branding_programme, rule: random, count: 2}",
                        "{type: shipping_subsidy, counties: [1]}",
                        "{type: internet_upgrade, rule: poverty_listed}"})
    ivs.push_back(make_init(e, w, p));
  std::vector<const Intervention*> raw;
  for (const auto& iv : ivs) raw.push_back(iv.get());
  auto set_internet = [&] { std::fill(w.v.internet.begin(), w.v.internet.end(), 0.4); };
  const int t = tick_of(2021, 30);
  set_internet();
  step2(w, p, raw, t);
  const VillageState first = w.v;
  // Other ticks in between, then the same tick again: identical modifiers.
  for (int k : {tick_of(2016), tick_of(2030), tick_of(2019, 3)}) {
    set_internet();
    step2(w, p, raw, k);
  }
  set_internet();
  step2(w, p, raw, t);
  CHECK(w.v.tau == first.tau);
  CHECK(w.v.brand_mult == first.brand_mult);
  CHECK(w.v.quality_mult == first.quality_mult);
  CHECK(w.v.ship_subsidy == first.ship_subsidy);
  CHECK(w.v.internet == first.internet);
  // Something was applied at all.
  CHECK(std::any_of(first.tau.begin(), first.tau.end(), [](double x) { return x > 0; }));
  CHECK(std::any_of(first.ship_subsidy.begin(), first.ship_subsidy.end(),
                    [](double x) { return x > 0; }));
}
