// Regression baseline: annual national values of every additive output of scenarios/tiny.yaml
// must match the stored reference. A deliberate change of results refreshes the reference with
// tests/regression/refresh.sh and says so in CHANGELOG.md ("Regression information").
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

#include "core/format.hpp"
#include "model/outputs.hpp"
#include "support.hpp"

using namespace ruralsim;
using namespace ruralsim::test;

namespace {

const char* kReference = RURALSIM_SOURCE_DIR "/tests/regression/tiny_reference.tsv";

// (variable, year) -> year-end value for stocks and ratios, annual total for flows.
std::map<std::pair<std::string, int>, double> annual_values() {
  const Scenario sc = scenario_file("scenarios/tiny.yaml");
  const Trace t = run_trace(sc, 2);
  const auto& vars = output_table();
  std::map<std::pair<std::string, int>, double> out;
  const int tpy = static_cast<int>(sc.params.simulation.ticks_per_year);
  for (const Record& r : t.records) {
    const int year = static_cast<int>(sc.params.simulation.start_year) + r.tick / tpy;
    for (std::size_t k = 0; k < vars.size(); ++k) {
      const bool flow =
          (vars[k].kind == OutKind::Sum || vars[k].kind == OutKind::Sum2) && q_is_flow(vars[k].a);
      auto& slot = out[{vars[k].name, year}];
      slot = flow ? slot + r.national[k] : r.national[k];
    }
  }
  return out;
}

}  // namespace

TEST_CASE("tiny scenario matches the regression reference", "[regression]") {
  const auto now = annual_values();
  if (std::getenv("RURALSIM_REFRESH_REFERENCE")) {
    std::ofstream out(kReference);
    out << "# variable\tyear\tvalue  (scenarios/tiny.yaml, national; refreshed by "
           "tests/regression/refresh.sh)\n";
    for (const auto& [key, v] : now)
      out << key.first << '\t' << key.second << '\t' << num(v) << '\n';
    WARN("reference refreshed: " << kReference);
    return;
  }
  std::ifstream in(kReference);
  REQUIRE(in.good());
  std::map<std::pair<std::string, int>, double> ref;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string name, value;
    int year = 0;
    ls >> name >> year >> value;
    ref[{name, year}] = value == "nan" || value == ".nan" ? std::nan("") : std::stod(value);
  }
  REQUIRE(ref.size() == now.size());
  int differ = 0;
  for (const auto& [key, v] : now) {
    auto it = ref.find(key);
    REQUIRE(it != ref.end());
    const double r = it->second;
    const bool same =
        (std::isnan(r) && std::isnan(v)) || std::fabs(r - v) <= 1e-12 * std::max(1.0, std::fabs(r));
    if (!same && differ++ < 20)
      WARN(key.first << " " << key.second << ": reference " << num(r) << ", now " << num(v));
  }
  CHECK(differ == 0);
}
