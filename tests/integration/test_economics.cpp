// The economics of who gains: households choose stores against their opportunity cost, one
// bounded market shared by the organic and livestream channels, buyer-side savings from the
// logistics network, a heavy-tailed store size distribution, recognition rules as data.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "model/outputs.hpp"
#include "model/submodels.hpp"
#include "support.hpp"

using namespace ruralsim;
using namespace ruralsim::test;

namespace {

std::vector<Record> year_ends(const Scenario& sc) {
  Simulation sim(sc);
  std::vector<Record> out;
  sim.run([&](const Simulation& s) {
    if (s.clock().tick % s.clock().ticks_per_year == 0) out.push_back(s.last_record());
  });
  return out;
}

// Annual village snapshots: year -> values (village x variable).
std::map<int, std::vector<double>> snapshots(Simulation& sim) {
  std::map<int, std::vector<double>> out;
  sim.run([&](const Simulation& s) {
    if (s.clock().tick % s.clock().ticks_per_year == 0 && !s.last_village_snapshot().empty())
      out[s.clock().year() - 1] = s.last_village_snapshot();
  });
  return out;
}

}  // namespace

TEST_CASE("a household opens the store that gains it most, and only if it beats the entry cost",
          "[economics][adoption]") {
  Params p;
  p.adoption.income_sigma = 0.5;
  const double fixed = 5000, y0 = 40000;
  const double entry = p.adoption.entry_cost * (p.adoption.discount_rate + p.exit.background);
  const double side = side_scale(p);
  REQUIRE(side == Approx(std::sqrt(0.25 / 0.8)));
  for (double g : {0.0, 8000.0, 20000.0, 60000.0, 200000.0})
    for (double z : {-2.0, -0.5, 0.0, 1.0, 2.5}) {
      const StoreChoice c = weigh_store(g, y0, fixed, p, z);
      const double rel = std::exp(0.5 * z - 0.125);
      CHECK(c.base_rel == Approx(rel));
      const double gain_full = g - fixed - 0.8 * rel * y0;
      const double gain_side = side * g - fixed - 0.25 * rel * y0;
      CHECK(c.full == (gain_full > gain_side));
      CHECK(c.open == (std::max(gain_full, gain_side) > entry));
    }
  // Richer households give up more: at a given expected profit, a household that opens a
  // full-time store has a lower base income than one that opens a side business.
  const double g = 60000;
  const StoreChoice poor = weigh_store(g, y0, fixed, p, -2.0);
  const StoreChoice rich = weigh_store(g, y0, fixed, p, 1.5);
  CHECK(poor.open);
  CHECK(poor.full);
  CHECK(rich.open);
  CHECK_FALSE(rich.full);
  // Nothing to expect: nobody opens.
  CHECK_FALSE(weigh_store(0.0, y0, fixed, p, -3.0).open);
}

TEST_CASE(
    "revealed preference: store households are not made poorer, and e-commerce does not "
    "lower mean income (baseline)",
    "[economics][baseline]") {
  const auto with = year_ends(scenario_file("scenarios/baseline.yaml"));
  // No store is ever considered: no seed stores, no spontaneous or imitated consideration.
  const auto without = year_ends(
      scenario_file("scenarios/baseline.yaml", {"adoption.seed_share=0", "adoption.alpha=0"}));
  REQUIRE(with.size() == 13);
  REQUIRE(without.size() == 13);
  const auto inc = var("mean_household_income"), stores = var("stores"),
             own = var("store_household_income"), base = var("store_household_base");
  int years_with_stores = 0;
  for (std::size_t y = 0; y < with.size(); ++y) {
    INFO("year " << 2009 + y);
    CHECK(without[y].national[stores] == 0);
    CHECK(with[y].national[inc] >= without[y].national[inc]);
    if (with[y].national[stores] > 0) {
      ++years_with_stores;
      CHECK(with[y].national[own] >= with[y].national[base]);
    }
  }
  CHECK(years_with_stores >= 10);
  // By 2021 e-commerce raises the mean income of the region, and lowers it in no county.
  CHECK(with.back().national[inc] > without.back().national[inc] * 1.005);
  const std::size_t nvar = output_table().size();
  const std::size_t nc = with.back().county.size() / nvar;
  for (std::size_t c = 0; c < nc; ++c) {
    INFO("county " << c);
    CHECK(with.back().county[c * nvar + inc] >= without.back().county[c * nvar + inc]);
  }
}

