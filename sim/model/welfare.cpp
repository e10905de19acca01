// Household welfare: income by source, exact Gini over income classes, audience concentration,
// and the stock quantities of the output tallies.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "core/parallel.hpp"
#include "model/submodels.hpp"

namespace ruralsim {

void sort_by_value(std::vector<std::pair<double, double>>& classes,
                   std::vector<std::pair<double, double>>& scratch) {
  const std::size_t n = classes.size();
  if (n < 256) {
    std::stable_sort(classes.begin(), classes.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    return;
  }
  // Order-preserving unsigned key of a double: flip all bits of negatives, the sign bit of
  // the others.
  auto key = [](double x) {
    const auto u = std::bit_cast<std::uint64_t>(x);
    return (u >> 63) ? ~u : (u | (std::uint64_t{1} << 63));
  };
  constexpr int kBits = 11, kPasses = 6;  // 6 x 11 >= 64
  constexpr std::size_t kBuckets = std::size_t{1} << kBits;
  std::vector<std::uint32_t> hist(kPasses * kBuckets, 0);
  for (const auto& c : classes) {
    const auto k = key(c.first);
    for (int p = 0; p < kPasses; ++p) ++hist[p * kBuckets + ((k >> (p * kBits)) & (kBuckets - 1))];
  }
  scratch.resize(n);
  for (int p = 0; p < kPasses; ++p) {
    std::uint32_t* h = &hist[p * kBuckets];
    if (std::any_of(h, h + kBuckets, [n](std::uint32_t c) { return c == n; }))
      continue;  // one bucket
    std::uint32_t sum = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      const std::uint32_t c = h[b];
      h[b] = sum;
      sum += c;
    }
    for (const auto& c : classes) scratch[h[(key(c.first) >> (p * kBits)) & (kBuckets - 1)]++] = c;
    classes.swap(scratch);
  }
}

double gini(std::vector<std::pair<double, double>>& classes) {
  std::vector<std::pair<double, double>> scratch;
  sort_by_value(classes, scratch);
  return gini_sorted(classes);
}

double gini_sorted(const std::vector<std::pair<double, double>>& classes) {
  double W = 0, S = 0;
  for (const auto& [x, wt] : classes) {
    W += wt;
    S += wt * x;
  }
  if (W <= 0 || S == 0) return 0.0;
  // G = 1 - sum_i (w_i / W) (C_{i-1} + C_i) / S, with C_i the cumulative income.
  double C = 0, acc = 0;
  for (const auto& [x, wt] : classes) {
    const double Cn = C + wt * x;
    acc += wt * (C + Cn);
    C = Cn;
  }
  return 1.0 - acc / (W * S);
}

void merge_sorted_runs(const std::vector<const std::vector<std::pair<double, double>>*>& runs,
                       std::vector<std::pair<double, double>>& out,
                       std::vector<std::pair<double, double>>& scratch) {
  // Concatenate, then merge neighbouring runs pairwise (log2(k) streaming passes).
  std::vector<std::size_t> bounds = {0};
  out.clear();
  for (const auto* r : runs) {
    out.insert(out.end(), r->begin(), r->end());
    bounds.push_back(out.size());
  }
  scratch.resize(out.size());
  while (bounds.size() > 2) {
    std::vector<std::size_t> next = {0};
    for (std::size_t i = 0; i + 1 < bounds.size(); i += 2) {
      const std::size_t a = bounds[i], m = bounds[i + 1];
      const std::size_t b = i + 2 < bounds.size() ? bounds[i + 2] : m;
      std::merge(out.begin() + static_cast<std::ptrdiff_t>(a),
                 out.begin() + static_cast<std::ptrdiff_t>(m),
                 out.begin() + static_cast<std::ptrdiff_t>(m),
                 out.begin() + static_cast<std::ptrdiff_t>(b),
                 scratch.begin() + static_cast<std::ptrdiff_t>(a),
                 [](const auto& x, const auto& y) { return x.first < y.first; });
      next.push_back(b);
    }
    out.swap(scratch);
    bounds.swap(next);
  }
}

double top_decile_share(std::vector<double>& values) {
  return top_share(values, 0.1);
}

double top_share(std::vector<double>& values, double fraction) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const auto k = std::max<std::size_t>(
      1, std::min(values.size(), static_cast<std::size_t>(std::ceil(
                                     fraction * static_cast<double>(values.size()) - 1e-9))));
  // Partition the k largest to the front; sums in a fixed order of the partitioned values
  // (nth_element is deterministic for the same input).
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k - 1),
                   values.end(), std::greater<double>());
  double top = 0, all = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    all += values[i];
    if (i < k) top += values[i];
  }
  return all > 0 ? top / all : 0.0;
}

