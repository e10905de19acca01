// The values kept between ticks to save work (WorldCache) must equal what they stand for at
// every tick: checked against a direct recomputation while a run with stores, stations and
// exits goes on, and after a checkpoint-style rebuild of the caches.
#include <catch2/catch.hpp>
#include <cmath>
#include <utility>

#include "model/submodels.hpp"
#include "run/simulation.hpp"
#include "support.hpp"

using namespace ruralsim;

namespace {

// Checks every cached value of `w` against its definition; returns how many villages had
// stores (so that the caller can see the run exercised both kinds of village).
int check_caches(const World& w, const Params& p) {
  const auto& g = w.geo;
  const auto& k = w.cache;
  int active_villages = 0;
  for (std::size_t v = 0; v < g.villages(); ++v) {
    INFO("village " << v);
    double den = 0;
    for (auto j = g.nbr_offset[v]; j < g.nbr_offset[v + 1]; ++j)
      den += g.households[g.nbr_index[j]];
    CHECK(k.nbr_households[v] == den);
    CHECK(k.store_cap[v] ==
          static_cast<std::int64_t>(std::floor(p.adoption.h_max * g.households[v])));
    // delivery factor of the current delivery days
    CHECK(k.delivery_factor_days[v] == w.v.delivery_days[v]);
    CHECK(k.delivery_factor[v] == std::exp(-p.market.delta_delivery * w.v.delivery_days[v]));
    const bool has_stores = w.m.offset[v] != w.m.end[v];
    active_villages += has_stores;
    // a village whose sparse flows are not 0 is marked for the record
    for (int q = QV_NEW_STORES; q < kVillageQ; ++q)
      if (!q_every_village(q) && vq_at(w, q, v) != 0.0) CHECK(k.flows_touched[v] == 1);
    // the values kept for a village without stores are those of a village without stores
    if (k.storeless_written[v]) {
      CHECK(w.v.employment[v] == 0);
      CHECK(w.v.gaining[v] == 0);
      CHECK(w.v.gross_sum[v] == 0.0);
      CHECK(w.v.scale_sum[v] == 0.0);
      CHECK(w.v.u[v] == 0.0);
      CHECK(w.v.wage[v] == p.accounting.wage_min);
    }
  }
  // the transposed neighbour lists hold every pair once
  std::size_t pairs = 0;
  for (std::size_t n = 0; n < g.villages(); ++n)
    for (auto j = k.nbr_in_offset[n]; j < k.nbr_in_offset[n + 1]; ++j) {
      const auto v = k.nbr_in_index[j];
      bool listed = false;
      for (auto i = g.nbr_offset[v]; i < g.nbr_offset[v + 1]; ++i) listed |= g.nbr_index[i] == n;
      CHECK(listed);
      ++pairs;
    }
  CHECK(pairs == g.nbr_index.size());
  return active_villages;
}

}  // namespace

TEST_CASE("cached values equal their definitions at every tick", "[cache]") {
  const Scenario sc = test::scenario_file("scenarios/tiny.yaml", {"adoption.radius_km=6"});
  Simulation sim(sc);
  int with = 0, without = 0;
  while (!sim.finished()) {
    sim.step();
    const int a = check_caches(sim.world(), sc.params);
    with = std::max(with, a);
    without = std::max(without, static_cast<int>(sim.world().geo.villages()) - a);
  }
  CHECK(with > 5);     // villages with stores ...
  CHECK(without > 5);  // ... and without
  // Rebuilt from the state alone (as after a checkpoint is restored): the same values.
  World& w = sim.world();
  const WorldCache before = w.cache;
  prepare_caches(w, sc.params);
  CHECK(w.cache.nbr_households == before.nbr_households);
  CHECK(w.cache.nbr_in_index == before.nbr_in_index);
  for (std::size_t v = 0; v < w.geo.villages(); ++v)
    if (w.cache.flows_touched[v]) CHECK(before.flows_touched[v] == 1);
}