TEST_CASE("organic and livestream sales never exceed the scenario's demand",
          "[economics][market]") {
  // Strong livestreamers: their selling potential far exceeds the channel, which bounds them.
  const Scenario sc = scenario_text(R"(
name: bounded
simulation: {seed: 4, start_year: 2014, years: 6, ticks_per_year: 52}
geography: {provinces: 1, counties_per_province: 3, towns_per_county: 4, villages_per_town: 6}
internet: {k: 0.45, t_mid: 2013}
market: {demand_initial: 3.0e11}
adoption: {seed_share: 0.01}
livestream: {start_year: 2015, platform_mid: 2016, entry_rate: 0.2, view_rate: 5, conversion: 0.1}
)");
  Simulation sim(sc);
  double households = 0;
  for (auto h : sim.world().geo.households) households += h;
  const auto& p = sc.params;
  const auto org = var("sales_organic"), live = var("sales_livestream");
  double live_share_end = 0;
  int ticks = 0;
  sim.run([&](const Simulation& s) {
    const Record& r = s.last_record();
    const double t = p.simulation.start_year + (r.tick + 0.5) / 52.0;
    const double demand = demand_total(p, sc.demand_table, 2014, t) * households /
                          p.market.national_households * p.market.phi_rural / 52.0;
    const double channel = livestream_channel_share(p, t);
    INFO("tick " << r.tick);
    CHECK(r.national[org] + r.national[live] <= demand * (1 + 1e-9));
    CHECK(r.national[live] <= channel * demand * (1 + 1e-9));
    CHECK(r.national[org] <= (1 - channel) * demand * (1 + 1e-9));
    if (r.tick == 6 * 52 - 1) live_share_end = r.national[live] / (channel * demand);
    ++ticks;
  });
  CHECK(ticks == 6 * 52);
  // The modelled livestreamers take most of their channel, and no more than all of it.
  CHECK(live_share_end > 0.5);
  CHECK(live_share_end <= 1.0);
}

TEST_CASE("demand after the last table point follows a decaying growth rate and stays bounded",
          "[economics][market]") {
  Params p;
  p.market.physical_share = 1.0;
  p.market.demand_growth_longrun = 0.05;
  p.market.demand_decay_years = 3.0;
  const std::vector<std::pair<int, double>> table = {
      {2019, 1.0e12}, {2020, 1.2e12}, {2021, 1.5e12}};
  CHECK(demand_total(p, table, 2009, 2021.5) == Approx(1.5e12));
  CHECK(demand_total(p, table, 2009, 2020.5) == Approx(1.2e12));
  const double g_last = std::log(1.5 / 1.2), g_lr = std::log1p(0.05), T = 3.0;
  for (double years : {0.5, 1.0, 5.0, 10.0, 30.0}) {
    const double expect =
        1.5e12 * std::exp(g_lr * years + (g_last - g_lr) * T * (1 - std::exp(-years / T)));
    CHECK(demand_total(p, table, 2009, 2021.5 + years) == Approx(expect).epsilon(1e-12));
  }
  // Ten years on: below the bound D_last exp(g_lr 10 + (g_last - g_lr) T), far below the last
  // observed growth rate continued.
  const double d10 = demand_total(p, table, 2009, 2031.5);
  CHECK(d10 <= 1.5e12 * std::exp(g_lr * 10 + (g_last - g_lr) * T));
  CHECK(d10 < 0.5 * 1.5e12 * std::exp(g_last * 10));
  // The yearly growth factor falls towards 1 + g_lr.
  double prev = 1e9;
  for (int y = 0; y < 20; ++y) {
    const double f =
        demand_total(p, table, 2009, 2022.5 + y) / demand_total(p, table, 2009, 2021.5 + y);
    CHECK(f < prev);
    CHECK(f > 1.05 - 1e-9);
    prev = f;
  }
  CHECK(prev == Approx(1.05).epsilon(1e-3));
  // Without a table: demand_initial at mid start year, growth demand_growth decaying likewise.
  p.market.demand_initial = 1e10;
  p.market.demand_growth = 0.35;
  CHECK(demand_total(p, {}, 2009, 2009.5) == Approx(1e10));
  const double g0 = std::log1p(0.35);
  CHECK(demand_total(p, {}, 2009, 2029.5) ==
        Approx(1e10 * std::exp(g_lr * 20 + (g0 - g_lr) * T * (1 - std::exp(-20 / T)))));
}

