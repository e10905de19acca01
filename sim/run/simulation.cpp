#include "run/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "io/geography.hpp"
#include "io/provinces.hpp"
#include "io/recorder.hpp"
#include "model/outputs.hpp"
#include "policy/intervention.hpp"

namespace ruralsim {

std::uint64_t run_seed(const Params& p) {
  const auto seed = static_cast<std::uint64_t>(p.simulation.seed);
  const auto rep = static_cast<std::uint64_t>(p.simulation.replicate);
  return rep == 0 ? seed : splitmix64(seed ^ splitmix64(rep * 0xA24BAED4963EE407ULL));
}

World build_world(const Scenario& sc) {
  World w;
  w.categories = sc.categories;
  if (sc.params.geography.source == "csv")
    w.geo = load_geography_csv(sc.csv_path, sc.params, sc.categories);
  else if (sc.params.geography.source == "provinces")
    w.geo = cached_province_geography(sc.csv_path, sc.params, sc.categories.size());
  else
    try {
      w.geo = generate_geography(sc.params, sc.categories.size());
    } catch (const InputError& e) {
      throw InputError(sc.path + ": " + e.what());  // name the scenario the geography came from
    }
  if (w.geo.villages() == 0) throw InputError(sc.path + ": the geography has no villages");
  return w;
}

Simulation::Simulation(const Scenario& sc) : Simulation(sc, build_world(sc)) {}

Simulation::Simulation(const Scenario& sc, World world) : sc_(sc), world_(std::move(world)) {
  const auto& p = sc_.params;
  clock_.tick = 0;
  clock_.ticks_per_year = static_cast<std::int32_t>(p.simulation.ticks_per_year);
  clock_.start_year = static_cast<std::int32_t>(p.simulation.start_year);
  clock_.total_ticks = static_cast<std::int32_t>(p.simulation.years * p.simulation.ticks_per_year);
  seed_ = run_seed(p);
  snapshot_years_ = snapshot_years(p);
  for (auto h : world_.geo.households) total_households_ += h;
  outputs_ = OutputAggregator(world_.geo);
  const StepCtx c = ctx();
  init_state(world_, c);
  for (const auto& iv : sc_.interventions) iv->initialize(world_, p, seed_);
  update_taobao_neighbours(world_);
}

StepCtx Simulation::ctx() const {
  return StepCtx{sc_.params, world_.categories, sc_.demand_table, clock_, seed_, total_households_};
}

std::size_t Simulation::var_index(const char* name) const {
  const auto& t = output_table();
  for (std::size_t i = 0; i < t.size(); ++i)
    if (std::string(t[i].name) == name) return i;
  throw std::out_of_range(std::string("no output variable ") + name);
}

void Simulation::apply_interventions(const StepCtx& c) {
  auto& v = world_.v;
  std::fill(v.tau.begin(), v.tau.end(), 0.0);
  std::fill(v.brand_mult.begin(), v.brand_mult.end(), 1.0);
  std::fill(v.quality_mult.begin(), v.quality_mult.end(), 1.0);
  std::fill(v.ship_subsidy.begin(), v.ship_subsidy.end(), 0.0);
  world_.rules = sc_.params.recognition;
  for (const auto& iv : sc_.interventions) {
    iv->apply(world_, sc_.params, c.clk, seed_);
    iv->emit_events(world_, c.clk);
  }
}

// One tick, in the order of docs/ODD.md section 3 ("Process overview").
void Simulation::step() {
  world_.tick = clock_.tick;
  const StepCtx c = ctx();
  auto last = std::chrono::steady_clock::now();
  const auto lap = [&](Phase ph) {
    if (!phase_seconds_) return;
    const auto now = std::chrono::steady_clock::now();
    (*phase_seconds_)[ph] += std::chrono::duration<double>(now - last).count();
    last = now;
  };
  internet_step(world_, c);  // 1. calendar and exogenous paths
  apply_interventions(c);    // 2. interventions
  service_level(world_, c);  //    service level of the network in force
  adoption_step(world_, c);  // 3. adoption (and the store rebuild)
  lap(kPhaseAdoption);
  attractiveness_step(world_, c, partial_);
  lap(kPhaseMarket);
  livestream_step(world_, c);  // 4. livestreaming
  lap(kPhaseLivestream);
  market_step(world_, c, partial_);  // 5. market
  lap(kPhaseMarket);
  logistics_step(world_, c);  // 6. logistics
  lap(kPhaseLogistics);
  accounting_step(world_, c);  // 7. accounting
  lap(kPhaseAccounting);
  exit_step(world_, c);  // 8. exit
  lap(kPhaseExit);
  if (clock_.year_end()) recognition_step(world_, c);  // 9. recognition
  lap(kPhaseRecognition);
  const bool last_tick = clock_.tick + 1 == clock_.total_ticks;
  if ((clock_.tick + 1) % sc_.params.output.every == 0 || last_tick) record(c);  // 10. recording
  if (clock_.year_end() && sc_.params.output.village_snapshots) village_snapshot(c);
  if (recorder_ && clock_.year_end() &&
      std::binary_search(snapshot_years_.begin(), snapshot_years_.end(), clock_.year()))
    recorder_->append_entity_snapshot(take_snapshot(world_, clock_));
  lap(kPhaseRecording);
  ++clock_.tick;
}

void Simulation::run(const std::function<void(const Simulation&)>& on_tick) {
  while (!finished()) {
    step();
    if (on_tick) on_tick(*this);
  }
}

void Simulation::record(const StepCtx& c) {
  outputs_.record(world_, c, record_);
  if (recorder_)
    recorder_->append(record_.tick, record_.time, record_.national, record_.province,
                      record_.county);
}

void Simulation::village_snapshot(const StepCtx& c) {
  outputs_.village_snapshot(world_, c, snapshot_);
  if (recorder_) recorder_->append_village_snapshot(clock_.year(), snapshot_);
}

}  // namespace ruralsim
