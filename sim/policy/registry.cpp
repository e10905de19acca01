// The intervention registry: adding a type is one class (own file) and one line here.
#include <algorithm>

#include "core/clock.hpp"
#include "core/rng.hpp"
#include "model/submodels.hpp"
#include "policy/common.hpp"
#include "policy/types.hpp"

namespace ruralsim {

const std::vector<InterventionType>& intervention_registry() {
  static const std::vector<InterventionType> types = {
      {"rural_commissioner",
       "County posting: adoption intensity, specialty branding, livestream academy, stations",
       make_rural_commissioner},
      {"rural_technology_officer",
       "Traceability (quality of the county specialty) and digital skills (adoption intensity)",
       make_rural_technology_officer},
      {"livestream_training", "Trains livestreamers in targeted counties every year",
       make_livestream_training},
      {"station_programme",
       "Builds village stations in targeted counties every year, with an operating subsidy",
       make_station_programme},
      {"county_centre_programme", "Builds county logistics centres in targeted counties",
       make_county_centre_programme},
      {"branding_programme", "Raises the brand factor of the county specialty",
       make_branding_programme},
      {"shipping_subsidy", "Subsidises shipping per parcel in targeted counties",
       make_shipping_subsidy},
      {"internet_upgrade", "Raises internet access in targeted counties", make_internet_upgrade},
      {"taobao_thresholds", "Changes the recognition thresholds or benefits from a given year",
       make_taobao_thresholds},
  };
  return types;
}

void queue_trainees(World& w, Id c, std::int32_t n, double followers, double skill) {
  if (n <= 0) return;
  const double before = w.c.trained_pending[c];
  const double total = before + n;
  w.c.trained_followers[c] = (before * w.c.trained_followers[c] + n * followers) / total;
  w.c.trained_skill[c] = (before * w.c.trained_skill[c] + n * skill) / total;
  w.c.trained_pending[c] += n;
}

void open_stations(World& w, Id c, std::int64_t n, std::int32_t subsidy_ticks, std::int32_t tick,
                   const StationPlacement& placement) {
  std::vector<Id> cand;
  for (auto v = w.geo.county_village_begin[c]; v < w.geo.county_village_end[c]; ++v)
    if (!w.v.station[v]) cand.push_back(v);
  if (placement.random) {
    // Village-level random assignment: a key per (programme, village, tick) from its own stream.
    std::vector<std::pair<std::uint64_t, Id>> keyed;
    keyed.reserve(cand.size());
    for (Id v : cand)
      keyed.emplace_back(Stream(placement.seed, Purpose::StationPlacement,
                                (placement.salt << 32) ^ v, static_cast<std::uint64_t>(tick))(),
                         v);
    std::sort(keyed.begin(), keyed.end());
    for (std::size_t i = 0; i < cand.size(); ++i) cand[i] = keyed[i].second;
  } else {
    std::stable_sort(cand.begin(), cand.end(),
                     [&](Id a, Id b) { return w.v.parcels_year[a] > w.v.parcels_year[b]; });
  }
  for (std::size_t i = 0; i < cand.size() && static_cast<std::int64_t>(i) < n; ++i) {
    const Id v = cand[i];
    open_station(w, v, tick);
    w.v.station_subsidised_until[v] = tick + subsidy_ticks;
    w.events.push_back({tick, static_cast<std::int32_t>(EventKind::StationOpened),
                        static_cast<std::int64_t>(v), w.v.parcels_year[v]});
  }
}

}  // namespace ruralsim