namespace {

// A region where stations are opened only by the programme, at random in 2014.
std::string station_region(bool programme, const std::string& extra = "") {
  std::string s = R"(
name: stations_rct
simulation: {seed: 21, start_year: 2012, years: 4, ticks_per_year: 52}
geography: {provinces: 1, counties_per_province: 3, towns_per_county: 4, villages_per_town: 6,
            county_radius_km: 30}
internet: {k: 0.45, t_mid: 2013}
market: {demand_initial: 3.0e11}
adoption: {seed_share: 0.01}
output: {village_snapshots: true}
)" + extra;
  if (programme)
    s += R"(interventions:
  - {type: station_programme, placement: random, start_year: 2014, years: 1, per_year: 8,
     subsidy_years: 5}
)";
  return s;
}

std::set<std::int64_t> programme_stations(const Simulation& sim) {
  std::set<std::int64_t> v;
  for (const Event& e : sim.world().events)
    if (e.kind == static_cast<int>(EventKind::StationOpened)) v.insert(e.entity);
  return v;
}

}  // namespace

TEST_CASE("stations placed in random villages raise buyer-side savings in treated villages",
          "[economics][buyers]") {
  const std::string no_organic =
      "logistics: {station_open_parcels: 1.0e12, centre_open_parcels: 1.0e15}\n";
  Simulation sim(scenario_text(station_region(true, no_organic)));
  const auto snaps = snapshots(sim);
  const auto treated = programme_stations(sim);
  const std::size_t nv = sim.world().geo.villages(), nvar = output_table().size();
  REQUIRE(treated.size() == 24);  // 8 in each of 3 counties
  // Placement is random, not by volume: the treated villages are not the 24 of largest volume.
  const auto& s2015 = snaps.at(2015);
  const std::size_t ks = var("consumption_savings"), kh = var("households");
  double treated_mean = 0, control_mean = 0;
  std::size_t nt = 0, nc = 0;
  for (std::size_t v = 0; v < nv; ++v) {
    const double per_hh = s2015[v * nvar + ks] / s2015[v * nvar + kh];
    if (treated.count(static_cast<std::int64_t>(v))) {
      treated_mean += per_hh;
      ++nt;
      CHECK(per_hh > 0);
    } else {
      control_mean += per_hh;
      ++nc;
    }
  }
  treated_mean /= static_cast<double>(nt);
  control_mean /= static_cast<double>(nc);
  INFO("savings per household 2015: treated " << treated_mean << ", control " << control_mean);
  CHECK(treated_mean > 2 * control_mean);
  // The same rule with another seed picks other villages.
  Simulation other(scenario_text(station_region(true, no_organic), {"simulation.seed=22"}));
  other.run();
  CHECK(programme_stations(other) != treated);
}

