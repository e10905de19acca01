// Results are finite: a NaN or infinity in the state or the outputs stops the run with a
// message naming the variable, the entity and the tick, and leaves no result file.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <limits>

#include "io/recorder.hpp"
#include "model/finite_check.hpp"
#include "support.hpp"

using namespace ruralsim;

namespace {

const char* const kSmall = R"(name: finite
simulation: {seed: 3, start_year: 2009, years: 2, ticks_per_year: 12}
geography: {counties_per_province: 2, towns_per_county: 2, villages_per_town: 4}
output: {every: 3}
)";

std::string message_of_run(Simulation& sim, Recorder* rec) {
  sim.set_recorder(rec);
  try {
    sim.run();
  } catch (const NonFiniteError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("an infinite base income stops the run at the first record and leaves no file",
          "[finite]") {
  const Scenario sc = test::scenario_text(kSmall);
  World w = build_world(sc);
  const std::size_t v = 5;
  REQUIRE(w.geo.villages() > v);
  w.geo.base_income[v] = std::numeric_limits<double>::infinity();
  const auto dir = std::filesystem::temp_directory_path() / "ruralsim-finite-test";
  std::filesystem::remove_all(dir);
  const std::string out = (dir / "r.h5").string();
  std::string msg;
  {
    Simulation sim(sc, std::move(w));
    Recorder rec(out, sim.world(), 12, 2009);
    msg = message_of_run(sim, &rec);
    CHECK(sim.clock().tick == 2);  // stopped at the first record (tick 2), not at the end
  }
  INFO(msg);
  // The infinity spreads through the market to every village before the record: the first
  // non-finite quantity found is reported.
  CHECK(msg.find("the simulation produced a non-finite value: ") == 0);
  CHECK(msg.find(" of village ") != std::string::npos);
  CHECK(msg.find("at tick 2 (year 2009, tick 3 of 12)") != std::string::npos);
  // Nothing complete-looking is left: neither the result nor its .partial.
  CHECK_FALSE(std::filesystem::exists(out));
  CHECK_FALSE(std::filesystem::exists(out + ".partial"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a NaN flow of one village is reported with the village, its ids and the tick",
          "[finite]") {
  const Scenario sc = test::scenario_text(kSmall);
  Simulation sim(sc);
  sim.step();  // tick 0; the first record is at tick 2
  const std::size_t v = 5;
  vq_at(sim.world(), QV_SALES_ORGANIC, v) = std::numeric_limits<double>::quiet_NaN();
  sim.world().cache.flows_touched[v] = 1;
  const std::string msg = message_of_run(sim, nullptr);
  INFO(msg);
  const auto& g = sim.world().geo;
  CHECK(msg.find("'sales_organic' of village 5 (id " + std::to_string(g.village_code[v]) +
                 ", county id " + std::to_string(g.county_code[g.village_county[v]]) +
                 ") is NaN at tick 2 (year 2009, tick 3 of 12)") != std::string::npos);
  CHECK(sim.clock().tick == 2);
}

TEST_CASE("a NaN county quantity is reported with its county", "[finite]") {
  const Scenario sc = test::scenario_text(kSmall);
  Simulation sim(sc);
  sim.step();
  World& w = sim.world();
  const std::size_t c = 1;
  constexpr int KC = Q_COUNT - kVillageQ;
  w.cq[c * KC + (QC_LIVESTREAMERS - kVillageQ)] = std::numeric_limits<double>::quiet_NaN();
  try {
    check_finite_quantities(w, 7, 12, 2009);
    FAIL("no NonFiniteError");
  } catch (const NonFiniteError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("'livestreamers' of county 1 (id 1) is NaN at tick 7") != std::string::npos);
  }
}

TEST_CASE("outputs: infinity is refused everywhere, NaN only where a ratio allows it", "[finite]") {
  const Scenario sc = test::scenario_text(kSmall);
  Simulation sim(sc);
  sim.step();
  sim.step();
  sim.step();  // a record
  const Record r = sim.last_record();
  REQUIRE(r.tick == 2);
  const auto& vars = output_table();
  const std::size_t nvar = vars.size();
  CHECK_NOTHROW(
      check_finite_outputs(sim.world().geo, 2, 12, 2009, r.national, r.province, r.county));
  std::size_t ratio = nvar, sum = nvar;
  for (std::size_t k = 0; k < nvar; ++k) {
    if (vars[k].kind == OutKind::Ratio && ratio == nvar) ratio = k;
    if (vars[k].kind == OutKind::Sum && sum == nvar) sum = k;
  }
  REQUIRE(ratio < nvar);
  REQUIRE(sum < nvar);
  auto county = r.county;
  county[nvar + ratio] = std::numeric_limits<double>::quiet_NaN();  // 0/0: allowed
  CHECK_NOTHROW(check_finite_outputs(sim.world().geo, 2, 12, 2009, r.national, r.province, county));
  county[nvar + sum] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(
      check_finite_outputs(sim.world().geo, 2, 12, 2009, r.national, r.province, county),
      Catch::Contains(std::string("output '") + vars[sum].name + "' of county 1"));
  auto national = r.national;
  national[ratio] = -std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(
      check_finite_outputs(sim.world().geo, 2, 12, 2009, national, r.province, r.county),
      Catch::Contains("of the nation is -inf"));
}
