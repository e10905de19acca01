
#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <type_traits>
#include <utility>
#include "core/distributions.hpp"

#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "model/submodels.hpp"

namespace ruralsim {

const char* event_kind_name(EventKind k) {
  switch (k) {
    case EventKind::TaobaoVillage:
      return "taobao_village_recognised";
    case EventKind::TaobaoVillageLost:
      return "taobao_village_lost";
    case EventKind::TaobaoTown:
      return "taobao_town_recognised";
    case EventKind::TaobaoTownLost:
      return "taobao_town_lost";
    case EventKind::StationOpened:
      return "station_opened";
    case EventKind::StationClosed:
      return "station_closed";
    case EventKind::CentreOpened:
      return "county_centre_opened";
    case EventKind::InterventionStart:
      return "intervention_start";
    case EventKind::InterventionEnd:
      return "intervention_end";
  }
  return "unknown";
}

const char* event_entity_level(EventKind k, std::int64_t entity) {
  switch (k) {
    case EventKind::TaobaoVillage:
    case EventKind::TaobaoVillageLost:
    case EventKind::StationOpened:
    case EventKind::StationClosed:
      return "village";
    case EventKind::TaobaoTown:
    case EventKind::TaobaoTownLost:
      return "town";
    case EventKind::CentreOpened:
      return "county";
    case EventKind::InterventionStart:
    case EventKind::InterventionEnd:
      return entity < 0 ? "none" : "county";
  }
  return "none";
}

void MerchantStore::resize(std::size_t n) {
  std::apply([&](auto... f) { ((this->*f).resize(n), ...); }, per_store_fields());
  std::apply([&](auto... f) { ((this->*f).resize(n), ...); }, scratch_fields());
}

void MerchantStore::copy_entry(const MerchantStore& s, std::size_t i, std::size_t j) {
  std::apply([&](auto... f) { (((this->*f)[j] = (s.*f)[i]), ...); }, per_store_fields());
}

void MerchantStore::copy_range(const MerchantStore& s, std::size_t begin, std::size_t stop,
                               std::size_t to) {
  std::apply(
      [&](auto... f) {
        ((std::copy((s.*f).begin() + static_cast<std::ptrdiff_t>(begin),
                    (s.*f).begin() + static_cast<std::ptrdiff_t>(stop),
                    (this->*f).begin() + static_cast<std::ptrdiff_t>(to))),
         ...);
      },
      per_store_fields());
}

namespace {

// Capacity for `n` slots and a quarter more (villages that move before the next layout), so that
// the arrays grow by a quarter at a time rather than doubling.
template <class Vec>
void reserve_slots(Vec& vec, std::size_t n) {
  if (n > vec.capacity()) vec.reserve(n + n / 4);
}

}  // namespace

std::size_t MerchantStore::relayout(const std::vector<std::int32_t>& extra) {
  const std::size_t nv = end.size();
  std::vector<std::uint64_t> to_offset(nv), to_end(nv), to_limit(nv);
  std::uint64_t at = 0;
  for (std::size_t v = 0; v < nv; ++v) {
    const std::uint64_t need = entries(v) + static_cast<std::uint64_t>(extra[v]);
    to_offset[v] = at;
    to_end[v] = at + entries(v);
    at += need + spare_slots(need);
    to_limit[v] = at;
  }
  // One field at a time, so that the arrays are held twice only one field at a time.
  const auto move_field = [&](auto f) {
    auto& from = this->*f;
    std::remove_reference_t<decltype(from)> to;
    to.reserve(at + at / 4);
    to.resize(at);  // new slots are zero: spare ones have alive 0
    parallel_for(0, nv, 1024, [&](const auto& r) {
      for (std::size_t v = r.begin(); v != r.end(); ++v)
        std::copy(from.begin() + static_cast<std::ptrdiff_t>(offset[v]),
                  from.begin() + static_cast<std::ptrdiff_t>(end[v]),
                  to.begin() + static_cast<std::ptrdiff_t>(to_offset[v]));
    });
    from = std::move(to);
  };
  std::apply([&](auto... f) { (move_field(f), ...); }, per_store_fields());
  const auto fresh = [&](auto f) {
    std::remove_reference_t<decltype(this->*f)> to;
    to.reserve(at + at / 4);
    to.resize(at);
    this->*f = std::move(to);
  };
  std::apply([&](auto... f) { (fresh(f), ...); }, scratch_fields());  // recomputed before use
  offset = std::move(to_offset);
  end = std::move(to_end);
  limit = std::move(to_limit);
  return size();
}

int MerchantStore::make_room(const std::vector<std::int32_t>& extra) {
  const std::size_t nv = end.size();
  std::vector<std::size_t> movers;
  std::uint64_t owned = 0, added = 0;
  for (std::size_t v = 0; v < nv; ++v) {
    const std::uint64_t need = entries(v) + static_cast<std::uint64_t>(extra[v]);
    if (need <= limit[v] - offset[v]) {
      owned += limit[v] - offset[v];
    } else {
      movers.push_back(v);
      owned += need + spare_slots(need);
      added += need + spare_slots(need);
    }
  }
  if (movers.empty()) return 0;
  if (size() + added > owned + owned / 2) {  // more than a third would be dead space
    relayout(extra);
    return 2;
  }
  std::uint64_t at = size();
  const auto reserve = [&](auto... f) { (reserve_slots(this->*f, at + added), ...); };
  std::apply(reserve, per_store_fields());
  std::apply(reserve, scratch_fields());
  resize(at + added);  // the new slots are zero (alive 0)
  for (std::size_t v : movers) {
    const std::uint64_t n = entries(v);
    const std::uint64_t need = n + static_cast<std::uint64_t>(extra[v]);
    if (n > 0) copy_range(*this, offset[v], end[v], at);
    std::fill(alive.begin() + static_cast<std::ptrdiff_t>(offset[v]),
              alive.begin() + static_cast<std::ptrdiff_t>(end[v]), std::uint8_t{0});
    offset[v] = at;
    end[v] = at + n;
    at += need + spare_slots(need);
    limit[v] = at;
  }
  return 1;
}

void StreamerStore::copy_entry(const StreamerStore& s, std::size_t i, std::size_t j) {
  std::apply([&](auto... f) { (((this->*f)[j] = (s.*f)[i]), ...); }, per_streamer_fields());
}

void StreamerStore::resize(std::size_t n) {
  std::apply([&](auto... f) { ((this->*f).resize(n), ...); }, per_streamer_fields());
}

void prepare_caches(World& w, const Params& p) {
  const auto& g = w.geo;
  const std::size_t nv = g.villages();
  auto& k = w.cache;
  k.nbr_households.assign(nv, 0.0);
  for (std::size_t v = 0; v < nv; ++v) {
    double den = 0;
    for (auto j = g.nbr_offset[v]; j < g.nbr_offset[v + 1]; ++j)
      den += g.households[g.nbr_index[j]];
    k.nbr_households[v] = den;
  }
  k.nbr_in_offset.assign(nv + 1, 0);
  for (auto n : g.nbr_index) ++k.nbr_in_offset[n + 1];
  for (std::size_t v = 0; v < nv; ++v) k.nbr_in_offset[v + 1] += k.nbr_in_offset[v];
  k.nbr_in_index.assign(g.nbr_index.size(), 0);
  {
    std::vector<std::uint64_t> at(k.nbr_in_offset.begin(), k.nbr_in_offset.end() - 1);
    for (std::size_t v = 0; v < nv; ++v)
      for (auto j = g.nbr_offset[v]; j < g.nbr_offset[v + 1]; ++j)
        k.nbr_in_index[at[g.nbr_index[j]]++] = static_cast<Id>(v);
  }
  k.store_cap.resize(nv);
  for (std::size_t v = 0; v < nv; ++v)
    k.store_cap[v] = static_cast<std::int64_t>(std::floor(p.adoption.h_max * g.households[v]));
  k.delivery_factor.assign(nv, 0.0);
  k.delivery_factor_days.assign(nv, std::numeric_limits<double>::quiet_NaN());
  k.nbr_active.assign(nv, 0);
  k.storeless_written.assign(nv, 0);
  k.flows_touched.assign(nv, 0);
  if (w.vq.size() == nv * kVillageQ)  // a restored state: where the sparse flows are not 0
    for (int q = QV_NEW_STORES; q < kVillageQ; ++q)
      if (!q_every_village(q))
        for (std::size_t v = 0; v < nv; ++v)
          if (vq_at(std::as_const(w), q, v) != 0.0) k.flows_touched[v] = 1;
}

void init_state(World& w, const StepCtx& ctx) {
  const auto& g = w.geo;
  const std::size_t nv = g.villages(), nc = g.counties(), nt = g.towns();
  auto& v = w.v;
  v.internet.assign(nv, 0.0);
  v.u.assign(nv, 0.0);
  v.u_nbr.assign(nv, 0.0);
  v.stores.assign(nv, 0);
  v.station.assign(nv, 0);
  v.station_opened.assign(nv, -1);
  v.station_low_ticks.assign(nv, 0);
  v.station_subsidised_until.assign(nv, 0);
  v.parcels_year.assign(nv, 0.0);
  v.taobao.assign(nv, 0);
  v.taobao_year.assign(nv, 0);
  v.taobao_nbr.assign(nv, 0);
  v.sales_year.assign(nv, 0.0);
  v.closed_sales.assign(nv, 0.0);
  v.delivery_days.assign(nv, 0.0);
  v.ship_cost.assign(nv, 0.0);
  v.wage.assign(nv, ctx.p.accounting.wage_min);
  v.adopt_p.assign(nv, 0.0);
  v.eligible.assign(nv, 0);
  v.commission_year.assign(nv, 0.0);
  v.employment.assign(nv, 0);
  v.profitable.assign(nv, 0);
  v.gaining.assign(nv, 0);
  v.considering.assign(nv, 0);
  v.gross_sum.assign(nv, 0.0);
  v.scale_sum.assign(nv, 0.0);
  v.expected_gross.assign(nv, 0.0);
  v.node_cost.assign(nv, 0.0);
  v.tau.assign(nv, 0.0);
  v.brand_mult.assign(nv, 1.0);
  v.quality_mult.assign(nv, 1.0);
  v.ship_subsidy.assign(nv, 0.0);
  w.c.centre.assign(nc, 0);
  w.c.centre_opened.assign(nc, -1);
  w.c.parcels_year.assign(nc, 0.0);
  w.c.trained_pending.assign(nc, 0);
  w.c.trained_followers.assign(nc, 0.0);
  w.c.trained_skill.assign(nc, 1.0);
  w.t.taobao.assign(nt, 0);
  w.t.taobao_year.assign(nt, 0);
  w.vq.assign(nv * kVillageQ, 0.0);
  w.cq.assign(nc * (Q_COUNT - kVillageQ), 0.0);
  w.vq_year.assign(ctx.p.output.village_snapshots ? nv * kVillageQ : 0, 0.0);
  w.new_stores.assign(nv, 0);
  w.m.offset.assign(nv, 0);
  w.m.end.assign(nv, 0);
  w.m.limit.assign(nv, 0);
  w.ls.offset.assign(nc + 1, 0);
  w.rules = ctx.p.recognition;
  // Initial county centres: the configured share, in a fixed random order of counties.
  {
    std::vector<std::pair<std::uint64_t, Id>> order(nc);
    for (std::size_t c = 0; c < nc; ++c)
      order[c] = {Stream(ctx.seed, Purpose::CentreProgramme, c, 0)(), static_cast<Id>(c)};
    std::sort(order.begin(), order.end());
    const auto n =
        static_cast<std::size_t>(std::floor(ctx.p.logistics.initial_centre_share * nc + 1e-9));
    for (std::size_t i = 0; i < n; ++i) {
      w.c.centre[order[i].second] = 1;
      w.c.centre_opened[order[i].second] = 0;
    }
  }
  prepare_caches(w, ctx.p);
  // Stores at the start: Binomial(H_v, seed_share) households per village consider a store and
  // choose as any household would, expecting what the market of the start year offers.
  service_level(w, ctx);
  start_market_signal(w, ctx);
  expect_market_prior(w);
  const double grow = growth_factor(ctx.p.income.base_growth, ctx.clk);
  for (std::size_t i = 0; i < nv; ++i) {
    Stream rs(ctx.seed, Purpose::SeedMerchants, i, 0);
    boost::random::binomial_distribution<int> bin(g.households[i], ctx.p.adoption.seed_share);
    const int considering = bin(rs);
    w.v.considering[i] = considering;
    w.new_stores[i] = stores_chosen(w, ctx.p, i, considering, g.base_income[i] * grow,
                                    Stream(ctx.seed, Purpose::SeedChoice, i, 0));
  }
  rebuild_merchants(w, ctx, Purpose::SeedAttributes);
  // Seed stores are new stores of the first recording interval, so that stores = opened -
  // closed holds from the first record on.
  for (std::size_t i = 0; i < nv; ++i)
    if (w.new_stores[i] > 0) add_village_flow(w, QV_NEW_STORES, i, w.new_stores[i]);
  std::fill(w.new_stores.begin(), w.new_stores.end(), 0);
}

void rebuild_merchants(World& w, const StepCtx& ctx, Purpose purpose) {
  const auto& g = w.geo;
  const std::size_t nv = g.villages();
  MerchantStore& m = w.m;
  const auto& ap = ctx.p.adoption;
  const std::size_t ncat = w.categories.size();
  const double grow = growth_factor(ctx.p.income.base_growth, ctx.clk);
  // Stores removed at the first tick of a year closed at the end of the previous one (counted
  // by that year's snapshot): the calendar-year tally of closed stores restarts then.
  const bool new_year = ctx.clk.tick % ctx.clk.ticks_per_year == 0;
  // 1. Closed stores leave their village's entries; the others move down, in order (in place).
  //    w.v.stores[v] counts the live stores (kept up to date by exit_step).
  parallel_for(0, nv, 256, [&](const auto& range) {
    for (std::size_t v = range.begin(); v != range.end(); ++v) {
      double closed = new_year ? 0.0 : w.v.closed_sales[v];
      const auto sb = m.offset[v], se = m.end[v];
      if (se - sb != static_cast<std::uint64_t>(w.v.stores[v])) {
        auto j = sb;
        for (auto i = sb; i < se; ++i) {
          if (m.alive[i]) {
            if (i != j) m.copy_entry(m, i, j);
            ++j;
          } else if (!new_year) {
            closed += m.cal_sales[i];
          }
        }
        std::fill(m.alive.begin() + static_cast<std::ptrdiff_t>(j),
                  m.alive.begin() + static_cast<std::ptrdiff_t>(se), std::uint8_t{0});
        m.end[v] = j;
      }
      w.v.closed_sales[v] = closed;
    }
  });
  // 2. Room for the new stores (villages without it move; rarely all are laid out anew).
  m.make_room(w.new_stores);
  // 3. New stores after the village's entries.
  parallel_for(0, nv, 256, [&](const auto& range) {
    for (std::size_t v = range.begin(); v != range.end(); ++v) {
      auto j = m.end[v];
      const int n_new = w.new_stores[v];
      if (n_new == 0) continue;
      Stream rs(ctx.seed, purpose, v, static_cast<std::uint64_t>(ctx.clk.tick));
      boost::random::normal_distribution<double> norm(0.0, 1.0);
      // Households that chose a store: replay their choice draws (adoption_step, init_state).
      const Purpose choice_purpose =
          purpose == Purpose::NewMerchant ? Purpose::StoreChoice : Purpose::SeedChoice;
      Stream rc(ctx.seed, choice_purpose, v, static_cast<std::uint64_t>(ctx.clk.tick));
      boost::random::normal_distribution<double> choice_norm(0.0, 1.0);
      const double y0 = g.base_income[v] * grow, fixed = store_fixed_cost(w, ctx.p, v);
      const StoreWeighing weighing(ctx.p);
      const double sig = ap.sigma_q, alpha = ap.quality_tail_shape;
      std::int32_t drawn = 0;
      m.end[v] = j + static_cast<std::uint64_t>(n_new);
      w.v.stores[v] += n_new;  // after step 1 the entries were the live stores
      for (int k = 0; k < n_new; ++k, ++j) {
        // The k-th household that chose a store among the w.v.considering[v] draws (the state
        // these choices read does not change between the choice and this rebuild).
        StoreChoice choice;
        while (drawn < w.v.considering[v]) {
          ++drawn;
          choice = weigh_store(w.v.expected_gross[v], y0, fixed, weighing, choice_norm(rc));
          if (choice.open) break;
        }
        std::uint8_t cat = g.specialty[v];
        if (rs.uniform() >= ap.p_specialty)
          cat = static_cast<std::uint8_t>(
              std::min<std::size_t>(ncat - 1, static_cast<std::size_t>(rs.uniform() * ncat)));
        // Quality: specialty strength times a lognormal body (mean 1) times a Pareto tail
        // (mean 1): a few stores are far more productive than the rest.
        const double body = std::exp(sig * norm(rs) - 0.5 * sig * sig);
        const double tail = (alpha - 1.0) / alpha * std::pow(1.0 - rs.uniform(), -1.0 / alpha);
        m.village[j] = static_cast<Id>(v);
        m.category[j] = cat;
        m.alive[j] = 1;
        m.loss_ticks[j] = 0;
        m.birth_tick[j] = ctx.clk.tick;
        m.employees[j] = 0;
        m.quality[j] = static_cast<float>(g.strength[v] * body * tail);
        m.reputation[j] = 0.0f;
        m.brand[j] = 1.0f;
        m.profit_year[j] = 0.0f;
        m.sales_year[j] = 0.0f;
        m.full_time[j] = choice.full ? 1 : 0;
        m.base_rel[j] = static_cast<float>(choice.base_rel);
        m.cal_sales[j] = 0.0f;
        m.cal_live[j] = 0.0f;
      }
    }
  });
}

namespace {

// The slot of the k-th entry of the villages from vb on (k below their number of entries).
std::uint64_t county_entry(const MerchantStore& m, std::size_t vb, std::uint64_t k) {
  for (auto v = vb;; ++v) {
    if (k < m.entries(v)) return m.offset[v] + k;
    k -= m.entries(v);
  }
}

}  // namespace

void rebuild_streamers(World& w, const std::vector<std::int32_t>& organic, const StepCtx& ctx) {
  const std::size_t nc = w.geo.counties();
  StreamerStore& src = w.ls;
  StreamerStore& dst = w.ls_spare;
  dst.offset.assign(nc + 1, 0);
  for (std::size_t c = 0; c < nc; ++c) {
    std::uint64_t alive = 0;
    for (auto i = src.offset[c]; i < src.offset[c + 1]; ++i) alive += src.alive[i];
    dst.offset[c + 1] = dst.offset[c] + alive + static_cast<std::uint64_t>(organic[c]) +
                        static_cast<std::uint64_t>(w.c.trained_pending[c]);
  }
  dst.resize(dst.offset[nc]);
  const auto& lp = ctx.p.livestream;
  parallel_for(0, nc, 16, [&](const auto& range) {
    for (std::size_t c = range.begin(); c != range.end(); ++c) {
      auto j = dst.offset[c];
      for (auto i = src.offset[c]; i < src.offset[c + 1]; ++i) {
        if (src.alive[i]) dst.copy_entry(src, i, j++);
      }
      const int n_org = organic[c], n_tr = w.c.trained_pending[c];
      if (n_org + n_tr == 0) continue;
      Stream rs(ctx.seed, Purpose::StreamerAttributes, c, static_cast<std::uint64_t>(ctx.clk.tick));
      boost::random::normal_distribution<double> norm(0.0, 1.0);
      const auto vb = w.geo.county_village_begin[c], ve = w.geo.county_village_end[c];
      std::uint64_t county_stores = 0;  // entries of the county's villages (all live here)
      for (auto v = vb; v < ve; ++v) county_stores += w.m.entries(v);
      for (int k = 0; k < n_org + n_tr; ++k, ++j) {
        const bool trained = k >= n_org;
        // Home village: that of a random store of the county (organic entrants come from store
        // households), else a random village of the county.
        Id village = static_cast<Id>(
            vb + std::min<std::uint64_t>(ve - vb - 1,
                                         static_cast<std::uint64_t>(rs.uniform() * (ve - vb))));
        if (!trained && county_stores > 0)
          village = w.m.village[county_entry(
              w.m, vb,
              std::min<std::uint64_t>(county_stores - 1,
                                      static_cast<std::uint64_t>(rs.uniform() * county_stores)))];
        const double sig = lp.skill_sigma;
        double skill = std::exp(sig * norm(rs) - 0.5 * sig * sig);
        if (trained) skill *= w.c.trained_skill[c];
        dst.county[j] = static_cast<Id>(c);
        dst.village[j] = village;
        dst.alive[j] = 1;
        dst.trained[j] = trained ? 1 : 0;
        dst.skill[j] = static_cast<float>(skill);
        dst.followers[j] = trained ? w.c.trained_followers[c] : lp.initial_followers;
        dst.birth_tick[j] = ctx.clk.tick;
        dst.commission_year[j] = 0.0;
      }
    }
  });
  std::swap(w.ls, w.ls_spare);
  std::fill(w.c.trained_pending.begin(), w.c.trained_pending.end(), 0);
}

double fixed_order_sum(const double* x, std::size_t n, std::size_t stride) {
  double s = 0.0;
  for (std::size_t i = 0; i < n; ++i) s += x[i * stride];
  return s;
}

}  // namespace ruralsim