TEST_CASE("with seller-side logistics made neutral, stations bring buyer gains and no seller gains",
          "[economics][buyers][crn]") {
  // Stations change nothing for sellers (same cost, days and adoption access everywhere, no
  // congestion): every store, sale and count is bit-identical with and without the programme,
  // while buyers in treated villages save more.
  const std::string neutral =
      R"(logistics: {station_open_parcels: 1.0e12, centre_open_parcels: 1.0e15,
  cost_none_base: 5, cost_none_per_km: 0, cost_centre_base: 5, cost_centre_per_km: 0,
  cost_station: 5, days_none: 3, days_centre: 3, days_station: 3, station_capacity: 1.0e12}
)";
  const std::vector<std::string> access = {"adoption.access_none=1", "adoption.access_centre=1",
                                           "adoption.access_station=1"};
  Simulation with(scenario_text(station_region(true, neutral), access));
  Simulation without(scenario_text(station_region(false, neutral), access));
  const auto a = snapshots(with), b = snapshots(without);
  const auto treated = programme_stations(with);
  REQUIRE(treated.size() == 24);
  const std::size_t nv = with.world().geo.villages(), nvar = output_table().size();
  const auto ks = var("consumption_savings");
  for (const char* name : {"stores", "sales_total", "new_stores", "exited_stores", "employment",
                           "income_store_profit", "taobao_villages"}) {
    const auto k = var(name);
    for (const auto& [year, snap] : a)
      for (std::size_t v = 0; v < nv; ++v) {
        INFO(name << " village " << v << " year " << year);
        REQUIRE(snap[v * nvar + k] == b.at(year)[v * nvar + k]);
      }
  }
  for (std::size_t v = 0; v < nv; ++v) {
    const double d = a.at(2015)[v * nvar + ks] - b.at(2015)[v * nvar + ks];
    INFO("village " << v);
    if (treated.count(static_cast<std::int64_t>(v)))
      CHECK(d > 0);
    else
      CHECK(d == 0);
  }
}

TEST_CASE("top shares on constructed distributions", "[economics][tail]") {
  std::vector<double> x;
  for (int i = 1; i <= 1000; ++i) x.push_back(i);
  // top 1% of 1..1000: 991..1000
  CHECK(top_share(x, 0.01) == Approx(9955.0 / 500500.0));
  std::vector<double> one = {3.0};
  CHECK(top_share(one, 0.01) == 1.0);
  std::vector<double> none;
  CHECK(std::isnan(top_share(none, 0.01)));
  // A Pareto sample of shape 3: the top 1% hold 0.01^(1 - 1/3) of the total.
  std::vector<double> pareto;
  Stream rs(5, Purpose::Intervention, 0, 0);
  for (int i = 0; i < 400000; ++i) pareto.push_back(std::pow(1.0 - rs.uniform(), -1.0 / 3.0));
  CHECK(top_share(pareto, 0.01) == Approx(std::pow(0.01, 2.0 / 3.0)).epsilon(0.05));
}

TEST_CASE("the tail statistics follow the stores of the run; reputation lets winners grow",
          "[economics][tail][baseline]") {
  const Scenario sc = scenario_file("scenarios/baseline.yaml");
  Simulation sim(sc);
  sim.run();
  const Record& r = sim.last_record();
  const World& w = sim.world();
  std::vector<double> sales;
  double large = 0;
  for (std::size_t v = 0; v < w.geo.villages(); ++v)
    for (auto i = w.m.offset[v]; i < w.m.end[v]; ++i)
      if (w.m.alive[i]) {
        sales.push_back(w.m.sales_year[i]);
        large += w.m.sales_year[i] > sc.params.output.large_store_sales ? 1 : 0;
      }
  REQUIRE(sales.size() > 1000);
  CHECK(r.national[var("large_store_share")] == Approx(large / static_cast<double>(sales.size())));
  const double top1 = top_share(sales, 0.01);
  CHECK(r.national[var("sales_top1_share")] == Approx(top1));
  CHECK(top1 > 0.2);  // twenty times what equal stores would hold
  // Without the reputation feedback (rho = 0) the same stores grow less unequal.
  Simulation flat(scenario_file("scenarios/baseline.yaml", {"market.rho=0"}));
  flat.run();
  INFO("top 1% share " << top1 << ", without reputation feedback "
                       << flat.last_record().national[var("sales_top1_share")]);
  CHECK(flat.last_record().national[var("sales_top1_share")] < top1);
}

