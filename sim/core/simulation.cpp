#include "core/simulation.hpp"

#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>

#include "core/error.hpp"
#include "core/finite_check.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "io/geography.hpp"
#include "io/provinces.hpp"
#include "io/recorder.hpp"
#include "model/outputs.hpp"
#include "policy/intervention.hpp"

namespace ruralsim {

std::uint64_t run_seed(const Params& p) {
  const auto seed = static_cast<std::uint64_t>(p.simulation.seed);
  const auto rep = static_cast<std::uint64_t>(p.simulation.replicate);
  return rep == 0 ? seed : splitmix64(seed ^ splitmix64(rep * 0xA24BAED4963EE407ULL));
}

World build_world(const Scenario& sc) {
  World w;
  w.categories = sc.categories;
  if (sc.params.geography.source == "csv")
    w.geo = load_geography_csv(sc.csv_path, sc.params, sc.categories);
  else if (sc.params.geography.source == "provinces")
    w.geo = cached_province_geography(sc.csv_path, sc.params, sc.categories.size());
  else
    try {
      w.geo = generate_geography(sc.params, sc.categories.size());
    } catch (const InputError& e) {
      throw InputError(sc.path + ": " + e.what());  // name the scenario the geography came from
    }
  if (w.geo.villages() == 0) throw InputError(sc.path + ": the geography has no villages");
  return w;
}

Simulation::Simulation(const Scenario& sc) : Simulation(sc, build_world(sc)) {}

Simulation::Simulation(const Scenario& sc, World world) : sc_(sc), world_(std::move(world)) {
  const auto& p = sc_.params;
  clock_.tick = 0;
  clock_.ticks_per_year = static_cast<std::int32_t>(p.simulation.ticks_per_year);
  clock_.start_year = static_cast<std::int32_t>(p.simulation.start_year);
  clock_.total_ticks = static_cast<std::int32_t>(p.simulation.years * p.simulation.ticks_per_year);
  seed_ = run_seed(p);
  snapshot_years_ = snapshot_years(p);
  const auto& g = world_.geo;
  for (auto h : g.households) total_households_ += h;
  const std::size_t np = g.provinces();
  province_county_begin_.assign(np, 0);
  province_county_end_.assign(np, 0);
  for (std::size_t c = g.counties(); c-- > 0;)
    province_county_begin_[g.county_province[c]] = static_cast<Id>(c);
  for (std::size_t c = 0; c < g.counties(); ++c)
    province_county_end_[g.county_province[c]] = static_cast<Id>(c + 1);
  const StepCtx c = ctx();
  init_state(world_, c);
  for (const auto& iv : sc_.interventions) iv->initialize(world_, p, seed_);
  update_taobao_neighbours(world_);
}

StepCtx Simulation::ctx() const {
  return StepCtx{sc_.params, world_.categories, sc_.demand_table, clock_, seed_, total_households_};
}

std::size_t Simulation::var_index(const char* name) const {
  const auto& t = output_table();
  for (std::size_t i = 0; i < t.size(); ++i)
    if (std::string(t[i].name) == name) return i;
  throw std::out_of_range(std::string("no output variable ") + name);
}

void Simulation::apply_interventions(const StepCtx& c) {
  auto& v = world_.v;
  std::fill(v.tau.begin(), v.tau.end(), 0.0);
  std::fill(v.brand_mult.begin(), v.brand_mult.end(), 1.0);
  std::fill(v.quality_mult.begin(), v.quality_mult.end(), 1.0);
  std::fill(v.ship_subsidy.begin(), v.ship_subsidy.end(), 0.0);
  world_.rules = sc_.params.recognition;
  for (const auto& iv : sc_.interventions) {
    iv->apply(world_, sc_.params, c.clk, seed_);
    iv->emit_events(world_, c.clk);
  }
}

// One tick, in the order of docs/ODD.md section 3 ("Process overview").
void Simulation::step() {
  world_.tick = clock_.tick;
  const StepCtx c = ctx();
  auto last = std::chrono::steady_clock::now();
  const auto lap = [&](Phase ph) {
    if (!phase_seconds_) return;
    const auto now = std::chrono::steady_clock::now();
    (*phase_seconds_)[ph] += std::chrono::duration<double>(now - last).count();
    last = now;
  };
  internet_step(world_, c);  // 1. calendar and exogenous paths
  apply_interventions(c);    // 2. interventions
  service_level(world_, c);  //    service level of the network in force
  adoption_step(world_, c);  // 3. adoption (and the store rebuild)
  lap(kPhaseAdoption);
  attractiveness_step(world_, c, partial_);
  lap(kPhaseMarket);
  livestream_step(world_, c);  // 4. livestreaming
  lap(kPhaseLivestream);
  market_step(world_, c, partial_);  // 5. market
  lap(kPhaseMarket);
  logistics_step(world_, c);  // 6. logistics
  lap(kPhaseLogistics);
  accounting_step(world_, c);  // 7. accounting
  lap(kPhaseAccounting);
  exit_step(world_, c);  // 8. exit
  lap(kPhaseExit);
  if (clock_.year_end()) recognition_step(world_, c);  // 9. recognition
  lap(kPhaseRecognition);
  const bool last_tick = clock_.tick + 1 == clock_.total_ticks;
  if ((clock_.tick + 1) % sc_.params.output.every == 0 || last_tick) record(c);  // 10. recording
  if (clock_.year_end() && sc_.params.output.village_snapshots) village_snapshot(c);
  if (recorder_ && clock_.year_end() &&
      std::binary_search(snapshot_years_.begin(), snapshot_years_.end(), clock_.year()))
    recorder_->append_entity_snapshot(take_snapshot(world_, clock_));
  lap(kPhaseRecording);
  ++clock_.tick;
}

void Simulation::run(const std::function<void(const Simulation&)>& on_tick) {
  while (!finished()) {
    step();
    if (on_tick) on_tick(*this);
  }
}

namespace {

double urban_per_capita(const StepCtx& c) {
  return c.p.income.urban_per_capita * growth_factor(c.p.income.urban_growth, c.clk);
}

double income_ratio(const double* row, const StepCtx& c) {
  if (row[QV_HOUSEHOLDS] <= 0 || row[QV_INCOME_TOTAL] <= 0)
    return std::numeric_limits<double>::quiet_NaN();
  const double rural_pc = row[QV_INCOME_TOTAL] / row[QV_HOUSEHOLDS] / c.p.income.household_size;
  return urban_per_capita(c) / rural_pc;
}

}  // namespace

void Simulation::record(const StepCtx& c) {
  World& w = world_;
  const auto& g = w.geo;
  tally_county_stocks(w);  // the village stocks are tallied in the county loop below
  constexpr int K = Q_COUNT;
  constexpr int KC = Q_COUNT - kVillageQ;
  const std::size_t nc = g.counties(), np = g.provinces();
  agg_county_.assign(nc * K, 0.0);
  agg_province_.assign(np * K, 0.0);
  agg_national_.assign(K, 0.0);
  // One pass over the village quantities (the largest array read at each record): sum a
  // county's village stocks (computed, not stored) and flows, then restart the flows while they are
  // still in cache (adding them to the year's flows when the run keeps those). Nothing below reads
  // the village flows. A non-finite village or county quantity makes its county's sum non-finite:
  // that county is left as it is and the scan that names the quantity runs before anything is
  // recorded. County sums that overflow from finite quantities are caught with the outputs.
  // Village flows: those of every village (dense) and the sparse ones, read only for the
  // villages that touched them (the others are 0, and adding 0 changes no sum).
  std::vector<int> dense, sparse;
  for (int q = QV_NEW_STORES; q < kVillageQ; ++q)
    (q_every_village(q) ? dense : sparse).push_back(q);
  const std::size_t nv = g.villages();
  double* const vq = w.vq.data();
  double* const vq_year = w.vq_year.data();
  auto& touched = w.cache.flows_touched;
  const bool annual = !w.vq_year.empty();
  const double grow = growth_factor(c.p.income.base_growth, c.clk);
  std::atomic<bool> finite{true};
  parallel_for(0, nc, 8, [&](const auto& r) {
    for (std::size_t cc = r.begin(); cc != r.end(); ++cc) {
      double* row = &agg_county_[cc * K];
      const std::size_t v0 = g.county_village_begin[cc], v1 = g.county_village_end[cc];
      add_village_stocks(w, c, grow, v0, v1, row);  // each quantity summed in village order
      for (int q : dense)
        for (auto v = v0; v < v1; ++v) row[q] += vq[q * nv + v];
      for (auto v = v0; v < v1; ++v)
        if (touched[v])
          for (int q : sparse) row[q] += vq[q * nv + v];
      for (int q = 0; q < KC; ++q) row[kVillageQ + q] = w.cq[cc * KC + q];
      bool ok = true;
      for (int q = 0; q < K; ++q) ok = ok && std::isfinite(row[q]);
      if (!ok) {
        finite.store(false, std::memory_order_relaxed);
        continue;
      }
      const auto restart = [&](std::size_t i) {  // flow entry i: into the year's, then 0
        if (annual) vq_year[i] += vq[i];
        vq[i] = 0.0;
      };
      for (int q : dense)
        for (auto v = v0; v < v1; ++v) restart(q * nv + v);
      for (auto v = v0; v < v1; ++v) {
        if (!touched[v]) continue;
        for (int q : sparse) restart(q * nv + v);
        touched[v] = 0;
      }
    }
  });
  if (!finite.load()) {
    tally_stocks(w, c);  // the village stocks in w.vq, for the scan that names the quantity
    check_finite_quantities(w, clock_.tick, clock_.ticks_per_year, clock_.start_year);
  }
  for (std::size_t cc = 0; cc < nc; ++cc) {
    double* pr = &agg_province_[g.county_province[cc] * K];
    for (int q = 0; q < K; ++q) pr[q] += agg_county_[cc * K + q];
  }
  for (std::size_t p = 0; p < np; ++p)
    for (int q = 0; q < K; ++q) agg_national_[q] += agg_province_[p * K + q];

  const auto& vars = output_table();
  const std::size_t nvar = vars.size();
  const bool last_tick = clock_.tick + 1 == clock_.total_ticks;
  record_.tick = clock_.tick;
  record_.time = clock_.time_end();
  record_.national.assign(nvar, 0.0);
  record_.province.assign(np * nvar, 0.0);
  record_.county.assign(nc * nvar, 0.0);
  const bool annual_record = clock_.year_end() || last_tick;
  // Distribution statistics recorded at year ends only: NaN at the other records.
  auto set_nan = [&](std::size_t k) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t cc = 0; cc < nc; ++cc) record_.county[cc * nvar + k] = nan;
    for (std::size_t p = 0; p < np; ++p) record_.province[p * nvar + k] = nan;
    record_.national[k] = nan;
  };
  // A statistic of the entities of a county range [c0, c1), `stat(c0, c1, scratch)`, for every
  // county (in parallel), every province and the nation.
  auto by_county_range = [&](std::size_t k, const auto& stat) {
    parallel_for(0, nc, 4, [&](const auto& r) {
      std::vector<double> local;
      for (std::size_t cc = r.begin(); cc != r.end(); ++cc)
        record_.county[cc * nvar + k] = stat(cc, cc + 1, local);
    });
    std::vector<double> scratch;
    for (std::size_t p = 0; p < np; ++p)
      record_.province[p * nvar + k] =
          stat(province_county_begin_[p], province_county_end_[p], scratch);
    record_.national[k] = np == 1 ? record_.province[k] : stat(0, nc, scratch);
  };
  for (std::size_t k = 0; k < nvar; ++k) {
    const auto& var = vars[k];
    switch (var.kind) {
      case OutKind::GiniIncome: {
        // Exact, at the last tick of each year and of the run (NaN at other records): sorting
        // every household class is the largest cost of recording at national scale.
        if (!annual_record) {
          set_nan(k);
          break;
        }
        // Sorted income classes per county (in parallel); provinces and the nation merge the
        // sorted county runs.
        county_classes_.resize(nc);
        tbb::enumerable_thread_specific<std::vector<std::pair<double, double>>> scratch_tls;
        parallel_for(0, nc, 4, [&](const auto& r) {
          auto& scratch = scratch_tls.local();
          for (std::size_t cc = r.begin(); cc != r.end(); ++cc) {
            auto& cls = county_classes_[cc];
            cls.clear();
            income_classes(w, c, g.county_village_begin[cc], g.county_village_end[cc], cls);
            sort_by_value(cls, scratch);
            record_.county[cc * nvar + k] = gini_sorted(cls);
          }
        });
        province_classes_.resize(np);
        parallel_for(0, np, 1, [&](const IndexRange& pr) {
          for (std::size_t p = pr.begin(); p != pr.end(); ++p) {
            std::vector<const std::vector<std::pair<double, double>>*> runs;
            for (auto cc = province_county_begin_[p]; cc < province_county_end_[p]; ++cc)
              runs.push_back(&county_classes_[cc]);
            std::vector<std::pair<double, double>> scratch;
            merge_sorted_runs(runs, province_classes_[p], scratch);
            record_.province[p * nvar + k] = gini_sorted(province_classes_[p]);
          }
        });
        if (np == 1) {
          record_.national[k] = record_.province[k];
        } else {
          std::vector<const std::vector<std::pair<double, double>>*> runs;
          for (std::size_t p = 0; p < np; ++p) runs.push_back(&province_classes_[p]);
          merge_sorted_runs(runs, national_classes_, merge_scratch_);
          record_.national[k] = gini_sorted(national_classes_);
        }
        break;
      }
      case OutKind::TopDecileFollowers:
        by_county_range(k, [&](std::size_t c0, std::size_t c1, std::vector<double>& f) {
          f.clear();
          for (auto i = w.ls.offset[c0]; i < w.ls.offset[c1]; ++i)
            if (w.ls.alive[i]) f.push_back(w.ls.followers[i]);
          return top_decile_share(f);
        });
        break;
      case OutKind::TopSalesShare:
        if (!annual_record) {
          set_nan(k);
          break;
        }
        by_county_range(k, [&](std::size_t c0, std::size_t c1, std::vector<double>& f) {
          f.clear();
          if (c0 >= c1) return std::numeric_limits<double>::quiet_NaN();
          const auto& m = w.m;
          for (auto i = m.offset[g.county_village_begin[c0]];
               i < m.offset[g.county_village_end[c1 - 1]]; ++i)
            if (m.alive[i]) f.push_back(m.sales_year[i]);
          return top_share(f, 0.01);
        });
        break;
      case OutKind::IncomeRatio:
        for (std::size_t cc = 0; cc < nc; ++cc)
          record_.county[cc * nvar + k] = income_ratio(&agg_county_[cc * K], c);
        for (std::size_t p = 0; p < np; ++p)
          record_.province[p * nvar + k] = income_ratio(&agg_province_[p * K], c);
        record_.national[k] = income_ratio(agg_national_.data(), c);
        break;
      default:
        for (std::size_t cc = 0; cc < nc; ++cc)
          record_.county[cc * nvar + k] = derived_value(var, &agg_county_[cc * K]);
        for (std::size_t p = 0; p < np; ++p)
          record_.province[p * nvar + k] = derived_value(var, &agg_province_[p * K]);
        record_.national[k] = derived_value(var, agg_national_.data());
    }
  }
  check_finite_outputs(g, clock_.tick, clock_.ticks_per_year, clock_.start_year, record_.national,
                       record_.province, record_.county);
  if (recorder_)
    recorder_->append(record_.tick, record_.time, record_.national, record_.province,
                      record_.county);
  // County flows restart after each record (the village flows did above).
  for (std::size_t cc = 0; cc < nc; ++cc)
    for (int q = kVillageQ; q < K; ++q)
      if (q_is_flow(q)) w.cq[cc * KC + (q - kVillageQ)] = 0.0;
}

