// Mechanisms of the model checked on seeded runs: heavy-tailed audiences, stations cutting
// delivery time and shipping cost, livestream sales from the start year on.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "model/outputs.hpp"
#include "support.hpp"

using namespace ruralsim;
using namespace ruralsim::test;

TEST_CASE("baseline: heavy-tailed audiences, livestream sales from 2016, clustered Taobao Villages",
          "[mechanism][baseline]") {
  Simulation sim(scenario_file("scenarios/baseline.yaml"));
  Trace t;
  sim.run([&](const Simulation& s) { t.records.push_back(s.last_record()); });
  const std::size_t k = var("followers_top_decile_share"), n = var("livestreamers");
  auto at_year_end = [&](int year) {
    const int tick = (year - 2009 + 1) * 52 - 1;
    for (const Record& r : t.records)
      if (r.tick == tick) return r;
    FAIL("no record for " << year);
    return Record{};
  };
  const Record r2019 = at_year_end(2019), r2021 = at_year_end(2021);
  REQUIRE(r2019.national[n] >= 20);
  INFO("top-decile share 2019 " << r2019.national[k] << ", 2021 " << r2021.national[k]);
  CHECK(r2021.national[k] > r2019.national[k] + 0.03);
  CHECK(r2021.national[k] > 0.3);  // far above the 0.1 of equal audiences
  // livestream sales start in 2016 and rise
  const std::size_t ls = var("sales_livestream");
  double by_year[13] = {};
  for (const Record& r : t.records) by_year[r.tick / 52] += r.national[ls];
  for (int y = 0; y < 7; ++y) CHECK(by_year[y] == 0.0);  // 2009-2015
  CHECK(by_year[7] > 0.0);                               // 2016
  for (int y = 8; y < 13; ++y) CHECK(by_year[y] > by_year[y - 1]);

  // Taobao Villages cluster: the share of them with another one within adoption.radius_km is far
  // above what the same number placed at random among all villages gives.
  const World& w = sim.world();
  const auto& g = w.geo;
  auto share_with_neighbour = [&](const std::vector<std::uint8_t>& tv) {
    double count = 0, with = 0;
    for (std::size_t v = 0; v < g.villages(); ++v) {
      if (!tv[v]) continue;
      count += 1;
      for (auto j = g.nbr_offset[v]; j < g.nbr_offset[v + 1]; ++j)
        if (tv[g.nbr_index[j]]) {
          with += 1;
          break;
        }
    }
    return with / count;
  };
  const auto& tv = w.v.taobao;
  REQUIRE(std::count(tv.begin(), tv.end(), 1) >= 20);
  const double observed = share_with_neighbour(tv);
  double random_mean = 0, random_sq = 0;
  const int draws = 100;
  for (int d = 0; d < draws; ++d) {
    std::vector<std::uint8_t> perm(tv.begin(), tv.end());
    Stream rs(99, Purpose::Intervention, static_cast<std::uint64_t>(d), 0);
    for (std::size_t i = perm.size() - 1; i > 0; --i)  // Fisher-Yates
      std::swap(perm[i], perm[static_cast<std::size_t>(rs.uniform() * static_cast<double>(i + 1))]);
    const double s = share_with_neighbour(perm);
    random_mean += s / draws;
    random_sq += s * s / draws;
  }
  const double sd = std::sqrt(std::max(0.0, random_sq - random_mean * random_mean));
  INFO("observed " << observed << ", random " << random_mean << " +- " << sd);
  CHECK(observed > random_mean + 4 * sd);
}

TEST_CASE("a station cuts delivery time and shipping cost in a one-village scenario",
          "[mechanism][logistics]") {
  // One large village far from its county seat (no county centre): its parcel volume, mostly
  // household purchases, grows with internet access until a station opens; its stores ship
  // faster and cheaper from then on.
  const Scenario sc = scenario_text(R"(
name: one_village
simulation: {seed: 3, start_year: 2012, years: 8, ticks_per_year: 52}
geography: {provinces: 1, counties_per_province: 1, towns_per_county: 1, villages_per_town: 1,
            households_mean: 3000, households_sigma: 0, county_radius_km: 30, town_radius_km: 0.1,
            sigma_province: 0, sigma_county: 0, sigma_town: 0, sigma_village: 0}
market: {demand_initial: 3.0e11}
adoption: {seed_share: 0.01}
logistics: {station_open_parcels: 4000, parcels_in_per_household: 10, centre_open_parcels: 1.0e15}
)");
  Simulation sim(sc);
  const double dist = sim.world().geo.dist_seat[0];
  REQUIRE(dist > 1.0);
  const std::size_t kd = var("mean_delivery_days"), kc = var("mean_shipping_cost"),
                    ks = var("stations");
  std::vector<Record> recs;
  sim.run([&](const Simulation& s) { recs.push_back(s.last_record()); });
  std::size_t open_at = 0;
  for (std::size_t i = 0; i < recs.size(); ++i)
    if (recs[i].national[ks] > 0) {
      open_at = i;
      break;
    }
  REQUIRE(open_at > 2);
  // The record of the opening tick still used the old service level; the next one the station's.
  const Record& before = recs[open_at - 1];
  const Record& after = recs[open_at + 1];
  const Params& p = sc.params;
  CHECK(before.national[kd] == Approx(p.logistics.days_none));
  CHECK(before.national[kc] ==
        Approx(p.logistics.cost_none_base + p.logistics.cost_none_per_km * dist));
  CHECK(after.national[kd] < before.national[kd]);
  CHECK(after.national[kc] < before.national[kc]);
  CHECK(after.national[kc] == Approx(p.logistics.cost_station));
}

TEST_CASE("a subsidised station stays open through losses; an unsubsidised one closes",
          "[mechanism][logistics]") {
  const char* base = R"(
name: stations
simulation: {seed: 5, start_year: 2012, years: 2, ticks_per_year: 52}
geography: {provinces: 1, counties_per_province: 1, towns_per_county: 4, villages_per_town: 1}
adoption: {alpha: 0, seed_share: 0}
logistics: {station_open_parcels: 1.0e12, station_cost: 1.0e6}
interventions:
  - {type: station_programme, counties: [0], start_year: 2012, years: 1, per_year: 4, subsidy_years: SUB}
)";
  auto run = [&](const char* sub) {
    std::string text = base;
    text.replace(text.find("SUB"), 3, sub);
    Simulation sim(scenario_text(text));
    std::vector<double> open;
    sim.run(
        [&](const Simulation& s) { open.push_back(s.last_record().national[var("stations")]); });
    return open;
  };
  const auto subsidised = run("2");  // covers the whole run
  const auto unsubsidised = run("0");
  CHECK(subsidised.front() == 4);
  CHECK(subsidised.back() == 4);
  CHECK(unsubsidised.front() == 4);
  CHECK(unsubsidised.back() == 0);
  // close_after = 0.5 yr = 26 ticks: closed after more than 26 ticks below break-even
  CHECK(unsubsidised[25] == 4);
  CHECK(unsubsidised[27] == 0);
}
