// 6.1 Internet access and the logistics service level of each village.

#include <cmath>

#include "core/parallel.hpp"
#include "model/submodels.hpp"

namespace ruralsim {

void internet_step(World& w, const StepCtx& ctx) {
  const auto& g = w.geo;
  const double t = ctx.clk.time_mid();
  std::vector<double> by_province(g.provinces());
  for (std::size_t p = 0; p < g.provinces(); ++p)
    by_province[p] =
        1.0 / (1.0 + std::exp(-ctx.p.internet.k *
                              (t - (ctx.p.internet.t_mid + g.province_rollout_offset[p]))));
  for (std::size_t v = 0; v < g.villages(); ++v)
    w.v.internet[v] = by_province[g.village_province[v]];
}

// Shipping cost per parcel and delivery days from the best available node (station < county
// centre < none); a station or a county centre above its capacity adds congestion days
// (congestion_days per unit of utilisation above 1; a centre's load is its county's volume).
void service_level(World& w, const StepCtx& ctx) {
  const auto& lp = ctx.p.logistics;
  const auto& g = w.geo;
  parallel_for(0, g.villages(), 1024, [&](const auto& r) {
    for (std::size_t v = r.begin(); v != r.end(); ++v) {
      const double d = g.dist_seat[v];
      double cost, days;
      if (w.v.station[v]) {
        cost = lp.cost_station;
        days = lp.days_station;
        const double util = w.v.parcels_year[v] / lp.station_capacity;
        if (util > 1.0) days += lp.congestion_days * (util - 1.0);
      } else if (w.c.centre[g.village_county[v]]) {
        cost = lp.cost_centre_base + lp.cost_centre_per_km * d;
        days = lp.days_centre;
        const double util = w.c.parcels_year[g.village_county[v]] / lp.centre_capacity;
        if (util > 1.0) days += lp.congestion_days * (util - 1.0);
      } else {
        cost = lp.cost_none_base + lp.cost_none_per_km * d;
        days = lp.days_none;
      }
      w.v.node_cost[v] = cost;
      w.v.ship_cost[v] = std::max(0.0, cost - w.v.ship_subsidy[v]);
      w.v.delivery_days[v] = days;
      if (!(w.cache.delivery_factor_days[v] == days)) {  // changed, or not computed (NaN)
        w.cache.delivery_factor[v] = std::exp(-ctx.p.market.delta_delivery * days);
        w.cache.delivery_factor_days[v] = days;
      }
    }
  });
}

}  // namespace ruralsim
