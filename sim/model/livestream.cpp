// 6.3 Livestreaming: entry, sessions promoting stores of the home county, follower dynamics,
// commission, exit.
#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <cmath>
#include "core/distributions.hpp"

#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "model/submodels.hpp"

namespace ruralsim {

void livestream_step(World& w, const StepCtx& ctx) {
  const auto& lp = ctx.p.livestream;
  const auto& g = w.geo;
  const std::size_t nc = g.counties();
  const double t = ctx.clk.time_mid(), dt = ctx.clk.dt();
  const auto tick = static_cast<std::uint64_t>(ctx.clk.tick);
  std::vector<std::int32_t> organic(nc, 0);
  if (t >= lp.start_year) {
    const double uptake = 1.0 / (1.0 + std::exp(-lp.platform_k * (t - lp.platform_mid)));
    for (std::size_t c = 0; c < nc; ++c) {
      double stores = 0;
      for (auto v = g.county_village_begin[c]; v < g.county_village_end[c]; ++v)
        stores += w.v.stores[v];
      const double mean = lp.entry_rate * uptake * stores * dt;
      if (mean <= 0) continue;
      Stream rs(ctx.seed, Purpose::LivestreamEntry, c, tick);
      boost::random::poisson_distribution<int> pois(mean);
      organic[c] = pois(rs);
    }
  }
  rebuild_streamers(w, organic, ctx);

  auto& ls = w.ls;
  auto& m = w.m;
  const double mean_sessions = lp.sessions_per_week * ctx.clk.weeks();
  const double follower_keep = std::exp(-lp.follower_decay * dt);
  const auto k_promo = static_cast<std::size_t>(lp.k_promo);
  // Pass 1: sessions. Each session's orders (followers x view rate x conversion x skill) are the
  // livestreamer's selling potential, spread over the promoted stores.
  ls.session_sales.assign(ls.size(), 0.0);
  std::vector<double> county_potential(nc, 0.0);
  tbb::enumerable_thread_specific<std::vector<double>> cdf_tls;
  tbb::enumerable_thread_specific<std::vector<std::uint64_t>> slots_tls;
  parallel_for(0, nc, 4, [&](const auto& r) {
    auto& cdf = cdf_tls.local();
    auto& slots = slots_tls.local();  // the county's stores, village by village
    std::vector<std::uint64_t> picked;
    picked.reserve(k_promo);
    for (std::size_t c = r.begin(); c != r.end(); ++c) {
      const auto sb = ls.offset[c], se = ls.offset[c + 1];
      if (sb == se) continue;
      slots.clear();
      cdf.clear();
      double total_a = 0;
      for (auto v = g.county_village_begin[c]; v < g.county_village_end[c]; ++v)
        for (auto i = m.offset[v]; i < m.end[v]; ++i) {
          slots.push_back(i);
          cdf.push_back(total_a += m.attract[i]);
        }
      Stream rs(ctx.seed, Purpose::LivestreamSession, c, tick);
      Stream rx(ctx.seed, Purpose::LivestreamExit, c, tick);
      boost::random::poisson_distribution<int> pois(mean_sessions > 0 ? mean_sessions : 1e-12);
      double* cr = crow(w, c);
      // No sessions before livestream selling exists, nor where there is nothing to sell.
      const bool can_sell = t >= lp.start_year && total_a > 0 && mean_sessions > 0;
      double potential = 0;
      for (auto i = sb; i < se; ++i) {
        const int n_s = can_sell ? pois(rs) : 0;
        const double F = ls.followers[i];
        double sales = 0;
        for (int s = 0; s < n_s; ++s) {
          const double orders = F * lp.view_rate * lp.conversion * ls.skill[i];
          picked.clear();
          for (std::size_t k = 0; k < k_promo; ++k) {
            const double u = rs.uniform() * total_a;
            const auto it = std::upper_bound(cdf.begin(), cdf.end(), u);
            const auto j = slots[static_cast<std::size_t>(std::min<std::ptrdiff_t>(
                it - cdf.begin(), static_cast<std::ptrdiff_t>(cdf.size()) - 1))];
            if (std::find(picked.begin(), picked.end(), j) == picked.end()) picked.push_back(j);
          }
          const double share = orders / static_cast<double>(picked.size());
          for (auto j : picked) {
            const double sale = share * w.categories[m.category[j]].order_value;
            m.sales_live[j] += sale;
            sales += sale;
          }
        }
        ls.session_sales[i] = sales;
        potential += sales;
        // Decay as an exact factor (stable for any rate), growth from the tick's sessions.
        ls.followers[i] = F * follower_keep +
                          lp.follower_growth * ls.skill[i] * std::pow(F, lp.follower_phi) * n_s;
        cr[cq_index(QC_SESSIONS)] += n_s;
        const double f0 = std::max(1.0, lp.initial_followers);
        const double h = lp.exit_hazard * std::min(1.0, f0 / std::max(1.0, ls.followers[i]));
        if (rx.uniform() < 1.0 - std::exp(-h * dt)) ls.alive[i] = 0;
      }
      county_potential[c] = potential;
    }
  });
  // The channel's demand L = share(t) x D(t) is shared between the modelled livestreamers
  // (potential P) and outside ones (outside_strength x L): they sell L x P / (P + outside x L),
  // and never more than their potential P.
  const double channel = scenario_demand(ctx) * livestream_channel_share(ctx.p, t);
  const double P = fixed_order_sum(county_potential.data(), nc, 1);
  const double denom = P + lp.outside_strength * channel;
  const double f = P > 0 && denom > 0 ? std::min(1.0, channel / denom) : 0.0;
  // Pass 2: realised sales, commission.
  parallel_for(0, nc, 4, [&](const auto& r) {
    for (std::size_t c = r.begin(); c != r.end(); ++c) {
      const auto sb = ls.offset[c], se = ls.offset[c + 1];
      if (sb == se) continue;
      if (county_potential[c] > 0) {
        for (auto v = g.county_village_begin[c]; v < g.county_village_end[c]; ++v)
          for (auto i = m.offset[v]; i < m.end[v]; ++i) m.sales_live[i] *= f;
      }
      double* cr = crow(w, c);
      for (auto i = sb; i < se; ++i) {
        const double sales = ls.session_sales[i] * f;
        const double commission = lp.commission * sales;
        ls.commission_year[i] = ls.commission_year[i] * (1.0 - dt) + commission;
        cr[cq_index(QC_SESSION_SALES)] += sales;
        cr[cq_index(QC_COMMISSION)] += commission;
      }
    }
  });
}

}  // namespace ruralsim
