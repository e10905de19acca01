#pragma once
// The world: static geography and every piece of dynamic state, stored as struct-of-arrays.
// All state lives here (no statics, no caches elsewhere) so that it can be checkpointed.
// Villages are ordered by (province, county, town): a county's villages, and so its merchants,
// form one contiguous range (and so do the slots of its merchants).
#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "core/params.hpp"

namespace ruralsim {

using Id = std::uint32_t;

// Field lists. Every struct of run state names its members once, as member pointers:
// `state_fields()` (saved in a checkpoint and restored), `scratch_fields()` (recomputed before
// use, never saved) and, for World, `derived_fields()` (rebuilt from the scenario). resize, the
// per-tick rebuild copy and the checkpoint (run/checkpoint.cpp) are driven by these lists, and
// `fields_cover<T>()` (checked by a static_assert after each struct) fails to compile when a
// member is in no list.
template <class P>
struct member_type;
template <class C, class M>
struct member_type<M C::*> {
  using type = M;
};
template <class Tuple>
constexpr std::size_t member_bytes(Tuple t) {
  return std::apply(
      [](auto... f) {
        return (std::size_t{0} + ... + sizeof(typename member_type<decltype(f)>::type));
      },
      t);
}
// True when the listed members fill T exactly (up to the tail padding of T).
template <class T>
constexpr bool fields_cover(std::size_t listed) {
  return (listed + alignof(T) - 1) / alignof(T) * alignof(T) == sizeof(T);
}

struct Category {
  std::string name;
  double share = 0.2;         // share of national demand
  double margin = 0.25;       // gross margin on sales
  double order_value = 80.0;  // RMB per order (one parcel)
};

struct Geography {
  // provinces
  std::vector<std::string> province_name;
  std::vector<double> province_industrial_base;
  std::vector<double> province_rollout_offset;  // years added to internet t_mid
  // counties
  std::vector<Id> county_province;
  std::vector<std::int64_t> county_code;  // external id (CSV) or index
  std::vector<double> county_x, county_y;
  std::vector<std::uint8_t> county_poverty;
  std::vector<std::uint8_t> county_specialty;
  std::vector<Id> county_village_begin, county_village_end;
  // towns
  std::vector<Id> town_county;
  std::vector<std::int64_t> town_code;
  std::vector<double> town_x, town_y;
  std::vector<Id> town_village_begin, town_village_end;
  // villages
  std::vector<std::int64_t> village_code;  // external id (CSV) or index
  std::vector<Id> village_town, village_county, village_province;
  std::vector<double> village_x, village_y;
  std::vector<std::int32_t> households;
  std::vector<double> dist_seat;  // km to county seat
  std::vector<std::uint8_t> specialty;
  std::vector<double> strength;     // specialty strength s
  std::vector<double> base_income;  // y0 at the start year, RMB/yr per household
  // neighbours within R (CSR): nbr_index[nbr_offset[v] .. nbr_offset[v+1])
  std::vector<std::uint64_t> nbr_offset;
  std::vector<Id> nbr_index;

  // Every column (all derived from the scenario; a checkpoint stores their hash).
  static constexpr auto fields() {
    using G = Geography;
    return std::make_tuple(
        &G::province_name, &G::province_industrial_base, &G::province_rollout_offset,
        &G::county_province, &G::county_code, &G::county_x, &G::county_y, &G::county_poverty,
        &G::county_specialty, &G::county_village_begin, &G::county_village_end, &G::town_county,
        &G::town_code, &G::town_x, &G::town_y, &G::town_village_begin, &G::town_village_end,
        &G::village_code, &G::village_town, &G::village_county, &G::village_province, &G::village_x,
        &G::village_y, &G::households, &G::dist_seat, &G::specialty, &G::strength, &G::base_income,
        &G::nbr_offset, &G::nbr_index);
  }

