#include "io/geography.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>
#include "core/distributions.hpp"

#include "core/error.hpp"
#include "core/format.hpp"
#include "core/rng.hpp"
#include "io/geo_random.hpp"

namespace ruralsim {
namespace {

using geo_detail::draw_category;
using geo_detail::in_disc;
using geo_detail::lognormal1;

}  // namespace

Geography generate_geography(const Params& p, std::size_t n_categories) {
  const auto& gp = p.geography;
  const auto seed = static_cast<std::uint64_t>(gp.seed);
  Geography g;
  std::vector<double> cum(n_categories);
  for (std::size_t k = 0; k < n_categories; ++k) cum[k] = static_cast<double>(k + 1);
  const int np = static_cast<int>(gp.provinces);
  const int cols = static_cast<int>(std::ceil(std::sqrt(np)));
  std::vector<double> prov_factor(np);
  for (int pi = 0; pi < np; ++pi) {
    Stream rs(seed, Purpose::GeoProvince, pi, 0);
    g.province_name.push_back("P" + std::to_string(pi));
    const double ib = lognormal1(rs, gp.industrial_base_sigma);
    g.province_industrial_base.push_back(ib);
    boost::random::normal_distribution<double> n(0.0, 1.0);
    g.province_rollout_offset.push_back(gp.rollout_offset_sd * n(rs));
    prov_factor[pi] = ib * lognormal1(rs, gp.sigma_province);
  }
  std::uint64_t county_id = 0, town_id = 0, village_id = 0;
  for (int pi = 0; pi < np; ++pi) {
    const double ox = (pi % cols) * gp.province_size_km, oy = (pi / cols) * gp.province_size_km;
    for (int ci = 0; ci < gp.counties_per_province; ++ci, ++county_id) {
      Stream rc(seed, Purpose::GeoCounty, county_id, 0);
      const double m = std::min(gp.county_radius_km, 0.5 * gp.province_size_km);
      const double cx = ox + m + rc.uniform() * (gp.province_size_km - 2 * m);
      const double cy = oy + m + rc.uniform() * (gp.province_size_km - 2 * m);
      const auto cspec = draw_category(rc, cum);
      const double cfac = lognormal1(rc, gp.sigma_county);
      g.county_province.push_back(static_cast<Id>(pi));
      g.county_code.push_back(static_cast<std::int64_t>(county_id));
      g.county_x.push_back(cx);
      g.county_y.push_back(cy);
      g.county_specialty.push_back(cspec);
      for (int ti = 0; ti < gp.towns_per_county; ++ti, ++town_id) {
        Stream rt(seed, Purpose::GeoTown, town_id, 0);
        double tx = cx, ty = cy;
        in_disc(rt, gp.county_radius_km, tx, ty);
        const double tfac = lognormal1(rt, gp.sigma_town);
        boost::random::poisson_distribution<int> pv(std::max(1e-9, gp.villages_per_town - 1.0));
        const int nv = 1 + pv(rt);
        g.town_county.push_back(static_cast<Id>(county_id));
        g.town_code.push_back(static_cast<std::int64_t>(town_id));
        g.town_x.push_back(tx);
        g.town_y.push_back(ty);
        for (int vi = 0; vi < nv; ++vi, ++village_id) {
          Stream rv(seed, Purpose::GeoVillage, village_id, 0);
          double vx = tx, vy = ty;
          in_disc(rv, gp.town_radius_km, vx, vy);
          g.village_code.push_back(static_cast<std::int64_t>(village_id));
          g.village_town.push_back(static_cast<Id>(town_id));
          g.village_county.push_back(static_cast<Id>(county_id));
          g.village_province.push_back(static_cast<Id>(pi));
          g.village_x.push_back(vx);
          g.village_y.push_back(vy);
          const double h = gp.households_mean * lognormal1(rv, gp.households_sigma);
          // At least 10 and at most 10 million households (no overflow for extreme sigmas).
          g.households.push_back(
              static_cast<std::int32_t>(std::clamp(std::lround(h), 10L, 10000000L)));
          const bool same = rv.uniform() < gp.specialty_same_as_county;
          const auto other = draw_category(rv, cum);
          g.specialty.push_back(same ? cspec : other);
          g.strength.push_back(prov_factor[pi] * cfac * tfac * lognormal1(rv, gp.sigma_village));
          g.base_income.push_back(gp.base_income_mean * std::sqrt(g.province_industrial_base[pi]) *
                                  lognormal1(rv, gp.base_income_sigma));
        }
      }
    }
  }
  g.county_poverty.assign(g.counties(), 0);
  finish_geography(g, p);
  return g;
}

// About 1.2 GiB of neighbour lists; a national geography at R = 5 km needs a few million.
constexpr std::size_t kMaxNeighbourPairs = 300'000'000;

void finish_geography(Geography& g, const Params& p) {
  const std::size_t nv = g.villages(), nc = g.counties(), nt = g.towns();
  g.county_village_begin.assign(nc, 0);
  g.county_village_end.assign(nc, 0);
  g.town_village_begin.assign(nt, 0);
  g.town_village_end.assign(nt, 0);
  for (std::size_t v = nv; v-- > 0;) {
    g.county_village_begin[g.village_county[v]] = static_cast<Id>(v);
    g.town_village_begin[g.village_town[v]] = static_cast<Id>(v);
  }
  for (std::size_t v = 0; v < nv; ++v) {
    g.county_village_end[g.village_county[v]] = static_cast<Id>(v + 1);
    g.town_village_end[g.village_town[v]] = static_cast<Id>(v + 1);
  }
  if (g.dist_seat.size() != nv) {
    g.dist_seat.resize(nv);
    for (std::size_t v = 0; v < nv; ++v) {
      const auto c = g.village_county[v];
      g.dist_seat[v] = std::hypot(g.village_x[v] - g.county_x[c], g.village_y[v] - g.county_y[c]);
    }
  }
  // Formerly poverty-listed: the counties with the lowest household-weighted base income.
  if (g.county_poverty.size() != nc || p.geography.source == "generate") {
    std::vector<double> inc(nc, 0.0), hh(nc, 0.0);
    for (std::size_t v = 0; v < nv; ++v) {
      inc[g.village_county[v]] += g.base_income[v] * g.households[v];
      hh[g.village_county[v]] += g.households[v];
    }
    std::vector<Id> order(nc);
    std::iota(order.begin(), order.end(), 0);
    for (std::size_t c = 0; c < nc; ++c) inc[c] = hh[c] > 0 ? inc[c] / hh[c] : 0.0;
    std::stable_sort(order.begin(), order.end(), [&](Id a, Id b) { return inc[a] < inc[b]; });
    g.county_poverty.assign(nc, 0);
    const auto npov = static_cast<std::size_t>(std::floor(p.geography.poverty_share * nc + 1e-9));
    for (std::size_t i = 0; i < npov; ++i) g.county_poverty[order[i]] = 1;
  }
  // Neighbours within R on a uniform grid of cell size R: only the 3x3 cells around a village
  // are searched. Lists are sorted by village index (deterministic).
  const double R = p.adoption.radius_km;
  g.nbr_offset.assign(nv + 1, 0);
  g.nbr_index.clear();
  if (R <= 0 || nv == 0) return;
  double minx = g.village_x[0], miny = g.village_y[0], maxx = minx, maxy = miny;
  for (std::size_t v = 0; v < nv; ++v) {
    minx = std::min(minx, g.village_x[v]);
    miny = std::min(miny, g.village_y[v]);
    maxx = std::max(maxx, g.village_x[v]);
    maxy = std::max(maxy, g.village_y[v]);
  }
  if ((maxx - minx) / R > 2.0e9 || (maxy - miny) / R > 2.0e9)
    throw InputError("the villages span more than 2e9 times adoption.radius_km (" +
                     std::to_string(R) + " km): check the x/y units (km) or the radius");
  auto cell_of = [&](std::size_t v) {
    return std::pair<std::int64_t, std::int64_t>(
        static_cast<std::int64_t>(std::floor((g.village_x[v] - minx) / R)),
        static_cast<std::int64_t>(std::floor((g.village_y[v] - miny) / R)));
  };
  // Cell coordinates are non-negative and below 2^31 (cells outside are empty), so the key is
  // collision-free.
  auto key = [](std::int64_t cx, std::int64_t cy) {
    return (static_cast<std::uint64_t>(cx) << 32) | static_cast<std::uint64_t>(cy);
  };
  // Before any list is built: villages sharing a cell of side R/sqrt(2) are certainly within R
  // of each other, so the sum of n(n-1) over such cells is a lower bound on the pairs. A
  // geography far too dense is refused here, in a fraction of a second.
  {
    const double h = R / std::sqrt(2.0);
    std::unordered_map<std::uint64_t, std::uint64_t> fine;
    fine.reserve(nv);
    for (std::size_t v = 0; v < nv; ++v) {
      const auto fx = static_cast<std::uint64_t>(std::floor((g.village_x[v] - minx) / h));
      const auto fy = static_cast<std::uint64_t>(std::floor((g.village_y[v] - miny) / h));
      ++fine[(fx << 32) | fy];
    }
    double at_least = 0;
    for (const auto& [cell, n] : fine) at_least += static_cast<double>(n) * (n - 1);
    if (at_least > static_cast<double>(kMaxNeighbourPairs))
      throw InputError(
          "the villages are so dense that the neighbour lists within adoption.radius_km (" +
          num(R) + " km) would hold at least " + num(std::floor(at_least)) +
          " pairs, more than the limit of " + std::to_string(kMaxNeighbourPairs) +
          ": reduce the radius or check the coordinates (km)");
  }
  std::unordered_map<std::uint64_t, std::vector<Id>> grid;
  grid.reserve(nv);
  for (std::size_t v = 0; v < nv; ++v) {
    auto [cx, cy] = cell_of(v);
    grid[key(cx, cy)].push_back(static_cast<Id>(v));
  }
  const double R2 = R * R;
  std::vector<Id> found;
  for (std::size_t v = 0; v < nv; ++v) {
    auto [cx, cy] = cell_of(v);
    found.clear();
    for (std::int64_t dx = -1; dx <= 1; ++dx)
      for (std::int64_t dy = -1; dy <= 1; ++dy) {
        if (cx + dx < 0 || cy + dy < 0) continue;
        auto it = grid.find(key(cx + dx, cy + dy));
        if (it == grid.end()) continue;
        for (Id w : it->second) {
          if (w == v) continue;
          const double ddx = g.village_x[w] - g.village_x[v], ddy = g.village_y[w] - g.village_y[v];
          if (ddx * ddx + ddy * ddy <= R2) found.push_back(w);
        }
      }
    std::sort(found.begin(), found.end());
    g.nbr_index.insert(g.nbr_index.end(), found.begin(), found.end());
    if (g.nbr_index.size() > kMaxNeighbourPairs)
      throw InputError(
          "the villages are so dense that the neighbour lists within adoption.radius_km (" +
          std::to_string(R) + " km) would exceed " + std::to_string(kMaxNeighbourPairs) +
          " pairs (after " + std::to_string(v + 1) + " of " + std::to_string(nv) +
          " villages): reduce the radius or check the coordinates (km)");
    g.nbr_offset[v + 1] = g.nbr_index.size();
  }
}

}  // namespace ruralsim