double growth_factor(double rate_per_year, const Clock& clk) {
  return std::exp(std::log1p(rate_per_year) * clk.years_elapsed());
}

void tally_county_stocks(World& w) {
  const auto& g = w.geo;
  auto& ls = w.ls;
  std::fill(w.v.commission_year.begin(), w.v.commission_year.end(), 0.0);
  std::vector<double> towns(g.counties(), 0.0);
  for (std::size_t t = 0; t < g.towns(); ++t) towns[g.town_county[t]] += w.t.taobao[t];
  for (std::size_t c = 0; c < g.counties(); ++c) {
    double* cr = crow(w, c);
    double n = 0, trained = 0, followers = 0;
    for (auto i = ls.offset[c]; i < ls.offset[c + 1]; ++i) {
      if (!ls.alive[i]) continue;
      n += 1;
      trained += ls.trained[i];
      followers += ls.followers[i];
      w.v.commission_year[ls.village[i]] += ls.commission_year[i];
    }
    cr[cq_index(QC_LIVESTREAMERS)] = n;
    cr[cq_index(QC_TRAINED)] = trained;
    cr[cq_index(QC_FOLLOWERS)] = followers;
    cr[cq_index(QC_CENTRES)] = w.c.centre[c];
    cr[cq_index(QC_TAOBAO_TOWNS)] = towns[c];
  }
}

namespace {

// The stock quantities of village v (row[0 .. QV_NEW_STORES)).
inline void village_stocks(const World& w, const Params& p, double grow, std::size_t v,
                           double* row) {
  const auto& g = w.geo;
  const auto& ap = p.accounting;
  const double large = p.output.large_store_sales;
  const auto& m = w.m;
  const double H = g.households[v];
  const double y0 = g.base_income[v] * grow;
  double profit = 0, profitable = 0, employment = 0, rel = 0, kept = 0, large_n = 0;
  for (auto i = m.offset[v]; i < m.end[v]; ++i) {
    if (!m.alive[i]) continue;
    profit += m.profit_year[i];
    profitable += m.profit_year[i] > 0 ? 1 : 0;
    employment += m.employees[i];
    rel += m.base_rel[i];
    kept += m.base_rel[i] * (1.0 - (m.full_time[i] ? ap.time_share_full : ap.time_share_side));
    large_n += m.sales_year[i] > large ? 1 : 0;
  }
  const double M = w.v.stores[v];
  row[QV_HOUSEHOLDS] = H;
  row[QV_STORES] = M;
  row[QV_PROFITABLE] = profitable;
  row[QV_STATIONS] = w.v.station[v];
  row[QV_TAOBAO_VILLAGES] = w.v.taobao[v];
  row[QV_EMPLOYMENT] = employment;
  // Base income: store households keep (1 - time share) of their own base income; the
  // households without a store hold the rest of the village's base income.
  row[QV_INCOME_BASE] = y0 * (others_base_share(H, rel) + kept);
  row[QV_INCOME_PROFIT] = profit;
  row[QV_INCOME_WAGE] = w.v.wage[v] * 12.0 * employment;
  row[QV_INCOME_COMMISSION] = w.v.commission_year[v];
  row[QV_INCOME_TOTAL] =
      row[QV_INCOME_BASE] + row[QV_INCOME_PROFIT] + row[QV_INCOME_WAGE] + row[QV_INCOME_COMMISSION];
  row[QV_STORE_HH_INCOME] = y0 * kept + profit;
  row[QV_STORE_HH_BASE] = y0 * rel;
  row[QV_LARGE_STORES] = large_n;
  row[QV_INTERNET_HH] = H * w.v.internet[v];
}

constexpr int kVillageStocks = QV_NEW_STORES;  // stocks come first in the village quantities
static_assert(QV_INTERNET_HH + 1 == kVillageStocks);

}  // namespace

void tally_village_stocks(World& w, const StepCtx& ctx, double grow, std::size_t vbegin,
                          std::size_t vend) {
  double row[kVillageStocks];
  for (std::size_t v = vbegin; v != vend; ++v) {
    village_stocks(w, ctx.p, grow, v, row);
    for (int q = 0; q < kVillageStocks; ++q) vq_at(w, q, v) = row[q];
  }
}

