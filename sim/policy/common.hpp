#pragma once
// Shared pieces of the intervention types: a time window with optional decay after it ends,
// county targeting, and helpers to spread an effect over a county's villages.
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/format.hpp"
#include "policy/intervention.hpp"

namespace ruralsim {

// True when calendar time `t` falls in the tick [start + tick*dt, start + (tick+1)*dt).
inline bool in_tick(const Clock& clk, double t) {
  const double begin = clk.start_year + static_cast<double>(clk.tick) / clk.ticks_per_year;
  const double end = clk.start_year + static_cast<double>(clk.tick + 1) / clk.ticks_per_year;
  return t >= begin && t < end;
}

struct Window {
  double start_year = 2019;
  double years = 2;
  double half_life = 0;  // years; 0: effects stop when the window ends

  static Window read(EntryReader& r, double start, double years, bool decays) {
    Window w;
    w.start_year =
        r.real("start_year", start, 1900, 2200, "first calendar year of the intervention");
    w.years = r.real("years", years, 0, 200, "duration in years");
    if (decays)
      w.half_life = r.real("half_life_years", 1.0, 0, 100,
                           "half-life of effects after the end; 0: stop at once");
    return w;
  }
  // Effect strength in [0, 1] at calendar time t.
  double strength(double t) const {
    if (t < start_year) return 0.0;
    const double end = start_year + years;
    if (t < end) return 1.0;
    if (half_life <= 0) return 0.0;
    return std::exp2(-(t - end) / half_life);
  }
  bool active(double t) const { return t >= start_year && t < start_year + years; }
  // True on the first tick of each calendar year inside the window.
  bool year_start(const Clock& clk) const {
    return clk.tick % clk.ticks_per_year == 0 && active(clk.year() + 0.5 / clk.ticks_per_year);
  }
  std::string yaml() const {
    std::ostringstream os;
    os << "start_year: " << num(start_year) << ", years: " << num(years);
    if (half_life > 0) os << ", half_life_years: " << num(half_life);
    return os.str();
  }
};

// Base for interventions that act on a set of counties during a window.
class CountyIntervention : public Intervention {
 public:
  void initialize(World& w, const Params&, std::uint64_t seed) const override {
    if (w.intervention_targets.size() <= static_cast<std::size_t>(index))
      w.intervention_targets.resize(static_cast<std::size_t>(index) + 1);
    try {
      w.intervention_targets[static_cast<std::size_t>(index)] =
          target_.resolve(w, seed, static_cast<std::uint64_t>(index));
    } catch (const InputError& e) {
      throw InputError(origin + ": " + e.what());
    }
  }
  const std::vector<Id>& targets(const World& w) const {
    return w.intervention_targets.at(static_cast<std::size_t>(index));
  }
  void emit_events(World& w, const Clock& clk) const override {
    const double end = window_.start_year + window_.years;
    for (auto [when, kind] : {std::pair{window_.start_year, EventKind::InterventionStart},
                              std::pair{end, EventKind::InterventionEnd}})
      if (in_tick(clk, when))
        for (Id c : targets(w))
          w.events.push_back({clk.tick, static_cast<std::int32_t>(kind),
                              static_cast<std::int64_t>(c), static_cast<double>(index)});
  }

 protected:
  std::string base_yaml() const {
    return "type: " + type() + ", " + window_.yaml() + ", " + target_.yaml();
  }
  template <class F>
  void each_village(const World& w, F&& f) const {
    for (Id c : targets(w))
      for (auto v = w.geo.county_village_begin[c]; v < w.geo.county_village_end[c]; ++v) f(c, v);
  }
  Window window_;
  Targeting target_;
};

// Where a programme opens stations: by volume (largest trailing-year parcel volume first, ties:
// lower index) or at random (a village-level random assignment keyed by seed, salt and tick).
struct StationPlacement {
  bool random = false;
  std::uint64_t seed = 0;
  std::uint64_t salt = 0;  // the programme's index
};
// Opens up to `n` stations in county c, among its villages without one, in the placement's order.
// Subsidised for `subsidy_ticks`.
void open_stations(World& w, Id c, std::int64_t n, std::int32_t subsidy_ticks, std::int32_t tick,
                   const StationPlacement& placement = {});
// Queues `n` trained livestreamers for county c (they join at step 4). When another programme
// queued trainees in the same tick, the cohort's followers and skill are trainee-weighted means.
void queue_trainees(World& w, Id c, std::int32_t n, double followers, double skill);

}  // namespace ruralsim
