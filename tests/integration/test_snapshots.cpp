// Store and livestreamer snapshots (output.snapshot_years, /snapshots/<year>): what they hold
// agrees with the recorded series, they are the same for any thread count, and the key is
// checked when the scenario is read.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <variant>

#include <unistd.h>

#include "core/error.hpp"
#include "model/outputs.hpp"
#include "run/run.hpp"
#include "run/verify.hpp"
#include "support.hpp"

using namespace ruralsim;
using namespace ruralsim::test;

namespace {

// As kSmall of test_simulation.cpp: stores, exits and livestreamers from the first years.
const char* kSnap = R"(
name: snap
simulation: {seed: 11, start_year: 2012, years: 5, ticks_per_year: 52}
geography: {provinces: 2, counties_per_province: 3, towns_per_county: 4, villages_per_town: 6,
            province_size_km: 80, county_radius_km: 15}
internet: {k: 0.45, t_mid: 2013}
market: {demand_initial: 3.0e11}
adoption: {seed_share: 0.01}
livestream: {start_year: 2013, platform_mid: 2015}
logistics: {station_open_parcels: 8000}
)";

template <class T>
const std::vector<T>& column(const EntitySnapshot& s, SnapshotGroup g, const char* name) {
  for (const auto& [f, c] : g == SnapshotGroup::Stores ? s.stores : s.livestreamers)
    if (std::string(f->name) == name) return std::get<std::vector<T>>(c);
  throw std::out_of_range(std::string("no snapshot field ") + name);
}

template <class T>
double sum(const std::vector<T>& v) {
  double s = 0;
  for (const T& x : v) s += static_cast<double>(x);
  return s;
}

// Snapshots taken at every year end of a run (the recorder takes them the same way), with the
// recorded national series summed over each year.
struct Yearly {
  std::vector<EntitySnapshot> snaps;
  std::vector<Record> year_end;               // the record of the year's last tick
  std::vector<double> sales, live;            // sales_total, sales_livestream summed over the year
  std::vector<std::vector<double>> villages;  // village snapshot of the year
};

Yearly run_yearly(const Scenario& sc) {
  Simulation sim(sc);
  Yearly y;
  double sales = 0, live = 0;
  while (!sim.finished()) {
    const Clock c = sim.clock();
    sim.step();
    const Record& r = sim.last_record();
    REQUIRE(r.tick == c.tick);  // recorded every tick
    sales += r.national[var("sales_total")];
    live += r.national[var("sales_livestream")];
    if (!c.year_end()) continue;
    y.snaps.push_back(take_snapshot(sim.world(), c));
    y.year_end.push_back(r);
    y.sales.push_back(sales);
    y.live.push_back(live);
    y.villages.push_back(sim.last_village_snapshot());
    sales = live = 0;
  }
  return y;
}

}  // namespace

