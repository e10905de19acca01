#pragma once
// The simulation loop: one tick in the fixed order of docs/ODD.md section 3; the records and
// village snapshots it computes (model/outputs.hpp) go to the recorder.
#include <array>
#include <functional>
#include <memory>
#include <vector>

#include "core/clock.hpp"
#include "io/scenario.hpp"
#include "model/outputs.hpp"
#include "model/submodels.hpp"
#include "model/world.hpp"

namespace ruralsim {

class Recorder;

// Phases of a tick for timing (ruralsim bench): adoption is steps 1-3 (exogenous paths,
// interventions, service level, adoption and the store rebuild), market includes the
// attractiveness computed before livestreaming, recording includes village snapshots.
enum Phase : int {
  kPhaseAdoption,
  kPhaseLivestream,
  kPhaseMarket,
  kPhaseLogistics,
  kPhaseAccounting,
  kPhaseExit,
  kPhaseRecognition,
  kPhaseRecording,
  kPhaseCount
};
using PhaseSeconds = std::array<double, kPhaseCount>;

std::uint64_t run_seed(const Params& p);
// Builds the world of a scenario: geography (generated or CSV), categories, initial state.
World build_world(const Scenario& sc);

class Simulation {
 public:
  explicit Simulation(const Scenario& sc);
  Simulation(const Scenario& sc, World world);

  // One tick; records when the output cadence says so.
  void step();
  void run(const std::function<void(const Simulation&)>& on_tick = {});
  bool finished() const { return clock_.tick >= clock_.total_ticks; }

  const World& world() const { return world_; }
  World& world() { return world_; }
  const Clock& clock() const { return clock_; }
  const Scenario& scenario() const { return sc_; }
  const Record& last_record() const { return record_; }
  // Last annual village snapshot (villages x variables), when output.village_snapshots is on.
  const std::vector<double>& last_village_snapshot() const { return snapshot_; }
  std::size_t var_index(const char* name) const;

  // Resuming from a checkpoint: the world's state has been restored (run/checkpoint.hpp) and
  // the next step() runs tick `tick`.
  void resume_at(std::int32_t tick) { clock_.tick = tick; }

  void set_recorder(Recorder* rec) { recorder_ = rec; }
  // When set, step() adds the wall time of each phase to *t (nothing is timed otherwise).
  void set_phase_timer(PhaseSeconds* t) { phase_seconds_ = t; }

 private:
  StepCtx ctx() const;
  void apply_interventions(const StepCtx& c);
  void record(const StepCtx& c);
  void village_snapshot(const StepCtx& c);

  Scenario sc_;  // own copy: a Simulation may outlive the Scenario it was built from
  World world_;
  Clock clock_;
  std::uint64_t seed_;
  double total_households_ = 0;
  Recorder* recorder_ = nullptr;
  PhaseSeconds* phase_seconds_ = nullptr;
  OutputAggregator outputs_;
  Record record_;
  std::vector<double> snapshot_;
  std::vector<double> partial_;               // per-village category attractiveness
  std::vector<std::int32_t> snapshot_years_;  // output.snapshot_years resolved, ascending
};

}  // namespace ruralsim
