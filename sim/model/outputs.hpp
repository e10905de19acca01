#pragma once
// The output table: every recorded variable, declared once with unit, description and how it is
// computed from additive quantities. The recorder, `ruralsim outputs` and docs/outputs.md follow
// it; the Python loaders read the names from the file.
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/clock.hpp"
#include "model/world.hpp"

namespace ruralsim {

struct StepCtx;

// Additive quantities, held per village (Q_V*) or per county (Q_C*), summed up the hierarchy
// in a fixed order. Stocks are read at the recording tick; flows are summed over the ticks
// since the previous record.
enum Q : int {
  // village stocks
  QV_HOUSEHOLDS,
  QV_STORES,
  QV_PROFITABLE,
  QV_STATIONS,
  QV_TAOBAO_VILLAGES,
  QV_EMPLOYMENT,
  QV_INCOME_TOTAL,
  QV_INCOME_BASE,
  QV_INCOME_PROFIT,
  QV_INCOME_WAGE,
  QV_INCOME_COMMISSION,
  QV_STORE_HH_INCOME,
  QV_STORE_HH_BASE,
  QV_LARGE_STORES,
  QV_INTERNET_HH,
  // village flows
  QV_NEW_STORES,
  QV_EXITS,
  QV_SALES_ORGANIC,
  QV_SALES_LIVE,
  QV_PARCELS_OUT,
  QV_PARCELS_IN,
  QV_PARCEL_DAYS,
  QV_SHIP_COST,
  QV_SAVINGS,
  QV_STATIONS_OPENED,
  QV_STATIONS_CLOSED,
  QV_END,
  // county stocks
  QC_LIVESTREAMERS = QV_END,
  QC_TRAINED,
  QC_FOLLOWERS,
  QC_CENTRES,
  QC_TAOBAO_TOWNS,
  // county flows
  QC_SESSIONS,
  QC_SESSION_SALES,
  QC_COMMISSION,
  QC_CENTRES_OPENED,
  Q_COUNT
};
inline constexpr int kVillageQ = QV_END;
bool q_is_flow(int q);
// Village flows that almost every village has at every tick (household purchases); the other
// village flows are sparse (stores, stations).
inline constexpr bool q_every_village(int q) {
  return q == QV_PARCELS_IN || q == QV_SAVINGS;
}

enum class OutKind { Sum, Sum2, Ratio, GiniIncome, TopDecileFollowers, TopSalesShare, IncomeRatio };

struct OutputVar {
  const char* name;
  const char* unit;
  const char* description;
  OutKind kind;
  int a;         // quantity (Sum, Sum2, Ratio numerator)
  int b;         // second quantity (Sum2) or denominator (Ratio); -1 if none
  double scale;  // multiplier for Ratio
  bool village;  // also in the annual village snapshots
};

const std::vector<OutputVar>& output_table();
// docs/outputs.md is generated from this.
std::string outputs_markdown();
// How a variable aggregates over time and entities (the `aggregation` attribute in the files):
// "flow: ...", "stock: ...", "mean: ..." or "distribution: ...".
std::string aggregation(const OutputVar& var);

// Value of an additive-derived variable (Sum, Sum2, Ratio) from one row of quantities.
double derived_value(const OutputVar& var, const double* row);

// ---- Aggregation -------------------------------------------------------------------------------

// Output values of one record, in output_table() order (entity-major for province/county).
struct Record {
  std::int32_t tick = -1;  // -1: nothing recorded yet
  double time = 0;
  std::vector<double> national, province, county;
};

// The reduction of the additive quantities up the hierarchy (village -> county -> province ->
// nation) and the output variables derived from them, with the scratch reused between records.
// Every sum runs in a fixed order, the same for any thread count.
class OutputAggregator {
 public:
  OutputAggregator() = default;
  // The county range of each province (counties are sorted by province).
  explicit OutputAggregator(const Geography& g);

  // One record at the end of the tick of c.clk: sums the village and county quantities up the
  // hierarchy, derives every output variable into `out` (distribution statistics only at year
  // ends and at the last tick, NaN otherwise), checks that quantities and outputs are finite
  // (NonFiniteError) and restarts the flows (the village flows are added to w.vq_year first when
  // the run keeps them).
  void record(World& w, const StepCtx& c, Record& out);

  // The annual village snapshot (villages x variables, NaN for variables without a village
  // value) at a year end: stocks at the end of the year, flows summed over the year. Tallies the
  // village stocks into w.vq and pre-subtracts the flows not recorded yet from w.vq_year.
  void village_snapshot(World& w, const StepCtx& c, std::vector<double>& out) const;

 private:
  // income classes sorted by value, per county and merged per province / nation
  std::vector<std::vector<std::pair<double, double>>> county_classes_, province_classes_;
  std::vector<std::pair<double, double>> national_classes_, merge_scratch_;
  std::vector<double> agg_county_, agg_province_, agg_national_;  // additive rows
  std::vector<Id> province_county_begin_, province_county_end_;
};

// ---- Store and livestreamer snapshots ------------------------------------------------------
// At the end of each year of output.snapshot_years, every live store and livestreamer is
// written to /snapshots/<year>/stores and /snapshots/<year>/livestreamers, one dataset per field
// of the snapshot table below (docs/outputs.md is generated from it).

enum class SnapshotGroup { Stores, Livestreamers };
const char* snapshot_group_name(SnapshotGroup g);  // "stores", "livestreamers"
const char* snapshot_dim_name(SnapshotGroup g);    // "store", "livestreamer"

using SnapshotColumn = std::variant<std::vector<std::int32_t>, std::vector<std::uint8_t>,
                                    std::vector<float>, std::vector<double>>;

struct SnapshotField {
  SnapshotGroup group;
  const char* name;
  const char* unit;
  const char* description;
  // The field of the entities `rows` (indices into World::m or World::ls) at the end of the
  // tick of `clk`.
  SnapshotColumn (*column)(const World& w, const std::vector<std::uint64_t>& rows,
                           const Clock& clk);
};

const std::vector<SnapshotField>& snapshot_table();
// "int32", "uint8", "float32" or "float64": the stored type of a field.
const char* snapshot_type(const SnapshotField& f);
std::string snapshots_markdown();

struct EntitySnapshot {
  std::int32_t year = 0;
  std::int32_t tick = 0;
  // Calendar-year sales of the stores that closed during the year (not in `stores`), RMB: with
  // the stores' `sales` they add up to the year's sales_total.
  double closed_store_sales = 0;
  std::vector<std::pair<const SnapshotField*, SnapshotColumn>> stores, livestreamers;
};

// Every live store and livestreamer at the end of the current tick of `clk` (a year end), in
// storage order (stores by village, livestreamers by home county).
EntitySnapshot take_snapshot(const World& w, const Clock& clk);

}  // namespace ruralsim