  std::size_t provinces() const { return province_name.size(); }
  std::size_t counties() const { return county_province.size(); }
  std::size_t towns() const { return town_county.size(); }
  std::size_t villages() const { return village_town.size(); }
};
static_assert(fields_cover<Geography>(member_bytes(Geography::fields())),
              "Geography: a member is missing from fields()");

// Online stores, grouped by village, in place: village v owns the slots [offset[v], limit[v]);
// its stores are the entries [offset[v], end[v]), the slots after them are spare (alive 0). The
// rebuild removes closed stores and appends new ones inside a village's slots; a village without
// room for its new stores moves to new slots at the end of the arrays (its old slots become dead
// space, alive 0), and only when more than a third of the slots would be dead space are all
// villages laid out anew, in village order (relayout()). The arrays grow by a quarter at a time.
struct MerchantStore {
  std::vector<std::uint64_t> offset;  // per village: its first slot
  std::vector<std::uint64_t> end;     // per village: one past its last entry
  std::vector<std::uint64_t> limit;   // per village: one past its last slot
  std::vector<Id> village;
  std::vector<std::uint8_t> category;
  std::vector<std::uint8_t> alive;
  std::vector<std::uint16_t> loss_ticks;
  std::vector<std::int32_t> birth_tick;
  std::vector<std::int32_t> employees;
  std::vector<float> quality, reputation, brand;
  // Trailing-year rates, RMB/yr: a running mean of the annualised tick values over a store's
  // first year, an exponential window of one year after (see trailing_weight).
  std::vector<float> profit_year;
  std::vector<float> sales_year;
  std::vector<std::uint8_t> full_time;  // 1: full-time store, 0: side business
  std::vector<float> base_rel;          // the household's base income relative to its village mean
  // Sales in the current calendar year, RMB (organic + livestream), and its livestream part:
  // restarted at the first tick of each year; written by the store snapshots only.
  std::vector<float> cal_sales, cal_live;
  // per-tick scratch (recomputed every tick, not state)
  std::vector<float> attract;
  std::vector<float> sales_org;
  std::vector<double> sales_live;
  std::size_t size() const { return village.size(); }  // slots, spare ones included
  std::uint64_t entries(std::size_t v) const { return end[v] - offset[v]; }
  // The one list of the per-store state fields (member pointers): resize, the rebuild copy and
  // the checkpoint are driven by it. A new state field is added here only.
  static constexpr auto per_store_fields() {
    using M = MerchantStore;
    return std::make_tuple(&M::village, &M::category, &M::alive, &M::loss_ticks, &M::birth_tick,
                           &M::employees, &M::quality, &M::reputation, &M::brand, &M::profit_year,
                           &M::sales_year, &M::full_time, &M::base_rel, &M::cal_sales,
                           &M::cal_live);
  }
  // What a checkpoint saves: the offsets and the per-store state.
  static constexpr auto state_fields() {
    return std::tuple_cat(
        std::make_tuple(&MerchantStore::offset, &MerchantStore::end, &MerchantStore::limit),
        per_store_fields());
  }
  // Per-tick scratch, recomputed before use every tick: resized with the state, never copied.
  static constexpr auto scratch_fields() {
    using M = MerchantStore;
    return std::make_tuple(&M::attract, &M::sales_org, &M::sales_live);
  }
  void resize(std::size_t n);
  // Copies the state of entry i of `src` into entry j (the per-tick rebuild).
  void copy_entry(const MerchantStore& src, std::size_t i, std::size_t j);
  // Copies the state of entries [begin, stop) of `src` to entries from `to` on.
  void copy_range(const MerchantStore& src, std::size_t begin, std::size_t stop, std::size_t to);
  // Lays every village out anew, in village order, with room for `extra[v]` more entries and
  // spare slots (spare_slots()); entries keep their order. Returns the number of slots.
  std::size_t relayout(const std::vector<std::int32_t>& extra);
  // Makes room for `extra[v]` more entries in every village: villages without it move to new
  // slots at the end (or all are laid out anew when more than a third of the slots would be
  // dead space). Returns 0 (room everywhere), 1 (villages moved) or 2 (laid out anew).
  int make_room(const std::vector<std::int32_t>& extra);
  // Spare slots given to a village that needs `entries` slots when it moves or the stores are
  // laid out anew: none for a village without stores (most villages; it moves when it gets
  // one), else a quarter of its entries and at least eight.
  static std::uint64_t spare_slots(std::uint64_t entries) {
    return entries == 0 ? 0 : std::max<std::uint64_t>(8, entries / 4);
  }
};
static_assert(fields_cover<MerchantStore>(member_bytes(MerchantStore::state_fields()) +
                                          member_bytes(MerchantStore::scratch_fields())),
              "MerchantStore: a member is missing from state_fields() / scratch_fields()");

// Livestreamers, grouped by home county: [offset[c], offset[c+1]).
struct StreamerStore {
  std::vector<std::uint64_t> offset;  // counties + 1
  std::vector<Id> county, village;
  std::vector<std::uint8_t> alive, trained;
  std::vector<float> skill;
  std::vector<double> followers;
  std::vector<std::int32_t> birth_tick;
  std::vector<double> commission_year;  // trailing-year commission, RMB/yr
  std::vector<double> session_sales;    // per-tick scratch: this tick's selling potential
  std::size_t size() const { return county.size(); }
  // Per-livestreamer state (resize, the rebuild copy, the checkpoint) and scratch, as for
  // MerchantStore.
  static constexpr auto per_streamer_fields() {
    using S = StreamerStore;
    return std::make_tuple(&S::county, &S::village, &S::alive, &S::trained, &S::skill,
                           &S::followers, &S::birth_tick, &S::commission_year);
  }
  static constexpr auto state_fields() {
    return std::tuple_cat(std::make_tuple(&StreamerStore::offset), per_streamer_fields());
  }
  static constexpr auto scratch_fields() { return std::make_tuple(&StreamerStore::session_sales); }
  void resize(std::size_t n);
  void copy_entry(const StreamerStore& src, std::size_t i, std::size_t j);
};
static_assert(fields_cover<StreamerStore>(member_bytes(StreamerStore::state_fields()) +
                                          member_bytes(StreamerStore::scratch_fields())),
              "StreamerStore: a member is missing from state_fields() / scratch_fields()");

struct VillageState {
  std::vector<double> internet;       // I_v(t)
  std::vector<double> u;              // share of households with a profitable store
  std::vector<double> u_nbr;          // household-weighted u of neighbours
  std::vector<std::int32_t> stores;   // alive merchants
  std::vector<std::uint8_t> station;  // station open
  std::vector<std::int32_t> station_opened;
  std::vector<std::int32_t> station_low_ticks;
  std::vector<std::int32_t> station_subsidised_until;  // tick (exclusive)
  std::vector<double> parcels_year;                    // trailing-year parcel volume (in + out)
  std::vector<std::uint8_t> taobao;                    // Taobao Village status
  std::vector<std::int32_t> taobao_year;               // first recognition year (0: never)
  std::vector<std::uint8_t> taobao_nbr;                // a neighbour within R is a Taobao Village
  std::vector<double> sales_year;  // e-commerce sales in the current calendar year
  // Calendar-year sales (MerchantStore::cal_sales) of the stores removed by the rebuilds of the
  // current year, RMB (store snapshots: stores closed before the year end).
  std::vector<double> closed_sales;
  std::vector<double> delivery_days, ship_cost;  // current service level
  std::vector<double> wage;                      // monthly wage
  std::vector<double> commission_year;   // their trailing-year commission (filled at the record)
  std::vector<double> adopt_p;           // adoption probability per eligible household this tick
  std::vector<std::int32_t> eligible;    // eligible households this tick
  std::vector<std::int32_t> employment;  // workers employed by stores
  std::vector<std::int32_t> profitable;  // stores with positive trailing-year profit
  std::vector<std::int32_t> gaining;  // stores whose trailing-year profit covers the forgone income
  std::vector<std::int32_t> considering;  // households weighing a store this tick (step 3)
  // What households observe of store profits (set at step 7 for the next tick's adoption):
  // operating profit before fixed cost per unit of selling capacity, RMB/yr.
  std::vector<double> gross_sum, scale_sum;  // sums over the village's stores
  std::vector<double> expected_gross;        // blend of village, neighbours and category
  std::vector<double> node_cost;             // shipping cost of the node, before subsidies
  // intervention modifiers, rebuilt at step 2 of every tick
  std::vector<double> tau;         // extra adoption intensity (1/yr)
  std::vector<double> brand_mult;  // brand multiplier for the village specialty
  std::vector<double> quality_mult;
  std::vector<double> ship_subsidy;  // RMB per parcel

