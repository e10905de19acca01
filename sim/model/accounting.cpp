// 6.6 Accounting: profit, wages, employment, reputation, trailing-year rates; what households
// observe for the next tick's adoption (u_v, u_nbr, expected operating profit).

#include <algorithm>
#include <cmath>

#include "core/parallel.hpp"
#include "model/submodels.hpp"

namespace ruralsim {

namespace {

// A village whose u, gross_sum or scale_sum may be other than 0: it has stores, or no households
// (u = 0 / 0).
bool village_active(const World& w, std::size_t v) {
  return w.m.offset[v] != w.m.end[v] || w.geo.households[v] == 0;
}

}  // namespace

double market_prior(const World& w, std::size_t v) {
  const auto& g = w.geo;
  const auto k = g.specialty[v];
  const auto& c = w.categories[k];
  // A new full-time store of mean quality and no reputation, with the village's visibility and
  // delivery time and the programme multipliers of the county specialty (as in attractiveness).
  double a_new = g.strength[v] * delivery_factor(w, v) *
                 (w.v.taobao[v] ? 1.0 + w.rules.visibility_boost : 1.0);
  if (k == g.county_specialty[g.village_county[v]])
    a_new *= w.v.quality_mult[v] * w.v.brand_mult[v];
  const double unit = std::max(0.0, c.margin - w.v.ship_cost[v] / c.order_value);
  return w.market_signal.empty() ? 0.0 : w.market_signal[k] * a_new * unit;
}

void expect_market_prior(World& w) {
  for (std::size_t v = 0; v < w.geo.villages(); ++v) w.v.expected_gross[v] = market_prior(w, v);
}

double trailing_weight(std::int32_t age_ticks, double dt) {
  return std::max(dt, 1.0 / (static_cast<double>(std::max(0, age_ticks)) + 1.0));
}

void accounting_step(World& w, const StepCtx& ctx) {
  const auto& ap = ctx.p.accounting;
  const auto& g = w.geo;
  const std::size_t nv = g.villages();
  const double dt = ctx.clk.dt();
  const double rep_decay = std::exp(-ctx.p.market.reputation_decay * dt);  // exact for any rate
  const double commission = ctx.p.livestream.commission;
  const double grow = growth_factor(ctx.p.income.base_growth, ctx.clk);
  const double scale_side = side_scale(ctx.p);
  const double rho = ctx.p.market.rho;
  const auto tick = ctx.clk.tick;
  const bool new_year = tick % ctx.clk.ticks_per_year == 0;  // calendar-year sales restart
  auto& m = w.m;
  auto& cache = w.cache;
  parallel_for(0, nv, 256, [&](const auto& r) {
    for (std::size_t v = r.begin(); v != r.end(); ++v) {
      const auto mb = m.offset[v], me = m.end[v];
      const std::int64_t H = g.households[v], M = w.v.stores[v];
      // A village without stores (or without households, whose u is not 0) is not active: its
      // values below depend on nothing that changes, and stay as written at an earlier tick.
      const bool active = village_active(w, v);
      if (!active && cache.storeless_written[v]) continue;
      cache.storeless_written[v] = active ? 0 : 1;
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
      const double fixed_year = store_fixed_cost(w, ctx.p, v);
      const double fixed = fixed_year * dt;
      const double wage_tick = wage * 12.0 * dt;
      const double ship = w.v.ship_cost[v];
      const double y0 = g.base_income[v] * grow;
      const auto spec = g.county_specialty[g.village_county[v]];  // programmes brand the county's
      std::int32_t employment = 0, profitable = 0, gaining = 0;
      double sales_v = 0, live_v = 0, gross_v = 0, scale_v = 0;
      for (auto i = mb; i < me; ++i) {
        const auto& c = w.categories[m.category[i]];
        const double S = m.sales_org[i] + m.sales_live[i];
        const double orders = S / c.order_value;
        const double b = m.brand[i] * (m.category[i] == spec ? w.v.brand_mult[v] : 1.0);
        const double profit = c.margin * b * S - ship * orders - fixed -
                              m.employees[i] * wage_tick - commission * m.sales_live[i];
        m.reputation[i] = static_cast<float>(m.reputation[i] * rep_decay +
                                             orders / ctx.p.market.reputation_orders);
        const double wt = trailing_weight(tick - m.birth_tick[i], dt);
        m.profit_year[i] =
            static_cast<float>(m.profit_year[i] + wt * (profit / dt - m.profit_year[i]));
        m.sales_year[i] = static_cast<float>(m.sales_year[i] + wt * (S / dt - m.sales_year[i]));
        m.cal_sales[i] = static_cast<float>((new_year ? 0.0 : m.cal_sales[i]) + S);
        m.cal_live[i] = static_cast<float>((new_year ? 0.0 : m.cal_live[i]) + m.sales_live[i]);
        // A store gains when its trailing profit covers the base income the household gives up.
        const double ts = m.full_time[i] ? ap.time_share_full : ap.time_share_side;
        const bool gains = m.profit_year[i] >= ts * m.base_rel[i] * y0;
        m.loss_ticks[i] =
            gains ? 0 : static_cast<std::uint16_t>(std::min(65535, m.loss_ticks[i] + 1));
        employment += m.employees[i];
        profitable += m.profit_year[i] > 0 ? 1 : 0;
        gaining += gains ? 1 : 0;
        sales_v += S;
        live_v += m.sales_live[i];
        // What others observe: operating profit before fixed cost per unit of capacity, net of
        // the store's accumulated reputation (what a newcomer selling the same goods would make).
        const double scale = m.full_time[i] ? 1.0 : scale_side;
        const double rep =
            rho == 0.5 ? std::sqrt(1.0 + m.reputation[i]) : std::pow(1.0 + m.reputation[i], rho);
        const double gross = (m.profit_year[i] + fixed_year) / rep;
        gross_v += gross;
        scale_v += scale;
      }
      w.v.employment[v] = employment;
      w.v.profitable[v] = profitable;
      w.v.gaining[v] = gaining;
      w.v.u[v] = static_cast<double>(gaining) / static_cast<double>(H);
      w.v.gross_sum[v] = gross_v;
      w.v.scale_sum[v] = scale_v;
      if (mb == me) continue;  // sales of 0 (flows restart at +0)
      w.v.sales_year[v] += sales_v;
      add_village_flow(w, QV_SALES_LIVE, v, live_v);
    }
  });
  // Villages that see an active village (transposed neighbour lists: v sees n when n is in v's
  // list). Serial: few villages are active.
  std::fill(cache.nbr_active.begin(), cache.nbr_active.end(), 0);
  for (std::size_t n = 0; n < nv; ++n) {
    if (!village_active(w, n)) continue;
    cache.nbr_active[n] = 1;
    for (auto k = cache.nbr_in_offset[n]; k < cache.nbr_in_offset[n + 1]; ++k)
      cache.nbr_active[cache.nbr_in_index[k]] = 1;
  }
  // Household-weighted u of the neighbours within R, and the expected operating profit per unit
  // of capacity: stores of the village, of the neighbours (weight neighbour_weight) and what the
  // market offers a new store of the village's specialty (weight prior_weight, in stores).
  const double wn = ctx.p.adoption.neighbour_weight, w0 = ctx.p.adoption.prior_weight;
  parallel_for(0, nv, 1024, [&](const auto& r) {
    for (std::size_t v = r.begin(); v != r.end(); ++v) {
      // Without an active village in sight every term below is +0 (u, gross_sum and scale_sum
      // of a village without stores are 0): the same sums without reading the neighbours.
      double num = 0, gn = 0, sn = 0;
      const double den = cache.nbr_households[v];
      if (cache.nbr_active[v])
        for (auto k = g.nbr_offset[v]; k < g.nbr_offset[v + 1]; ++k) {
          const auto n = g.nbr_index[k];
          num += g.households[n] * w.v.u[n];
          gn += w.v.gross_sum[n];
          sn += w.v.scale_sum[n];
        }
      w.v.u_nbr[v] = den > 0 ? num / den : 0.0;
      const double wsum = w.v.scale_sum[v] + wn * sn + w0;
      w.v.expected_gross[v] =
          wsum > 0 ? (w.v.gross_sum[v] + wn * gn + w0 * market_prior(w, v)) / wsum : 0.0;
    }
  });
}

}  // namespace ruralsim
