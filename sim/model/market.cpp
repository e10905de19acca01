// 6.4 Market: organic sales shared among all stores of a category (national competition).

#include <cmath>

#include "core/parallel.hpp"
#include "model/submodels.hpp"

namespace ruralsim {

namespace {

// log of the growth factor over `years` of a growth rate that starts at g0 (log rate) and decays
// towards g_lr with time constant T: integral of g_lr + (g0 - g_lr) exp(-s / T) ds.
double decaying_log_growth(double g0, double g_lr, double T, double years) {
  return g_lr * years + (g0 - g_lr) * T * (-std::expm1(-years / T));
}

}  // namespace

double demand_total(const Params& p, const std::vector<std::pair<int, double>>& table,
                    int start_year, double t) {
  const double g = std::log1p(p.market.demand_growth);
  const double g_lr = std::log1p(p.market.demand_growth_longrun);
  const double T = p.market.demand_decay_years;
  // Annual values are anchored at mid-year, for demand_initial as for the table.
  if (table.empty()) {
    const double t0 = start_year + 0.5;
    if (t <= t0) return p.market.demand_initial * std::exp(g * (t - t0));
    return p.market.demand_initial * std::exp(decaying_log_growth(g, g_lr, T, t - t0));
  }
  // Table values are annual totals attributed to mid-year; log-linear in between; before the
  // first point the growth rate demand_growth; after the last point the last observed growth
  // rate, decaying towards the long-run rate.
  auto at = [&](std::size_t i) { return table[i].first + 0.5; };
  auto val = [&](std::size_t i) { return table[i].second * p.market.physical_share; };
  if (t <= at(0)) return val(0) * std::exp(g * (t - at(0)));
  const std::size_t n = table.size();
  if (t >= at(n - 1)) {
    const double g_last = n >= 2 && val(n - 2) > 0 && val(n - 1) > 0
                              ? std::log(val(n - 1) / val(n - 2)) / (at(n - 1) - at(n - 2))
                              : g;
    return val(n - 1) * std::exp(decaying_log_growth(g_last, g_lr, T, t - at(n - 1)));
  }
  std::size_t i = 0;
  while (at(i + 1) < t) ++i;
  const double f = (t - at(i)) / (at(i + 1) - at(i));
  return std::exp((1 - f) * std::log(val(i)) + f * std::log(val(i + 1)));
}

double livestream_channel_share(const Params& p, double t) {
  const auto& lp = p.livestream;
  if (t < lp.start_year) return 0.0;
  return lp.channel_share / (1.0 + std::exp(-lp.platform_k * (t - lp.platform_mid)));
}

double scenario_demand(const StepCtx& ctx) {
  const double d_total =
      demand_total(ctx.p, ctx.demand_table, ctx.clk.start_year, ctx.clk.time_mid());
  const double scale =
      ctx.total_households / ctx.p.market.national_households * ctx.p.market.phi_rural;
  return d_total * scale * ctx.clk.dt();
}

void attractiveness_step(World& w, const StepCtx& ctx, std::vector<double>& partial) {
  const auto& g = w.geo;
  const std::size_t ncat = w.categories.size();
  // Rows of villages without stores are neither written nor read (market_step skips them).
  partial.resize(g.villages() * ncat);
  const double rho = ctx.p.market.rho;
  const double scale_side = side_scale(ctx.p);
  auto& m = w.m;
  parallel_for(0, g.villages(), 256, [&](const auto& r) {
    for (std::size_t v = r.begin(); v != r.end(); ++v) {
      if (m.offset[v] == m.end[v]) continue;  // no store (most villages at the start)
      const double vis =
          (w.v.taobao[v] ? 1.0 + w.rules.visibility_boost : 1.0) * delivery_factor(w, v);
      const auto spec = g.county_specialty[g.village_county[v]];  // programmes brand the county's
      const double qm = w.v.quality_mult[v], bm = w.v.brand_mult[v];
      double* part = &partial[v * ncat];
      std::fill(part, part + ncat, 0.0);
      for (auto i = m.offset[v]; i < m.end[v]; ++i) {
        m.sales_org[i] = 0.0f;
        m.sales_live[i] = 0.0f;
        if (!m.alive[i]) {
          m.attract[i] = 0.0f;
          continue;
        }
        // Selling capacity: a side business reaches fewer buyers than a full-time store.
        double a = m.quality[i] * m.brand[i] * vis * (m.full_time[i] ? 1.0 : scale_side);
        if (m.category[i] == spec) a *= qm * bm;
        a *= rho == 0.5 ? std::sqrt(1.0 + m.reputation[i]) : std::pow(1.0 + m.reputation[i], rho);
        m.attract[i] = static_cast<float>(a);
        part[m.category[i]] += m.attract[i];
      }
    }
  });
}

void market_step(World& w, const StepCtx& ctx, const std::vector<double>& partial) {
  const auto& g = w.geo;
  const std::size_t ncat = w.categories.size();
  // The organic channel: what the livestream channel does not take.
  const double organic =
      scenario_demand(ctx) * (1.0 - livestream_channel_share(ctx.p, ctx.clk.time_mid()));
  std::vector<double> per_attract(ncat);
  w.market_signal.assign(ncat, 0.0);
  // Column sums in village order over the villages with stores (the rows of the others would
  // add 0).
  std::vector<double> sums(ncat, 0.0);
  if (!partial.empty())
    for (std::size_t v = 0; v < g.villages(); ++v)
      if (w.m.offset[v] != w.m.end[v])
        for (std::size_t k = 0; k < ncat; ++k) sums[k] += partial[v * ncat + k];
  for (std::size_t k = 0; k < ncat; ++k) {
    const double sum = sums[k];
    const double outside =
        ctx.p.market.outside_per_household * ctx.total_households * w.categories[k].share;
    const double denom = sum + outside;
    const double demand = organic * w.categories[k].share;
    per_attract[k] = denom > 0 ? demand / denom : 0.0;
    w.market_signal[k] = per_attract[k] / ctx.clk.dt();
  }
  if (partial.empty()) return;
  auto& m = w.m;
  parallel_for(0, g.villages(), 256, [&](const auto& r) {
    for (std::size_t v = r.begin(); v != r.end(); ++v) {
      if (m.offset[v] == m.end[v]) continue;  // organic sales of 0
      double total = 0;
      for (auto i = m.offset[v]; i < m.end[v]; ++i) {
        const double s = m.attract[i] * per_attract[m.category[i]];
        m.sales_org[i] = static_cast<float>(s);
        total += m.sales_org[i];
      }
      add_village_flow(w, QV_SALES_ORGANIC, v, total);
    }
  });
}

void start_market_signal(World& w, const StepCtx& ctx) {
  market_step(w, ctx, {});
}

}  // namespace ruralsim