  // Saved in a checkpoint: everything but the modifiers (also the per-tick values such as
  // adopt_p, which cost little to keep).
  static constexpr auto state_fields() {
    using V = VillageState;
    return std::make_tuple(&V::internet, &V::u, &V::u_nbr, &V::stores, &V::station,
                           &V::station_opened, &V::station_low_ticks, &V::station_subsidised_until,
                           &V::parcels_year, &V::taobao, &V::taobao_year, &V::taobao_nbr,
                           &V::sales_year, &V::delivery_days, &V::ship_cost, &V::wage,
                           &V::commission_year, &V::adopt_p, &V::eligible, &V::employment,
                           &V::profitable, &V::gaining, &V::considering, &V::gross_sum,
                           &V::scale_sum, &V::expected_gross, &V::node_cost, &V::closed_sales);
  }
  // The intervention modifiers, rebuilt at step 2 of every tick.
  static constexpr auto scratch_fields() {
    using V = VillageState;
    return std::make_tuple(&V::tau, &V::brand_mult, &V::quality_mult, &V::ship_subsidy);
  }
};
static_assert(fields_cover<VillageState>(member_bytes(VillageState::state_fields()) +
                                         member_bytes(VillageState::scratch_fields())),
              "VillageState: a member is missing from state_fields() / scratch_fields()");

struct CountyState {
  std::vector<std::uint8_t> centre;
  std::vector<std::int32_t> centre_opened;
  std::vector<double> parcels_year;
  // pending programme entries for the livestreamer store (filled at step 2, used at step 4)
  std::vector<std::int32_t> trained_pending;
  std::vector<double> trained_followers, trained_skill;
  static constexpr auto state_fields() {
    using C = CountyState;
    return std::make_tuple(&C::centre, &C::centre_opened, &C::parcels_year, &C::trained_pending,
                           &C::trained_followers, &C::trained_skill);
  }
};
static_assert(fields_cover<CountyState>(member_bytes(CountyState::state_fields())),
              "CountyState: a member is missing from state_fields()");

struct TownState {
  std::vector<std::uint8_t> taobao;
  std::vector<std::int32_t> taobao_year;
  static constexpr auto state_fields() {
    return std::make_tuple(&TownState::taobao, &TownState::taobao_year);
  }
};
static_assert(fields_cover<TownState>(member_bytes(TownState::state_fields())),
              "TownState: a member is missing from state_fields()");

struct Event {
  std::int32_t tick;
  std::int32_t kind;    // EventKind
  std::int64_t entity;  // village, town or county index
  double value;
};

enum class EventKind : std::int32_t {
  TaobaoVillage = 1,
  TaobaoVillageLost,
  TaobaoTown,
  TaobaoTownLost,
  StationOpened,
  StationClosed,
  CentreOpened,
  InterventionStart,
  InterventionEnd,
};
const char* event_kind_name(EventKind k);
// "village", "town", "county" or "none": what Event::entity indexes for this kind.
const char* event_entity_level(EventKind k, std::int64_t entity);

// Recognition thresholds and benefits in force: the scenario's recognition.* values, changed by
// interventions (taobao_thresholds) from their year on.
using RecognitionRules = Params::Recognition;

// Values derived from the geography or from the state, kept between ticks to save work; never
// saved (prepare_caches() rebuilds them at the start and after a checkpoint is restored). Every
// cached value equals, bit for bit, what it stands for.
struct WorldCache {
  // Per village: the households of its neighbours within R, summed in list order.
  std::vector<double> nbr_households;
  // Transposed neighbour lists (CSR): the villages that list v as a neighbour.
  std::vector<std::uint64_t> nbr_in_offset;
  std::vector<Id> nbr_in_index;
  // floor(adoption.h_max x households): the most stores a village can hold.
  std::vector<std::int64_t> store_cap;
  // exp(-market.delta_delivery x delivery_days) and the delivery days it was computed for (NaN:
  // not computed).
  std::vector<double> delivery_factor, delivery_factor_days;
  // Per village, at the accounting step of the current tick: 1 when it or a neighbour has stores
  // (or no households: its u is not 0).
  std::vector<std::uint8_t> nbr_active;
  // 1 when the village's accounting values (wage, employment, u, profit sums) are those of a
  // village without stores, written at an earlier tick.
  std::vector<std::uint8_t> storeless_written;
  // 1 when a sparse village flow (every flow but those of every village, q_every_village) may be
  // non-zero: the record reads those flows of these villages only.
  std::vector<std::uint8_t> flows_touched;
};

struct World {
  Geography geo;
  std::vector<Category> categories;
  MerchantStore m;
  StreamerStore ls;
  StreamerStore ls_spare;
  VillageState v;
  CountyState c;
  TownState t;
  RecognitionRules rules;
  // Counties each intervention targets (by its index in the scenario), resolved once at the
  // start: state of the run, not of the intervention objects, which several runs may share.
  std::vector<std::vector<Id>> intervention_targets;
  std::vector<Event> events;
  // Additive output quantities. Villages: one column of villages per quantity (kVillageQ
  // columns, vq[q * villages + v]; see vq_at); counties: counties x (Q_COUNT - kVillageQ), row by
  // row. Flows accumulate until the next record; the village stocks are computed at the record
  // (tally_stocks writes them here when something reads them from here).
  std::vector<double> vq, cq;
  std::vector<double> vq_year;  // village flows of the current year (village snapshots only)
  std::vector<std::int32_t> new_stores;  // per village, set at step 3
  // Per category: organic sales per unit of attractiveness at the last market step, RMB/yr (what
  // the platform's demand offers a new store).
  std::vector<double> market_signal;
  std::int32_t tick = 0;

  // The run state a checkpoint saves (structs are saved through their own state_fields()).
  static constexpr auto state_fields() {
    using W = World;
    return std::make_tuple(&W::m, &W::ls, &W::v, &W::c, &W::t, &W::intervention_targets, &W::events,
                           &W::vq, &W::cq, &W::vq_year, &W::new_stores, &W::market_signal,
                           &W::tick);
  }
  // Rebuilt from the scenario when a run is resumed (a checkpoint stores the geography's hash;
  // the categories are part of the scenario's).
  static constexpr auto derived_fields() {
    return std::make_tuple(&World::geo, &World::categories);
  }
  WorldCache cache;

  // The livestreamers' rebuild buffer, the rules in force (set at step 2 of every tick) and the
  // caches.
  static constexpr auto scratch_fields() {
    return std::make_tuple(&World::ls_spare, &World::rules, &World::cache);
  }
};
static_assert(fields_cover<World>(member_bytes(World::state_fields()) +
                                  member_bytes(World::derived_fields()) +
                                  member_bytes(World::scratch_fields())),
              "World: a member is missing from state_fields() / derived_fields() / "
              "scratch_fields()");

}  // namespace ruralsim
