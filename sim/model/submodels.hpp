#pragma once
// The submodels of MODEL.md section 6, one file each, called in the fixed order of section 3
// by core/simulation.cpp. Each works on the World and reads the StepCtx.
#include <cstdint>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/params.hpp"
#include "core/rng.hpp"
#include "model/outputs.hpp"
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
// Removes dead merchants and appends w.new_stores[v] new ones per village (drawn from the
// NewMerchant stream of (village, tick)). One pass, parallel over villages.
void rebuild_merchants(World& w, const StepCtx& ctx, Purpose purpose);
void rebuild_streamers(World& w, const std::vector<std::int32_t>& organic, const StepCtx& ctx);
inline double* vrow(World& w, std::size_t v) {
  return &w.vq[v * kVillageQ];
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
double adoption_rate(const World& w, const Params& p, std::size_t v);
void adoption_step(World& w, const StepCtx& ctx);
// 6.4 market.cpp
double demand_total(const Params& p, const std::vector<std::pair<int, double>>& table,
                    int start_year, double t);
void attractiveness_step(World& w, const StepCtx& ctx, std::vector<double>& partial);
void market_step(World& w, const StepCtx& ctx, const std::vector<double>& partial);
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
// Opens a station in village v (state and the stations_opened flow; no event: callers in
// parallel loops record events afterwards in village order).
void open_station(World& w, std::size_t v, std::int32_t tick);
// Opens a county centre: state, the centres_opened flow and the event (value: the county's
// trailing-year parcel volume, or 0 for a programme).
void open_centre(World& w, std::size_t c, std::int32_t tick, double value);
// 6.6 accounting.cpp
void accounting_step(World& w, const StepCtx& ctx);
// 6.7 exit.cpp
void exit_step(World& w, const StepCtx& ctx);
// 6.8 recognition.cpp
bool meets_taobao_village(double annual_sales, std::int64_t stores, std::int64_t households,
                          const RecognitionRules& r);
bool meets_taobao_town(std::int64_t taobao_villages, double town_sales, std::int64_t town_stores,
                       const RecognitionRules& r);
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
// Growth factor (1 + rate)^t of an exogenous income path at the middle of the tick; callers
// compute it once per tick and multiply the start-year values by it.
double growth_factor(double rate_per_year, const Clock& clk);
// Fills the stock quantities of w.vq / w.cq for the current state.
void tally_stocks(World& w, const StepCtx& ctx);
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
