// 6.7 Exit: stores that keep losing money close with hazard h_exit; a background rate applies
// to all. Closed stores are removed at the next rebuild (step 3).

#include <cmath>

#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "model/submodels.hpp"

namespace ruralsim {

void exit_step(World& w, const StepCtx& ctx) {
  const auto& ep = ctx.p.exit;
  const double dt = ctx.clk.dt();
  const double p_bg = 1.0 - std::exp(-ep.background * dt);
  const double p_loss = 1.0 - std::exp(-(ep.background + ep.hazard) * dt);
  const auto loss_ticks =
      static_cast<std::int64_t>(std::lround(ep.loss_years * ctx.clk.ticks_per_year));
  auto& m = w.m;
  parallel_for(0, w.geo.villages(), 512, [&](const auto& r) {
    for (std::size_t v = r.begin(); v != r.end(); ++v) {
      const auto mb = m.offset[v], me = m.end[v];
      if (mb == me) continue;
      Stream rs(ctx.seed, Purpose::Exit, v, static_cast<std::uint64_t>(ctx.clk.tick));
      int exits = 0;
      for (auto i = mb; i < me; ++i) {
        if (!m.alive[i]) continue;
        const double p = m.loss_ticks[i] > loss_ticks ? p_loss : p_bg;
        if (rs.uniform() < p) {
          m.alive[i] = 0;
          ++exits;
        }
      }
      w.v.stores[v] -= exits;
      add_village_flow(w, QV_EXITS, v, exits);
    }
  });
}

}  // namespace ruralsim
