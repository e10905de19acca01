// 6.6 Accounting: profit, wages, employment, reputation; u_v and u_nbr for the next adoption.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>

#include "model/submodels.hpp"

namespace ruralsim {

void accounting_step(World& w, const StepCtx& ctx) {
  const auto& ap = ctx.p.accounting;
  const auto& g = w.geo;
  const std::size_t nv = g.villages();
  const double dt = ctx.clk.dt();
  const double rep_decay = std::exp(-ctx.p.market.reputation_decay * dt);  // exact for any rate
  const double commission = ctx.p.livestream.commission;
  auto& m = w.m;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, nv, 256), [&](const auto& r) {
    for (std::size_t v = r.begin(); v != r.end(); ++v) {
      const auto mb = m.offset[v], me = m.offset[v + 1];
      const std::int64_t H = g.households[v], M = w.v.stores[v];
      const double cap = std::max(1.0, ctx.p.adoption.h_max * H);
      const double density = std::min(1.0, M / cap);
      const double wage = ap.wage_min + (ap.wage_max - ap.wage_min) * density;
      w.v.wage[v] = wage;
      // Labour demand, capped by the households that run no store.
      std::int64_t demand = 0;
      for (auto i = mb; i < me; ++i) {
        const double annual = (m.sales_org[i] + m.sales_live[i]) / dt;
        m.employees[i] =
            static_cast<std::int32_t>(std::min(1.0e6, std::floor(annual / ap.revenue_per_worker)));
        demand += m.employees[i];
      }
      const std::int64_t supply = std::max<std::int64_t>(0, H - M);
      if (demand > supply) {
        const double f = static_cast<double>(supply) / static_cast<double>(demand);
        for (auto i = mb; i < me; ++i)
          m.employees[i] = static_cast<std::int32_t>(std::floor(m.employees[i] * f));
      }
      const double fixed =
          ap.fixed_cost * dt * (w.v.taobao[v] ? 1.0 - w.rules.fixed_cost_subsidy : 1.0);
      const double wage_tick = wage * 12.0 * dt;
      const double ship = w.v.ship_cost[v];
      const auto spec = g.county_specialty[g.village_county[v]];  // programmes brand the county's
      std::int32_t employment = 0, profitable = 0;
      double sales_v = 0, live_v = 0;
      for (auto i = mb; i < me; ++i) {
        const auto& cat = w.categories[m.category[i]];
        const double S = m.sales_org[i] + m.sales_live[i];
        const double orders = S / cat.order_value;
        const double b = m.brand[i] * (m.category[i] == spec ? w.v.brand_mult[v] : 1.0);
        const double profit = cat.margin * b * S - ship * orders - fixed -
                              m.employees[i] * wage_tick - commission * m.sales_live[i];
        m.reputation[i] = static_cast<float>(m.reputation[i] * rep_decay +
                                             orders / ctx.p.market.reputation_orders);
        m.profit_year[i] = static_cast<float>(m.profit_year[i] * (1.0 - dt) + profit);
        m.loss_ticks[i] =
            profit < 0 ? static_cast<std::uint16_t>(std::min(65535, m.loss_ticks[i] + 1)) : 0;
        m.cum_profit[i] += profit;
        employment += m.employees[i];
        profitable += m.profit_year[i] > 0 ? 1 : 0;
        sales_v += S;
        live_v += m.sales_live[i];
      }
      w.v.employment[v] = employment;
      w.v.profitable[v] = profitable;
      w.v.u[v] = static_cast<double>(profitable) / static_cast<double>(H);
      w.v.sales_year[v] += sales_v;
      vrow(w, v)[QV_SALES_LIVE] += live_v;
    }
  });
  // Household-weighted u of the neighbours within R.
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, nv, 1024), [&](const auto& r) {
    for (std::size_t v = r.begin(); v != r.end(); ++v) {
      double num = 0, den = 0;
      for (auto k = g.nbr_offset[v]; k < g.nbr_offset[v + 1]; ++k) {
        const auto n = g.nbr_index[k];
        num += g.households[n] * w.v.u[n];
        den += g.households[n];
      }
      w.v.u_nbr[v] = den > 0 ? num / den : 0.0;
    }
  });
}

}  // namespace ruralsim