void Simulation::village_snapshot(const StepCtx& c) {
  World& w = world_;
  const auto& vars = output_table();
  const std::size_t nvar = vars.size(), nv = w.geo.villages();
  // Stocks at the end of the year; flows summed over the year (vq_year holds the recorded part,
  // vq what has not been recorded yet, which the next record will add: it is pre-subtracted).
  std::vector<double>& out = snapshot_;
  out.assign(nv * nvar, std::numeric_limits<double>::quiet_NaN());
  tally_stocks(w, c);
  const auto& g = w.geo;
  // Parallel over counties: each county's livestreamers are bucketed by village once.
  parallel_for(0, g.counties(), 4, [&](const auto& r) {
    std::vector<std::pair<double, double>> cls;
    std::vector<double> row(Q_COUNT, 0.0);
    for (std::size_t cc = r.begin(); cc != r.end(); ++cc) {
      const auto streamers =
          livestreamer_incomes(w, g.county_village_begin[cc], g.county_village_end[cc]);
      for (std::size_t v = g.county_village_begin[cc]; v < g.county_village_end[cc]; ++v) {
        for (int q = 0; q < kVillageQ; ++q) {
          row[q] = w.vq[q * nv + v];
          if (q_is_flow(q)) row[q] += w.vq_year[q * nv + v];
        }
        for (std::size_t k = 0; k < nvar; ++k) {
          const auto& var = vars[k];
          if (!var.village) continue;
          double val = 0;
          if (var.kind == OutKind::GiniIncome) {
            cls.clear();
            const auto [lo, hi] = std::equal_range(
                streamers.begin(), streamers.end(), std::pair<Id, double>{static_cast<Id>(v), 0.0},
                [](const auto& a, const auto& b) { return a.first < b.first; });
            income_classes(w, c, v, v + 1, streamers.data() + (lo - streamers.begin()),
                           streamers.data() + (hi - streamers.begin()), cls);
            val = gini(cls);
          } else if (var.kind == OutKind::IncomeRatio) {
            val = income_ratio(row.data(), c);
          } else {
            val = derived_value(var, row.data());
          }
          out[v * nvar + k] = val;
        }
      }
    }
  });
  for (std::size_t i = 0; i < nv * kVillageQ; ++i)
    if (q_is_flow(static_cast<int>(i / nv))) w.vq_year[i] = -w.vq[i];
  if (recorder_) recorder_->append_village_snapshot(clock_.year(), out);
}

}  // namespace ruralsim