TEST_CASE("store snapshots hold the live stores, and their sales add up to the year's sales",
          "[snapshots]") {
  const Scenario sc = scenario_text(std::string(kSnap) + "output: {village_snapshots: true}\n");
  const Yearly y = run_yearly(sc);
  REQUIRE(y.snaps.size() == 5);
  const std::size_t nvar = output_table().size();
  double closed_any = 0, live_any = 0;
  for (std::size_t k = 0; k < y.snaps.size(); ++k) {
    const EntitySnapshot& s = y.snaps[k];
    const Record& r = y.year_end[k];
    INFO("year " << s.year);
    CHECK(s.year == 2012 + static_cast<int>(k));
    CHECK(s.tick == r.tick);
    const auto& village = column<std::int32_t>(s, SnapshotGroup::Stores, "village");
    const auto& sales = column<float>(s, SnapshotGroup::Stores, "sales");
    const auto& live = column<float>(s, SnapshotGroup::Stores, "sales_livestream");
    const auto& age = column<float>(s, SnapshotGroup::Stores, "age");
    // One entry per live store: as many as the `stores` series at the year's last tick, and per
    // village as many as the village snapshot's `stores`.
    CHECK(static_cast<double>(village.size()) == r.national[var("stores")]);
    CHECK(std::is_sorted(village.begin(), village.end()));
    const std::size_t nv = y.villages[k].size() / nvar;
    REQUIRE(nv > 0);
    std::vector<double> per_village(nv, 0.0);
    for (auto v : village) per_village[static_cast<std::size_t>(v)] += 1;
    bool villages_agree = true;
    for (std::size_t v = 0; v < nv; ++v)
      villages_agree = villages_agree && per_village[v] == y.villages[k][v * nvar + var("stores")];
    CHECK(villages_agree);
    // Sales of the live stores plus those of the stores closed during the year are the year's
    // national sales. Each store's calendar-year sales are summed in float (4 bytes a store),
    // the series in double: they agree to float rounding (about 52 roundings of 6e-8 each).
    const double total = sum(sales) + s.closed_store_sales;
    CHECK(std::fabs(total - y.sales[k]) <= 1e-5 * y.sales[k]);
    CHECK(s.closed_store_sales >= 0);
    closed_any += s.closed_store_sales;
    // The livestream part of the live stores cannot exceed the year's livestream sales.
    CHECK(sum(live) <= y.live[k] * (1 + 1e-5) + 1e-6);
    live_any += sum(live);
    for (std::size_t i = 0; i < sales.size(); ++i) {
      CHECK(live[i] <= sales[i] * (1 + 1e-6f) + 1e-3f);
      CHECK(age[i] > 0);
      CHECK(age[i] <= static_cast<float>(k + 1) + 1e-5f);
    }
    // Livestreamers: the active ones, whose followers make up the `followers` series.
    const auto& followers = column<double>(s, SnapshotGroup::Livestreamers, "followers");
    const auto& county = column<std::int32_t>(s, SnapshotGroup::Livestreamers, "county");
    CHECK(static_cast<double>(followers.size()) == r.national[var("livestreamers")]);
    CHECK(std::fabs(sum(followers) - r.national[var("followers")]) <=
          1e-9 * std::max(1.0, r.national[var("followers")]));
    CHECK(std::is_sorted(county.begin(), county.end()));
    CHECK(column<std::uint8_t>(s, SnapshotGroup::Livestreamers, "trained").size() ==
          followers.size());
  }
  CHECK(closed_any > 0);  // stores did close, so the closed-store term was exercised
  CHECK(live_any > 0);
  CHECK(column<double>(y.snaps.back(), SnapshotGroup::Livestreamers, "followers").size() > 0);
}

TEST_CASE("store snapshots are identical for 1, 2 and 8 threads", "[snapshots][determinism]") {
  const Scenario sc = scenario_text(std::string(kSnap) + R"(interventions:
  - {type: livestream_training, rule: highest_potential, count: 2, start_year: 2013, years: 2}
)");
  auto bytes = [&](int threads) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, threads);
    tbb::task_arena arena(threads);
    std::vector<unsigned char> out;
    arena.execute([&] {
      for (const EntitySnapshot& s : run_yearly(sc).snaps) {
        auto put = [&](const void* p, std::size_t n) {
          const auto* b = static_cast<const unsigned char*>(p);
          out.insert(out.end(), b, b + n);
        };
        put(&s.closed_store_sales, sizeof(double));
        for (const auto* cols : {&s.stores, &s.livestreamers})
          for (const auto& fc : *cols)
            std::visit([&](const auto& v) { put(v.data(), v.size() * sizeof(v[0])); }, fc.second);
      }
    });
    return out;
  };
  const auto b1 = bytes(1);
  REQUIRE(b1.size() > 10000);
  CHECK(b1 == bytes(2));
  CHECK(b1 == bytes(8));
}

