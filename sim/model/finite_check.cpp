#include "model/finite_check.hpp"

#include <atomic>
#include <cmath>

#include "core/parallel.hpp"
#include "model/outputs.hpp"

namespace ruralsim {
namespace {

std::string quantity_name(int q) {
  for (const auto& v : output_table())
    if (v.kind == OutKind::Sum && v.a == q) return v.name;
  for (const auto& v : output_table())
    if ((v.kind == OutKind::Sum2 || v.kind == OutKind::Ratio) && (v.a == q || v.b == q))
      return std::string("additive quantity ") + std::to_string(q) + " (behind '" + v.name + "')";
  return "additive quantity " + std::to_string(q);
}

std::string value_text(double v) {
  return std::isnan(v) ? "NaN" : (v > 0 ? "+inf" : "-inf");
}

[[noreturn]] void fail(const std::string& what, const std::string& entity, double v, int tick,
                       int tpy, int start_year) {
  throw NonFiniteError("the simulation produced a non-finite value: " + what + " of " + entity +
                       " is " + value_text(v) + " at tick " + std::to_string(tick) + " (year " +
                       std::to_string(start_year + tick / tpy) + ", tick " +
                       std::to_string(tick % tpy + 1) + " of " + std::to_string(tpy) +
                       "); the run is stopped and no result file is written. Check the inputs "
                       "for extreme values");
}

std::string village_text(const Geography& g, std::size_t v) {
  return "village " + std::to_string(v) + " (id " + std::to_string(g.village_code[v]) +
         ", county id " + std::to_string(g.county_code[g.village_county[v]]) + ")";
}

std::string county_text(const Geography& g, std::size_t c) {
  return "county " + std::to_string(c) + " (id " + std::to_string(g.county_code[c]) + ")";
}

bool nan_allowed(OutKind k) {
  return k != OutKind::Sum && k != OutKind::Sum2;
}

}  // namespace

void check_finite_quantities(const World& w, int tick, int tpy, int start_year) {
  const std::size_t nv = w.geo.villages(), nc = w.geo.counties();
  constexpr int KC = Q_COUNT - kVillageQ;
  // A parallel scan finds whether anything is wrong; the serial loop then names the first.
  std::atomic<bool> all_finite{true};
  if (w.vq.size() >= nv * kVillageQ)
    parallel_for(0, nv * kVillageQ, 1 << 14, [&](const IndexRange& r) {
      for (std::size_t i = r.begin(); i != r.end(); ++i)
        if (!std::isfinite(w.vq[i])) {
          all_finite.store(false, std::memory_order_relaxed);
          return;
        }
    });
  if (!all_finite)  // the first village, then the first quantity (one column per quantity)
    for (std::size_t v = 0; v < nv; ++v)
      for (int q = 0; q < kVillageQ; ++q) {
        const double x = w.vq[static_cast<std::size_t>(q) * nv + v];
        if (!std::isfinite(x))
          fail("'" + quantity_name(q) + "'", village_text(w.geo, v), x, tick, tpy, start_year);
      }
  if (w.cq.size() >= nc * KC)
    for (std::size_t i = 0; i < nc * KC; ++i)
      if (!std::isfinite(w.cq[i]))
        fail("'" + quantity_name(kVillageQ + static_cast<int>(i % KC)) + "'",
             county_text(w.geo, i / KC), w.cq[i], tick, tpy, start_year);
}

void check_finite_outputs(const Geography& g, int tick, int tpy, int start_year,
                          const std::vector<double>& national, const std::vector<double>& province,
                          const std::vector<double>& county) {
  const auto& vars = output_table();
  const std::size_t nvar = vars.size();
  auto bad = [&](std::size_t k, double x) {
    return std::isinf(x) || (std::isnan(x) && !nan_allowed(vars[k].kind));
  };
  for (std::size_t i = 0; i < county.size(); ++i)
    if (bad(i % nvar, county[i]))
      fail("output '" + std::string(vars[i % nvar].name) + "'", county_text(g, i / nvar), county[i],
           tick, tpy, start_year);
  for (std::size_t i = 0; i < province.size(); ++i)
    if (bad(i % nvar, province[i]))
      fail("output '" + std::string(vars[i % nvar].name) + "'",
           "province " + std::to_string(i / nvar), province[i], tick, tpy, start_year);
  for (std::size_t k = 0; k < national.size() && k < nvar; ++k)
    if (bad(k, national[k]))
      fail("output '" + std::string(vars[k].name) + "'", "the nation", national[k], tick, tpy,
           start_year);
}

}  // namespace ruralsim
