// Scenarios that extend a base scenario, and intervention keys set by entry name.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "io/scenario.hpp"
#include "policy/intervention.hpp"
#include "policy/intervention_keys.hpp"
#include "support.hpp"

using namespace ruralsim;

namespace {
struct Dir {
  std::filesystem::path p;
  Dir() {
    p = std::filesystem::temp_directory_path() / ("ruralsim-test-ext-" + std::to_string(getpid()));
    std::filesystem::create_directories(p);
  }
  ~Dir() { std::filesystem::remove_all(p); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(p / name) << text;
    return (p / name).string();
  }
};
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("extends merges sections key by key and interventions by name", "[scenario][extends]") {
  Dir d;
  d.write("base.yaml",
          "name: base\nadoption: {beta: 3, alpha: 0.2}\ninterventions:\n"
          "  - {type: shipping_subsidy, name: ship, rmb_per_parcel: 1}\n"
          "  - {type: internet_upgrade, boost: 0.1}\n");
  const std::string child =
      d.write("child.yaml",
              "extends: base.yaml\nname: child\nadoption: {beta: 5}\ninterventions:\n"
              "  - {type: shipping_subsidy, name: ship, rmb_per_parcel: 4}\n"
              "  - {type: rural_commissioner, counties: [0]}\n");
  const Scenario sc = load_scenario(child);
  CHECK(sc.name == "child");
  CHECK(sc.params.adoption.beta == 5);
  CHECK(sc.params.adoption.alpha == 0.2);
  REQUIRE(sc.interventions.size() == 3);
  CHECK(sc.interventions[0]->name == "ship");
  CHECK(sc.interventions[0]->resolved_yaml().find("rmb_per_parcel: 4") != std::string::npos);
  CHECK(sc.interventions[1]->type() == "internet_upgrade");
  CHECK(sc.interventions[2]->type() == "rural_commissioner");
  // the resolved scenario stands alone and reads back to the same resolved scenario
  const Scenario again = parse_scenario(resolved_yaml(sc), "resolved", d.p.string());
  CHECK(resolved_yaml(again) == resolved_yaml(sc));
}

TEST_CASE("extends errors name the file, line and column", "[scenario][extends]") {
  Dir d;
  d.write("base.yaml", "adoption: {beta: 3}\n");
  const std::string c1 = d.write("c1.yaml", "extends: nothere.yaml\n");
  CHECK(error_of([&] { load_scenario(c1); }).find("c1.yaml:1:10: key 'extends' = 'nothere.yaml'") !=
        std::string::npos);
  const std::string c2 = d.write("c2.yaml", "extends: base.yaml\nadoption:\n  betta: 3\n");
  CHECK(error_of([&] { load_scenario(c2); }).find("c2.yaml:3:3: unknown key 'adoption.betta'") !=
        std::string::npos);
  const std::string c3 = d.write("c3.yaml", "extends: c3.yaml\n");
  CHECK(error_of([&] { load_scenario(c3); }).find("a cycle?") != std::string::npos);
  d.write("badbase.yaml", "adoption: {beta: -1}\n");
  const std::string c4 = d.write("c4.yaml", "extends: badbase.yaml\n");
  const std::string e4 = error_of([&] { load_scenario(c4); });
  CHECK(e4.find("c4.yaml:1:10: the base scenario is not valid") != std::string::npos);
  CHECK(e4.find("badbase.yaml:1:18") != std::string::npos);
}

TEST_CASE("overrides reach intervention keys by the entry name", "[scenario][interventions]") {
  const std::string text =
      "interventions:\n  - {type: rural_commissioner, name: comm, counties: [0]}\n"
      "  - {type: rural_commissioner, counties: [1]}\n";
  const Scenario sc = test::scenario_text(text, {"interventions.comm.tau=0.75"});
  CHECK(sc.interventions[0]->resolved_yaml().find("tau: 0.75") != std::string::npos);
  CHECK(sc.interventions[1]->resolved_yaml().find("tau: 0.5") != std::string::npos);
  CHECK(error_of([&] {
          test::scenario_text(text, {"interventions.comm.tua=1"});
        }).find("valid keys: start_year, years, half_life_years") != std::string::npos);
  CHECK(error_of([&] {
          test::scenario_text(text, {"interventions.x.tau=1"});
        }).find("entries: comm, rural_commissioner") != std::string::npos);
  CHECK(error_of([&] {
          test::scenario_text(text, {"interventions.comm.tau=500"});
        }).find("out of range") != std::string::npos);
}

TEST_CASE("the intervention key table lists every key a type reads", "[interventions]") {
  const auto keys = intervention_keys("shipping_subsidy");
  std::vector<std::string> names;
  for (const auto& k : keys) names.push_back(k.key);
  CHECK(names == std::vector<std::string>{"name", "start_year", "years", "counties", "rule",
                                          "count", "rmb_per_parcel"});
  for (const auto& t : intervention_registry()) CHECK(intervention_keys(t.name).size() >= 2);
  const auto rc = intervention_keys("rural_commissioner");
  const auto tau = std::find_if(rc.begin(), rc.end(), [](const auto& k) { return k.key == "tau"; });
  REQUIRE(tau != rc.end());
  CHECK(tau->def == "0.5");
  CHECK(tau->range == "[0, 100]");
}