TEST_CASE("snapshot groups are written for the chosen years and covered by the content hash",
          "[snapshots][determinism]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ruralsim_snap_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const Scenario sc =
      scenario_text(std::string(kSnap) + "output: {snapshot_years: [2013, last]}\n");
  RunOptions o1, o2;
  o1.threads = 1;
  o2.threads = 2;
  const RunOutcome a = run_scenario(sc, (dir / "a.h5").string(), o1);
  const RunOutcome b = run_scenario(sc, (dir / "b.h5").string(), o2);
  CHECK(a.hash == b.hash);
  const std::string snaps_a = hash_datasets(a.path, "/snapshots/");
  CHECK(snaps_a == hash_datasets(b.path, "/snapshots/"));
  CHECK(snaps_a != hash_datasets(a.path, "/snapshots/2014/"));  // 2014 was not chosen
  CHECK(hash_datasets(a.path, "/snapshots/2014/") == hash_datasets(a.path, "/nothing/"));
  CHECK(hash_datasets(a.path, "/snapshots/2016/") != hash_datasets(a.path, "/nothing/"));
  CHECK(verify_result_file(a.path).ok);
  // Without snapshots the series are the same and the hash differs only by the snapshots.
  const Scenario none = scenario_text(std::string(kSnap) + "output: {snapshot_years: []}\n");
  const RunOutcome c = run_scenario(none, (dir / "c.h5").string(), o2);
  CHECK(hash_datasets(c.path, "/national/") == hash_datasets(a.path, "/national/"));
  CHECK(hash_datasets(c.path, "/county/") == hash_datasets(a.path, "/county/"));
  CHECK(hash_datasets(c.path, "/snapshots/") == hash_datasets(a.path, "/nothing/"));
  CHECK(c.hash != a.hash);
  fs::remove_all(dir);
}

TEST_CASE("output.snapshot_years is read, resolved and checked", "[snapshots][scenario]") {
  const std::string base = kSnap;
  CHECK(snapshot_years(scenario_text(base).params) == std::vector<std::int32_t>{2016});
  CHECK(snapshot_years(
            scenario_text(base + "output: {snapshot_years: [last, 2012, 2014]}\n").params) ==
        std::vector<std::int32_t>{2012, 2014, 2016});
  CHECK(snapshot_years(scenario_text(base + "output: {snapshot_years: [2016, last]}\n").params) ==
        std::vector<std::int32_t>{2016});
  CHECK(snapshot_years(scenario_text(base + "output: {snapshot_years: []}\n").params).empty());
  CHECK(snapshot_years(scenario_text(base, {"output.snapshot_years=[2013]"}).params) ==
        std::vector<std::int32_t>{2013});
  // The resolved scenario writes the list back as given (`last` kept) and reads back the same.
  const Scenario sc = scenario_text(base + "output: {snapshot_years: [2013, last]}\n");
  const std::string resolved = resolved_yaml(sc);
  CHECK(resolved.find("snapshot_years: [2013, last]") != std::string::npos);
  CHECK(scenario_text(resolved).params.output.snapshot_years == sc.params.output.snapshot_years);

  auto error = [&](const std::string& text, const std::vector<std::string>& sets = {}) {
    try {
      scenario_text(base + text, sets);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  using Catch::Matchers::Contains;
  // line 11 is the `output:` line after the 10 lines of kSnap (which starts with a newline)
  CHECK_THAT(error("output: {snapshot_years: 2015}\n"),
             Contains("test.yaml:11:26:") && Contains("takes a list") &&
                 Contains("not the single value '2015'"));
  CHECK_THAT(error("output: {snapshot_years: {a: 1}}\n"), Contains("takes a list"));
  CHECK_THAT(error("output: {snapshot_years: [2013, 2030]}\n"),
             Contains("test.yaml:11:33:") && Contains("2030 is not a simulated year") &&
                 Contains("valid: 2012 to 2016"));
  CHECK_THAT(error("output: {snapshot_years: [2011]}\n"), Contains("not a simulated year"));
  CHECK_THAT(error("output: {snapshot_years: [2013, first]}\n"),
             Contains("test.yaml:11:33:") && Contains("'first' is not a year"));
  CHECK_THAT(error("output: {snapshot_years: [2013.5]}\n"), Contains("is not a year"));
  CHECK_THAT(error("output: {snapshot_years: [3000]}\n"), Contains("out of range"));
  CHECK_THAT(error("output: {snapshot_years: [2013, 2013]}\n"), Contains("appears twice"));
  CHECK_THAT(error("output: {snapshot_years: [[2013]]}\n"), Contains("must be a year or 'last'"));
  CHECK_THAT(error("", {"output.snapshot_years=2013"}), Contains("takes a list"));
  CHECK_THAT(error("", {"output.snapshot_years=[2020]"}), Contains("not a simulated year"));
}