TEST_CASE("recognition rules are expressions over named criteria", "[economics][recognition]") {
  const auto& vc = village_criteria();
  const RuleExpr published("sales and (stores or share)", vc);
  CHECK(published.eval({true, true, false}));
  CHECK(published.eval({true, false, true}));
  CHECK_FALSE(published.eval({false, true, true}));
  CHECK_FALSE(published.eval({true, false, false}));
  // "and" binds tighter than "or"
  const RuleExpr prec("stores or sales and share", vc);
  CHECK(prec.eval({false, true, false}));
  CHECK_FALSE(prec.eval({true, false, false}));
  CHECK(RuleExpr("((sales))", vc).eval({true, false, false}));
  for (const char* bad : {"", "sales and", "sales or (stores", "sales stores", "revenue",
                          "sales & stores", "(sales))"}) {
    INFO(bad);
    CHECK_THROWS_AS(RuleExpr(bad, vc), std::invalid_argument);
  }
  try {
    RuleExpr("sales and turnover", vc);
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(e.what(), Catch::Contains("unknown word 'turnover'") &&
                             Catch::Contains("valid words: sales, stores, share"));
  }
  RecognitionRules r;
  r.village_rule = "sales and stores and share";
  CHECK_FALSE(meets_taobao_village(2e7, 100, 5000, r));  // 2% of households
  CHECK(meets_taobao_village(2e7, 500, 5000, r));
  r.town_rule = "villages or stores";
  CHECK(meets_taobao_town(0, 0, 301, r));
}

TEST_CASE("a village that falls below the rule loses its status when lists are re-evaluated",
          "[economics][recognition]") {
  const Scenario sc = scenario_text(station_region(false));
  for (bool can_lose : {true, false}) {
    Simulation sim(sc);
    World& w = sim.world();
    w.rules.can_lose = can_lose;
    Clock clk = sim.clock();
    clk.tick = clk.ticks_per_year - 1;  // last tick of the first year
    const StepCtx ctx{sc.params, w.categories, sc.demand_table, clk, 1, 0.0};
    w.v.stores[0] = 150;
    w.v.sales_year[0] = 2e7;
    recognition_step(w, ctx);
    REQUIRE(w.v.taobao[0] == 1);
    CHECK(w.v.taobao_year[0] == 2012);
    clk.tick += clk.ticks_per_year;
    const StepCtx next{sc.params, w.categories, sc.demand_table, clk, 1, 0.0};
    w.v.sales_year[0] = 5e6;  // below RMB 10 million
    recognition_step(w, next);
    INFO("can_lose " << can_lose);
    CHECK(w.v.taobao[0] == (can_lose ? 0 : 1));
    CHECK(w.v.taobao_year[0] == 2012);  // the first recognition is kept
  }
  CHECK(Params().recognition.can_lose);  // re-evaluated by default, as the lists are
}

TEST_CASE("a changed rule structure applies from its year on only", "[economics][recognition]") {
  // From 2018 the store criteria are dropped: sales alone make a Taobao Village.
  const auto before = year_ends(scenario_file("scenarios/baseline.yaml"));
  std::ifstream in(source_path("scenarios/baseline.yaml"));
  std::stringstream text;
  text << in.rdbuf()
       << "interventions:\n  - {type: taobao_thresholds, from_year: 2018, village_rule: sales}\n";
  const Scenario changed = scenario_text(text.str());
  const auto after = year_ends(changed);
  const auto k = var("taobao_villages");
  REQUIRE(after.size() == before.size());
  for (std::size_t y = 0; y < before.size(); ++y) {
    INFO("year " << 2009 + y);
    if (2009 + static_cast<int>(y) < 2018)
      CHECK(after[y].national[k] == before[y].national[k]);
    else
      CHECK(after[y].national[k] >= before[y].national[k]);
  }
  CHECK(after.back().national[k] > before.back().national[k]);
}
