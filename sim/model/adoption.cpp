// 6.2 Adoption: households open stores (Bass-type diffusion with spatial imitation).
#include <tbb/parallel_for.h>

#include <cmath>
#include "core/distributions.hpp"

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

void adoption_step(World& w, const StepCtx& ctx) {
  const auto& g = w.geo;
  const double dt = ctx.clk.dt();
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, g.villages(), 512), [&](const auto& r) {
    for (std::size_t v = r.begin(); v != r.end(); ++v) {
      const auto cap =
          static_cast<std::int64_t>(std::floor(ctx.p.adoption.h_max * g.households[v]));
      const std::int64_t eligible = cap - w.v.stores[v];
      int n = 0;
      double p = 0;
      if (eligible > 0) {
        p = 1.0 - std::exp(-adoption_rate(w, ctx.p, v) * dt);
        if (p > 0) {
          Stream rs(ctx.seed, Purpose::Adoption, v, static_cast<std::uint64_t>(ctx.clk.tick));
          boost::random::binomial_distribution<int> bin(static_cast<int>(eligible),
                                                        std::min(1.0, p));
          n = bin(rs);
        }
      }
      w.v.adopt_p[v] = p;
      w.v.eligible[v] = static_cast<std::int32_t>(std::max<std::int64_t>(0, eligible));
      w.new_stores[v] = n;
      vrow(w, v)[QV_NEW_STORES] += n;
    }
  });
  rebuild_merchants(w, ctx, Purpose::NewMerchant);
}

}  // namespace ruralsim