void add_village_stocks(const World& w, const StepCtx& ctx, double grow, std::size_t vbegin,
                        std::size_t vend, double* sum) {
  double row[kVillageStocks];
  for (std::size_t v = vbegin; v != vend; ++v) {
    village_stocks(w, ctx.p, grow, v, row);
    for (int q = 0; q < kVillageStocks; ++q) sum[q] += row[q];
  }
}

void tally_stocks(World& w, const StepCtx& ctx) {
  tally_county_stocks(w);
  const double grow = growth_factor(ctx.p.income.base_growth, ctx.clk);
  parallel_for(0, w.geo.villages(), 512,
               [&](const auto& r) { tally_village_stocks(w, ctx, grow, r.begin(), r.end()); });
}

double others_base_share(double households, double store_base_rel) {
  return std::max(0.0, households - store_base_rel);
}

std::vector<std::pair<Id, double>> livestreamer_incomes(const World& w, std::size_t vbegin,
                                                        std::size_t vend) {
  std::vector<std::pair<Id, double>> streamers;
  if (vbegin >= vend) return streamers;
  const auto& g = w.geo;
  const auto& ls = w.ls;
  // Livestreamers are stored grouped by county: scan the counties of these villages.
  const auto c0 = g.village_county[vbegin], c1 = g.village_county[vend - 1];
  for (auto i = ls.offset[c0]; i < ls.offset[c1 + 1]; ++i)
    if (ls.alive[i] && ls.village[i] >= vbegin && ls.village[i] < vend)
      streamers.emplace_back(ls.village[i], ls.commission_year[i]);
  std::stable_sort(streamers.begin(), streamers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return streamers;
}

void income_classes(const World& w, const StepCtx& ctx, std::size_t vbegin, std::size_t vend,
                    std::vector<std::pair<double, double>>& out) {
  const auto streamers = livestreamer_incomes(w, vbegin, vend);
  income_classes(w, ctx, vbegin, vend, streamers.data(), streamers.data() + streamers.size(), out);
}

void income_classes(const World& w, const StepCtx& ctx, std::size_t vbegin, std::size_t vend,
                    const std::pair<Id, double>* sbegin, const std::pair<Id, double>* send,
                    std::vector<std::pair<double, double>>& out) {
  if (vbegin >= vend) return;
  const auto& g = w.geo;
  const auto& m = w.m;
  const auto& ap = ctx.p.accounting;
  const double grow = growth_factor(ctx.p.income.base_growth, ctx.clk);
  auto st = sbegin;
  for (std::size_t v = vbegin; v < vend; ++v) {
    const double y_v = g.base_income[v] * grow;
    const double wage_income = w.v.wage[v] * 12.0;
    const std::size_t first_store = out.size();
    double employment = 0, rel = 0;
    for (auto i = m.offset[v]; i < m.end[v]; ++i) {
      if (!m.alive[i]) continue;
      employment += m.employees[i];
      rel += m.base_rel[i];
      const double ts = m.full_time[i] ? ap.time_share_full : ap.time_share_side;
      out.emplace_back(y_v * m.base_rel[i] * (1.0 - ts) + m.profit_year[i], 1.0);
    }
    // Households without a store share the rest of the village's base income equally.
    const double non_store = g.households[v] - w.v.stores[v];
    const double y0 =
        non_store > 0 ? y_v * others_base_share(g.households[v], rel) / non_store : 0.0;
    // Households without a store are employed or not; livestreamers live in households without
    // a job first, then in employed households, then in store households (their commission is
    // added to that household's income), then two or more to a household. Every household is in
    // exactly one class.
    double others = std::max(0.0, g.households[v] - w.v.stores[v] - employment);
    double employed = employment;
    std::size_t store = first_store, extra = 0;
    for (; st != send && st->first == v; ++st) {
      if (others >= 1) {
        out.emplace_back(y0 + st->second, 1.0);
        others -= 1;
      } else if (employed >= 1) {
        out.emplace_back(y0 + wage_income + st->second, 1.0);
        employed -= 1;
      } else if (store < out.size()) {
        out[store++].first += st->second;
      } else {
        // More livestreamers than households: share households (each class here holds one).
        out[first_store + (extra++ % (out.size() - first_store))].first += st->second;
      }
    }
    if (others > 0) out.emplace_back(y0, others);
    if (employed > 0) out.emplace_back(y0 + wage_income, employed);
  }
}

}  // namespace ruralsim
