// 6.5 Logistics: parcels out (orders) and in (household purchases), station and county-centre
// opening and closing. The service level used this tick was set at step 1 (service_level).

#include <algorithm>
#include <cmath>

#include "core/parallel.hpp"
#include "model/submodels.hpp"

namespace ruralsim {

bool station_opens(double parcels_year, const Params& p) {
  return parcels_year >= p.logistics.station_open_parcels;
}

bool station_closes(std::int32_t low_ticks, std::int32_t close_ticks, std::int32_t tick,
                    std::int32_t subsidised_until) {
  return low_ticks > close_ticks && tick >= subsidised_until;
}

double buyer_saving(const Params::Logistics& lp, double node_cost, double days) {
  return std::max(0.0, lp.basket_value * lp.saving_share - lp.buyer_cost_share * node_cost -
                           lp.delay_cost * days);
}

void open_station(World& w, std::size_t v, std::int32_t tick) {
  w.v.station[v] = 1;
  w.v.station_opened[v] = tick;
  w.v.station_low_ticks[v] = 0;
  add_village_flow(w, QV_STATIONS_OPENED, v, 1);
}

void open_centre(World& w, std::size_t c, std::int32_t tick, double value) {
  w.c.centre[c] = 1;
  w.c.centre_opened[c] = tick;
  crow(w, c)[cq_index(QC_CENTRES_OPENED)] += 1;
  w.events.push_back({tick, static_cast<std::int32_t>(EventKind::CentreOpened),
                      static_cast<std::int64_t>(c), value});
}

void logistics_step(World& w, const StepCtx& ctx) {
  const auto& lp = ctx.p.logistics;
  const auto& g = w.geo;
  const std::size_t nv = g.villages();
  const double dt = ctx.clk.dt();
  const auto tick = ctx.clk.tick;
  const auto close_ticks =
      static_cast<std::int32_t>(std::lround(lp.station_close_years * ctx.clk.ticks_per_year));
  const double grow = growth_factor(ctx.p.income.base_growth, ctx.clk);
  const double ref_income = ctx.p.geography.base_income_mean * grow;
  std::vector<std::int8_t> change(nv, 0);
  auto& m = w.m;
  parallel_for(0, nv, 512, [&](const auto& r) {
    for (std::size_t v = r.begin(); v != r.end(); ++v) {
      double out = 0;
      for (auto i = m.offset[v]; i < m.end[v]; ++i)
        out += (m.sales_org[i] + m.sales_live[i]) / w.categories[m.category[i]].order_value;
      const double y = g.base_income[v] * grow;
      const double c_in = lp.parcels_in_per_household *
                          (lp.parcels_in_income_elasticity == 1.0
                               ? y / ref_income
                               : std::pow(y / ref_income, lp.parcels_in_income_elasticity));
      // Buyers: a node brings more goods within reach (variety) and lowers the delivered price:
      // each purchase saves its price advantage less the buyer's share of the last-mile cost and
      // the cost of waiting.
      const bool centre = w.c.centre[g.village_county[v]];
      const double reach = w.v.station[v] ? lp.purchases_station
                           : centre       ? lp.purchases_centre
                                          : lp.purchases_none;
      const double in = g.households[v] * w.v.internet[v] * c_in * reach * dt;
      const double saving = buyer_saving(lp, w.v.node_cost[v], w.v.delivery_days[v]);
      if (m.offset[v] != m.end[v]) {  // parcels out (0 without stores)
        add_village_flow(w, QV_PARCELS_OUT, v, out);
        add_village_flow(w, QV_PARCEL_DAYS, v, out * w.v.delivery_days[v]);
        add_village_flow(w, QV_SHIP_COST, v, out * w.v.ship_cost[v]);
      }
      add_village_flow(w, QV_PARCELS_IN, v, in);
      add_village_flow(w, QV_SAVINGS, v, in * saving);
      const double parcels = in + out;
      w.v.parcels_year[v] = w.v.parcels_year[v] * (1.0 - dt) + parcels;
      if (w.v.station[v]) {
        const double profit = lp.station_fee * parcels - lp.station_cost * dt;
        w.v.station_low_ticks[v] = profit < 0 ? w.v.station_low_ticks[v] + 1 : 0;
        if (station_closes(w.v.station_low_ticks[v], close_ticks, tick,
                           w.v.station_subsidised_until[v])) {
          w.v.station[v] = 0;
          w.v.station_low_ticks[v] = 0;
          add_village_flow(w, QV_STATIONS_CLOSED, v, 1);
          change[v] = -1;
        }
      } else if (station_opens(w.v.parcels_year[v], ctx.p)) {
        open_station(w, v, tick);
        change[v] = 1;
      }
    }
  });
  for (std::size_t v = 0; v < nv; ++v)
    if (change[v])
      w.events.push_back({tick,
                          static_cast<std::int32_t>(change[v] > 0 ? EventKind::StationOpened
                                                                  : EventKind::StationClosed),
                          static_cast<std::int64_t>(v), w.v.parcels_year[v]});
  for (std::size_t c = 0; c < g.counties(); ++c) {
    double py = 0;
    for (auto v = g.county_village_begin[c]; v < g.county_village_end[c]; ++v)
      py += w.v.parcels_year[v];
    w.c.parcels_year[c] = py;
    if (!w.c.centre[c] && py >= lp.centre_open_parcels) {
      open_centre(w, c, tick, py);
    }
  }
}

}  // namespace ruralsim
