// 6.4 Market: organic sales shared among all stores of a category (national competition).
#include <tbb/parallel_for.h>

#include <cmath>

#include "model/submodels.hpp"

namespace ruralsim {

double demand_total(const Params& p, const std::vector<std::pair<int, double>>& table,
                    int start_year, double t) {
  const double g = std::log1p(p.market.demand_growth);
  // Annual values are anchored at mid-year, for demand_initial as for the table.
  if (table.empty()) return p.market.demand_initial * std::exp(g * (t - (start_year + 0.5)));
  // Table values are annual totals attributed to mid-year; log-linear in between, growth
  // rate outside.
  auto at = [&](std::size_t i) { return table[i].first + 0.5; };
  auto val = [&](std::size_t i) { return table[i].second * p.market.physical_share; };
  if (t <= at(0)) return val(0) * std::exp(g * (t - at(0)));
  const std::size_t n = table.size();
  if (t >= at(n - 1)) return val(n - 1) * std::exp(g * (t - at(n - 1)));
  std::size_t i = 0;
  while (at(i + 1) < t) ++i;
  const double f = (t - at(i)) / (at(i + 1) - at(i));
  return std::exp((1 - f) * std::log(val(i)) + f * std::log(val(i + 1)));
}

void attractiveness_step(World& w, const StepCtx& ctx, std::vector<double>& partial) {
  const auto& g = w.geo;
  const std::size_t ncat = w.categories.size();
  partial.assign(g.villages() * ncat, 0.0);
  const double rho = ctx.p.market.rho, delta = ctx.p.market.delta_delivery;
  auto& m = w.m;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, g.villages(), 256), [&](const auto& r) {
    for (std::size_t v = r.begin(); v != r.end(); ++v) {
      const double vis = (w.v.taobao[v] ? 1.0 + w.rules.visibility_boost : 1.0) *
                         std::exp(-delta * w.v.delivery_days[v]);
      const auto spec = g.county_specialty[g.village_county[v]];  // programmes brand the county's
      const double qm = w.v.quality_mult[v], bm = w.v.brand_mult[v];
      double* part = &partial[v * ncat];
      for (auto i = m.offset[v]; i < m.offset[v + 1]; ++i) {
        m.sales_org[i] = 0.0f;
        m.sales_live[i] = 0.0f;
        if (!m.alive[i]) {
          m.attract[i] = 0.0f;
          continue;
        }
        double a = m.quality[i] * m.brand[i] * vis;
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
  const double d_total =
      demand_total(ctx.p, ctx.demand_table, ctx.clk.start_year, ctx.clk.time_mid());
  const double scale =
      ctx.total_households / ctx.p.market.national_households * ctx.p.market.phi_rural;
  std::vector<double> per_attract(ncat);
  for (std::size_t k = 0; k < ncat; ++k) {
    const double sum = fixed_order_sum(partial.data() + k, g.villages(), ncat);
    const double outside =
        ctx.p.market.outside_per_household * ctx.total_households * w.categories[k].share;
    const double denom = sum + outside;
    const double demand = d_total * w.categories[k].share * scale * ctx.clk.dt();
    per_attract[k] = denom > 0 ? demand / denom : 0.0;
  }
  auto& m = w.m;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, g.villages(), 256), [&](const auto& r) {
    for (std::size_t v = r.begin(); v != r.end(); ++v) {
      double total = 0;
      for (auto i = m.offset[v]; i < m.offset[v + 1]; ++i) {
        const double s = m.attract[i] * per_attract[m.category[i]];
        m.sales_org[i] = static_cast<float>(s);
        total += m.sales_org[i];
      }
      vrow(w, v)[QV_SALES_ORGANIC] += total;
    }
  });
}

}  // namespace ruralsim
