#pragma once
// The submodels of docs/ODD.md section 6, one file each, called in the fixed order of section 3
// by run/simulation.cpp. Each works on the World and reads the StepCtx.
#include <cstdint>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/params.hpp"
#include "core/rng.hpp"
#include "model/outputs.hpp"
#include "model/rule_expr.hpp"
#include "model/world.hpp"

namespace ruralsim {

struct StepCtx {
  const Params& p;
  const std::vector<Category>& cats;
  const std::vector<std::pair<int, double>>& demand_table;
  Clock clk;
  std::uint64_t seed;  // run seed (simulation.seed mixed with replicate)
  double total_households;
};

// world.cpp
void init_state(World& w, const StepCtx& ctx);  // state vectors, seed merchants, centres
// Builds w.cache for the current geography and state (after init_state's vectors are sized, and
// after a checkpoint is restored).
void prepare_caches(World& w, const Params& p);
// exp(-market.delta_delivery x delivery_days[v]) from w.cache (set by service_level).
inline double delivery_factor(const World& w, std::size_t v) {
  return w.cache.delivery_factor[v];
}
// Removes dead merchants and appends w.new_stores[v] new ones per village (drawn from the
// NewMerchant stream of (village, tick)). One pass, parallel over villages.
void rebuild_merchants(World& w, const StepCtx& ctx, Purpose purpose);
void rebuild_streamers(World& w, const std::vector<std::int32_t>& organic, const StepCtx& ctx);
// Village quantity q of village v (w.vq holds one column of villages per quantity).
inline double& vq_at(World& w, int q, std::size_t v) {
  return w.vq[static_cast<std::size_t>(q) * w.geo.villages() + v];
}
inline double vq_at(const World& w, int q, std::size_t v) {
  return w.vq[static_cast<std::size_t>(q) * w.geo.villages() + v];
}
// Adds x to village flow q of village v. A sparse flow marks the village as touched: the record
// reads the sparse flows of touched villages only (the others are 0).
inline void add_village_flow(World& w, int q, std::size_t v, double x) {
  vq_at(w, q, v) += x;
  if (!q_every_village(q)) w.cache.flows_touched[v] = 1;
}
inline double* crow(World& w, std::size_t c) {
  return &w.cq[c * (Q_COUNT - kVillageQ)];
}
inline constexpr int cq_index(int q) {
  return q - kVillageQ;
}

// 6.1 internet.cpp: I_v(t); 6.5 service level (cost, days) from the current network.
void internet_step(World& w, const StepCtx& ctx);
void service_level(World& w, const StepCtx& ctx);
// 6.2 adoption.cpp
// Rate (1/yr) at which a household without a store considers opening one.
double adoption_rate(const World& w, const Params& p, std::size_t v);
// Selling capacity of a side business relative to a full-time store.
double side_scale(const Params& p);
// Fixed cost of a store in village v (RMB/yr), after the Taobao Village subsidy.
double store_fixed_cost(const World& w, const Params& p, std::size_t v);
struct StoreChoice {
  bool open = false;
  bool full = false;      // full-time store rather than side business
  double base_rel = 1.0;  // the household's base income relative to its village mean
};
// A household weighing a store: z (standard normal) places its base income in the village
// distribution; it opens the better of a side business and a full-time store when that one's
// expected profit (expected_gross x capacity - fixed) minus its forgone income exceeds the
// annualised entry cost.
StoreChoice weigh_store(double expected_gross, double y0, double fixed, const Params& p, double z);
// The constants of weigh_store, computed once for many households (same values, same results).
struct StoreWeighing {
  explicit StoreWeighing(const Params& p);
  double sig, half_var, share_full, share_side, scale_side, entry;
};
StoreChoice weigh_store(double expected_gross, double y0, double fixed, const StoreWeighing& k,
                        double z);
// How many of `considering` households of village v open a store, each choosing with the next
// standard normal draw of `choices` (the stream rebuild_merchants replays for the new stores).
int stores_chosen(const World& w, const Params& p, std::size_t v, int considering, double y0,
                  Stream choices);
void adoption_step(World& w, const StepCtx& ctx);
// 6.4 market.cpp
// National demand D(t) (RMB/yr, all categories) at calendar time t.
double demand_total(const Params& p, const std::vector<std::pair<int, double>>& table,
                    int start_year, double t);
// Share of demand that goes through the livestream channel at time t (0 before it exists).
double livestream_channel_share(const Params& p, double t);
// The scenario's demand this tick, RMB: D(t) x scenario households / national x phi_rural x dt.
double scenario_demand(const StepCtx& ctx);
void attractiveness_step(World& w, const StepCtx& ctx, std::vector<double>& partial);
// Shares the organic channel among stores by attractiveness; sets w.market_signal.
void market_step(World& w, const StepCtx& ctx, const std::vector<double>& partial);
// w.market_signal for a market without stores (the outside option alone), at the start.
void start_market_signal(World& w, const StepCtx& ctx);
// 6.3 livestream.cpp
void livestream_step(World& w, const StepCtx& ctx);
// 6.5 logistics.cpp
// A village without a station opens one when its trailing-year parcel volume reaches the threshold.
bool station_opens(double parcels_year, const Params& p);
// An open station closes after more than `close_ticks` consecutive ticks below break-even,
// unless it is still subsidised (tick < subsidised_until).
bool station_closes(std::int32_t low_ticks, std::int32_t close_ticks, std::int32_t tick,
                    std::int32_t subsidised_until);
void logistics_step(World& w, const StepCtx& ctx);
// Saving of one online purchase against buying locally (RMB, at least 0): the price advantage
// less the buyer's share of the node's shipping cost and the cost of the delivery days.
double buyer_saving(const Params::Logistics& lp, double node_cost, double days);
// Opens a station in village v (state and the stations_opened flow; no event: callers in
// parallel loops record events afterwards in village order).
void open_station(World& w, std::size_t v, std::int32_t tick);
// Opens a county centre: state, the centres_opened flow and the event (value: the county's
// trailing-year parcel volume, or 0 for a programme).
void open_centre(World& w, std::size_t c, std::int32_t tick, double value);
// 6.6 accounting.cpp
// What the market offers a new full-time store of village v's specialty (mean quality, no
// reputation): operating profit before fixed cost, RMB/yr, from the last market step.
double market_prior(const World& w, std::size_t v);
// Sets every village's expected operating profit to the market prior (no stores observed).
void expect_market_prior(World& w);
// Weight of this tick in a trailing-year rate: 1 / (age + 1) over a store's first year (a running
// mean), dt after (an exponential window of one year).
double trailing_weight(std::int32_t age_ticks, double dt);
void accounting_step(World& w, const StepCtx& ctx);
// 6.7 exit.cpp
void exit_step(World& w, const StepCtx& ctx);
// 6.8 recognition.cpp
// The rules' criteria combined as r.village_rule / r.town_rule say (parsed here; the overloads
// with a RuleExpr take it parsed).
bool meets_taobao_village(double annual_sales, std::int64_t stores, std::int64_t households,
                          const RecognitionRules& r);
bool meets_taobao_village(double annual_sales, std::int64_t stores, std::int64_t households,
                          const RecognitionRules& r, const RuleExpr& rule);
bool meets_taobao_town(std::int64_t taobao_villages, double town_sales, std::int64_t town_stores,
                       const RecognitionRules& r);
bool meets_taobao_town(std::int64_t taobao_villages, double town_sales, std::int64_t town_stores,
                       const RecognitionRules& r, const RuleExpr& rule);
void recognition_step(World& w, const StepCtx& ctx);
void update_taobao_neighbours(World& w);

// welfare.cpp
// Exact Gini over (value, weight) classes; sorts the input.
double gini(std::vector<std::pair<double, double>>& classes);
// Sorts classes by value, ascending (LSD radix sort on the order-preserving bits of the value;
// equal values keep their input order). `scratch` is reused between calls.
void sort_by_value(std::vector<std::pair<double, double>>& classes,
                   std::vector<std::pair<double, double>>& scratch);
// Exact Gini of classes already sorted by value.
double gini_sorted(const std::vector<std::pair<double, double>>& classes);
// Merges runs that are each sorted by value into one sorted vector `out`.
void merge_sorted_runs(const std::vector<const std::vector<std::pair<double, double>>*>& runs,
                       std::vector<std::pair<double, double>>& out,
                       std::vector<std::pair<double, double>>& scratch);
// Share of the total held by the top 10% (ceil) of values; reorders the input.
double top_decile_share(std::vector<double>& values);
// Share of the total held by the top `fraction` (ceil, at least one value) of values; NaN for no
// values; reorders the input.
double top_share(std::vector<double>& values, double fraction);
// Growth factor (1 + rate)^t of an exogenous income path at the middle of the tick; callers
// compute it once per tick and multiply the start-year values by it.
double growth_factor(double rate_per_year, const Clock& clk);
// Base income of a village's households without a store, in units of the village mean: the
// households' total less what the store households' own base incomes account for (at least 0).
double others_base_share(double households, double store_base_rel);
// Fills the stock quantities of w.vq / w.cq for the current state: the county part (and each
// village's livestreamer commission, which the village part reads), then every village's part.
void tally_stocks(World& w, const StepCtx& ctx);
void tally_county_stocks(World& w);
// `grow` = growth_factor(income.base_growth, clock) of this tick, computed once by the caller.
void tally_village_stocks(World& w, const StepCtx& ctx, double grow, std::size_t vbegin,
                          std::size_t vend);
// Adds the stock quantities of villages [vbegin, vend), village by village, to sum[0 ..
// QV_NEW_STORES) (the values tally_village_stocks would write, without writing them).
void add_village_stocks(const World& w, const StepCtx& ctx, double grow, std::size_t vbegin,
                        std::size_t vend, double* sum);
// Household income classes (value RMB/yr, households) of villages [vbegin, vend) appended to
// `out`: per village the base and employed households, each store household and each
// livestreamer household. Requires tally_stocks() for the current tick.
void income_classes(const World& w, const StepCtx& ctx, std::size_t vbegin, std::size_t vend,
                    std::vector<std::pair<double, double>>& out);
// The same with the livestreamers of villages [vbegin, vend) given as (village, trailing-year
// commission), sorted by village (see livestreamer_incomes): lets a caller bucket a county's
// livestreamers once for many village ranges.
void income_classes(const World& w, const StepCtx& ctx, std::size_t vbegin, std::size_t vend,
                    const std::pair<Id, double>* sbegin, const std::pair<Id, double>* send,
                    std::vector<std::pair<double, double>>& out);
std::vector<std::pair<Id, double>> livestreamer_incomes(const World& w, std::size_t vbegin,
                                                        std::size_t vend);

// Sum of `n` values spaced `stride` apart, in index order (serial: the same for any thread count).
double fixed_order_sum(const double* x, std::size_t n, std::size_t stride);

}  // namespace ruralsim
