// 6.2 Adoption: households weigh opening a store. Imitation (Bass-type diffusion with spatial
// spillovers) sets how often a household considers it; the household opens one when the profit it
// expects from the stores it observes exceeds what it gives up: its forgone base income and the
// annualised entry cost. It picks a side business or a full-time store, whichever gains more.

#include <cmath>
#include "core/distributions.hpp"

#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "model/submodels.hpp"

namespace ruralsim {

double adoption_rate(const World& w, const Params& p, std::size_t v) {
  const auto& ap = p.adoption;
  const auto& g = w.geo;
  const double access = w.v.station[v]                    ? ap.access_station
                        : w.c.centre[g.village_county[v]] ? ap.access_centre
                                                          : ap.access_none;
  const double rho_tv = w.v.taobao[v]       ? ap.tv_spillover_own
                        : w.v.taobao_nbr[v] ? ap.tv_spillover_neighbour
                                            : 0.0;
  const double s = ap.theta_s == 1.0 ? g.strength[v] : std::pow(g.strength[v], ap.theta_s);
  return w.v.internet[v] * access * s *
         (ap.alpha + ap.beta * w.v.u[v] + ap.gamma * w.v.u_nbr[v] + w.v.tau[v]) * (1.0 + rho_tv);
}

double side_scale(const Params& p) {
  const auto& a = p.accounting;
  if (a.time_share_full <= 0) return 1.0;
  return std::pow(a.time_share_side / a.time_share_full, a.scale_exponent);
}

double store_fixed_cost(const World& w, const Params& p, std::size_t v) {
  return p.accounting.fixed_cost * (w.v.taobao[v] ? 1.0 - w.rules.fixed_cost_subsidy : 1.0);
}

StoreWeighing::StoreWeighing(const Params& p)
    : sig(p.adoption.income_sigma),
      half_var(0.5 * sig * sig),
      share_full(p.accounting.time_share_full),
      share_side(p.accounting.time_share_side),
      scale_side(side_scale(p)),
      entry(p.adoption.entry_cost * (p.adoption.discount_rate + p.exit.background)) {}

StoreChoice weigh_store(double expected_gross, double y0, double fixed, const StoreWeighing& k,
                        double z) {
  StoreChoice c;
  c.base_rel = std::exp(k.sig * z - k.half_var);
  const double y = c.base_rel * y0;
  const double gain_full = expected_gross - fixed - k.share_full * y;
  const double gain_side = k.scale_side * expected_gross - fixed - k.share_side * y;
  c.full = gain_full > gain_side;
  c.open = std::max(gain_full, gain_side) > k.entry;
  return c;
}

StoreChoice weigh_store(double expected_gross, double y0, double fixed, const Params& p, double z) {
  return weigh_store(expected_gross, y0, fixed, StoreWeighing(p), z);
}

int stores_chosen(const World& w, const Params& p, std::size_t v, int considering, double y0,
                  Stream choices) {
  boost::random::normal_distribution<double> norm(0.0, 1.0);
  const double fixed = store_fixed_cost(w, p, v);
  const StoreWeighing k(p);
  int opened = 0;
  for (int i = 0; i < considering; ++i)
    opened += weigh_store(w.v.expected_gross[v], y0, fixed, k, norm(choices)).open ? 1 : 0;
  return opened;
}

void adoption_step(World& w, const StepCtx& ctx) {
  const auto& g = w.geo;
  const double dt = ctx.clk.dt();
  const double grow = growth_factor(ctx.p.income.base_growth, ctx.clk);
  const auto& cache = w.cache;
  const StreamPrefix adoption_key = stream_prefix(ctx.seed, Purpose::Adoption);
  parallel_for(0, g.villages(), 512, [&](const auto& r) {
    for (std::size_t v = r.begin(); v != r.end(); ++v) {
      const std::int64_t eligible = cache.store_cap[v] - w.v.stores[v];
      int considering = 0, opened = 0;
      double p = 0;
      if (eligible > 0) {
        p = 1.0 - std::exp(-adoption_rate(w, ctx.p, v) * dt);
        if (p > 0) {
          Stream rs(adoption_key, v, static_cast<std::uint64_t>(ctx.clk.tick));
          considering = binomial_draw(static_cast<int>(eligible), std::min(1.0, p), rs);
        }
      }
      // The same draws are replayed by rebuild_merchants to give the new stores their type.
      if (considering > 0)
        opened = stores_chosen(
            w, ctx.p, v, considering, g.base_income[v] * grow,
            Stream(ctx.seed, Purpose::StoreChoice, v, static_cast<std::uint64_t>(ctx.clk.tick)));
      w.v.adopt_p[v] = p;
      w.v.eligible[v] = static_cast<std::int32_t>(std::max<std::int64_t>(0, eligible));
      w.v.considering[v] = considering;
      w.new_stores[v] = opened;
      if (opened > 0) add_village_flow(w, QV_NEW_STORES, v, opened);
    }
  });
  rebuild_merchants(w, ctx, Purpose::NewMerchant);
}

}  // namespace ruralsim
