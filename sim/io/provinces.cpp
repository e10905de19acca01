// National geography from a province table (docs/ODD.md section 5.3) and its cache.
#include "io/provinces.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include "core/distributions.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/sha256.hpp"
#include "io/geo_random.hpp"
#include "io/geography.hpp"
#include "io/input_file.hpp"

namespace ruralsim {
namespace {

using geo_detail::draw_category;
using geo_detail::in_disc;
using geo_detail::lognormal1;

constexpr std::uint64_t kMaxProvinceTableBytes = 4ull << 20;
constexpr std::int64_t kMaxCountiesPerProvince = 10000;
constexpr std::int64_t kMaxTownsPerProvince = 100000;
constexpr double kMaxRuralPop10k = 1.0e5;  // 1 billion persons in one province
constexpr double kMaxIncome = 1.0e7;

// Columns read from the table (others are ignored).
enum Col : int { kName, kRegion, kCounties, kTowns, kRuralPop, kIncome, kPoverty, kNumCols };
constexpr std::array<const char*, kNumCols> kColName = {"province_en",
                                                        "region_nbs",
                                                        "county_level_divisions_2009",
                                                        "towns_plus_townships_2009",
                                                        "rural_pop_2008_10k",
                                                        "rural_net_income_per_capita_2008_yuan",
                                                        "poverty_counties_832_count"};

struct Cell {
  std::string text;
  int column = 1;
};

// Splits a CSV line at commas outside double quotes ("" is a literal quote). False on an
// unterminated quote.
bool split_line(const std::string& line, std::vector<Cell>& out) {
  out.clear();
  std::size_t i = 0;
  while (true) {
    Cell c;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    c.column = static_cast<int>(i) + 1;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            c.text += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        c.text += line[i++];
      }
      if (!closed) return false;
      while (i < line.size() && line[i] != ',') ++i;
    } else {
      while (i < line.size() && line[i] != ',') c.text += line[i++];
    }
    while (!c.text.empty() && (c.text.back() == ' ' || c.text.back() == '\t')) c.text.pop_back();
    out.push_back(std::move(c));
    if (i >= line.size()) return true;
    ++i;
  }
}

bool to_i64(const std::string& s, std::int64_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

bool to_f64(const std::string& s, double& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size() && std::isfinite(v);
}

// Largest-remainder apportionment of `total` over `weights` (all > 0), at least `floor_each`
// each; ties of the remainder go to the lower index. Requires total >= floor_each * n.
std::vector<std::int64_t> apportion(std::int64_t total, const std::vector<double>& weights,
                                    std::int64_t floor_each) {
  const std::size_t n = weights.size();
  std::vector<std::int64_t> out(n, floor_each);
  const std::int64_t rest = total - floor_each * static_cast<std::int64_t>(n);
  const double wsum = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::vector<std::pair<double, std::size_t>> rem(n);
  std::int64_t given = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double q = static_cast<double>(rest) * weights[i] / wsum;
    const auto f = static_cast<std::int64_t>(std::floor(q));
    out[i] += f;
    given += f;
    rem[i] = {q - static_cast<double>(f), i};
  }
  std::stable_sort(rem.begin(), rem.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::int64_t k = 0; k < rest - given; ++k)
    ++out[rem[static_cast<std::size_t>(k) % n].second];
  return out;
}

std::string g_cache_dir;
bool g_cache_dir_set = false;

}  // namespace

std::vector<ProvinceRow> read_province_table(const std::string& path) {
  const std::string text = read_input_file(path, "the province table", kMaxProvinceTableBytes);
  require_utf8(text, path, "the province table");
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  std::array<int, kNumCols> pos;
  pos.fill(-1);
  std::size_t n_header = 0;
  bool header = true;
  std::vector<ProvinceRow> rows;
  std::set<std::string> names;
  std::vector<Cell> cells;
  auto fail = [&](int ln, int col, const std::string& msg) {
    throw InputError(located(path, ln, col, escape_bytes(msg)));
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (lineno == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    if (!split_line(line, cells)) fail(lineno, 1, "unterminated double quote");
    if (header) {
      header = false;
      n_header = cells.size();
      for (std::size_t i = 0; i < cells.size(); ++i)
        for (int c = 0; c < kNumCols; ++c)
          if (cells[i].text == kColName[c]) {
            if (pos[c] >= 0)
              fail(lineno, cells[i].column,
                   std::string("column '") + kColName[c] + "' appears twice");
            pos[c] = static_cast<int>(i);
          }
      for (int c = 0; c < kNumCols; ++c)
        if (pos[c] < 0) {
          std::string need;
          for (int k = 0; k < kNumCols; ++k) need += std::string(k ? ", " : "") + kColName[k];
          fail(lineno, 1,
               std::string("the header has no column '") + kColName[c] +
                   "'; a province table needs the columns " + need);
        }
      continue;
    }
    if (cells.size() != n_header)
      fail(lineno, 1,
           "expected " + std::to_string(n_header) + " fields as in the header, found " +
               std::to_string(cells.size()));
    ProvinceRow r;
    r.line = lineno;
    auto cell = [&](Col c) -> const Cell& { return cells[static_cast<std::size_t>(pos[c])]; };
    auto integer = [&](Col c, std::int64_t lo, std::int64_t hi) {
      const Cell& x = cell(c);
      std::int64_t v = 0;
      if (!to_i64(x.text, v) || v < lo || v > hi)
        fail(lineno, x.column,
             std::string("column '") + kColName[c] + "' = '" + x.text +
                 "': expected a whole number in [" + std::to_string(lo) + ", " +
                 std::to_string(hi) + "]");
      return v;
    };
    auto real = [&](Col c, double lo, double hi, bool blank_ok) {
      const Cell& x = cell(c);
      if (blank_ok && x.text.empty()) return -1.0;
      double v = 0;
      if (!to_f64(x.text, v) || v < lo || v > hi)
        fail(lineno, x.column,
             std::string("column '") + kColName[c] + "' = '" + x.text +
                 "': expected a number in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                 "]" + (blank_ok ? " or a blank cell" : ""));
      return v;
    };
    r.name = cell(kName).text;
    if (r.name.empty()) fail(lineno, cell(kName).column, "empty province name");
    if (!names.insert(r.name).second)
      fail(lineno, cell(kName).column, "province '" + r.name + "' appears twice");
    r.region = cell(kRegion).text;
    if (r.region != "east" && r.region != "central" && r.region != "west" &&
        r.region != "northeast")
      fail(lineno, cell(kRegion).column,
           "column 'region_nbs' = '" + r.region +
               "': expected one of east, central, west, northeast");
    r.counties = integer(kCounties, 1, kMaxCountiesPerProvince);
    r.towns = integer(kTowns, 1, kMaxTownsPerProvince);
    if (r.towns < r.counties)
      fail(lineno, cell(kTowns).column,
           "towns and townships (" + std::to_string(r.towns) +
               ") fewer than county-level divisions (" + std::to_string(r.counties) +
               "): every county needs a town");
    r.rural_pop_10k = real(kRuralPop, 0.01, kMaxRuralPop10k, true);
    r.income_per_capita = real(kIncome, 1.0, kMaxIncome, false);
    r.poverty_counties = integer(kPoverty, 0, kMaxCountiesPerProvince);
    rows.push_back(std::move(r));
  }
  if (header) throw InputError(path + ": the province table is empty (no header line)");
  if (rows.empty()) throw InputError(path + ": the province table has no province rows");
  bool any_pop = false;
  for (const auto& r : rows) any_pop = any_pop || r.rural_pop_10k > 0;
  if (!any_pop)
    throw InputError(path +
                     ": no province has a rural population (column 'rural_pop_2008_10k'); the "
                     "blank cells are filled from the provinces that have one");
  return rows;
}

Geography build_province_geography(const std::string& path, const Params& p,
                                   std::size_t n_categories, ProvinceTotals* totals) {
  const std::vector<ProvinceRow> rows = read_province_table(path);
  const auto& gp = p.geography;
  const auto seed = static_cast<std::uint64_t>(gp.seed);
  const std::size_t np = rows.size();
  std::vector<double> cum(n_categories);
  for (std::size_t k = 0; k < n_categories; ++k) cum[k] = static_cast<double>(k + 1);

  // Villages per province: geography.national_villages in proportion to towns and townships.
  std::int64_t all_towns = 0;
  std::vector<double> town_w(np);
  for (std::size_t i = 0; i < np; ++i) {
    all_towns += rows[i].towns;
    town_w[i] = static_cast<double>(rows[i].towns);
  }
  if (gp.national_villages < all_towns)
    throw InputError(path + ": geography.national_villages (" +
                     std::to_string(gp.national_villages) + ") is below the " +
                     std::to_string(all_towns) + " towns and townships of the table");
  std::vector<std::int64_t> pv = apportion(gp.national_villages, town_w, 0);
  // Rural population: blank cells get the persons per village of the provinces that have one.
  double known_pop = 0, known_villages = 0;
  for (std::size_t i = 0; i < np; ++i)
    if (rows[i].rural_pop_10k > 0) {
      known_pop += rows[i].rural_pop_10k;
      known_villages += static_cast<double>(pv[i]);
    }
  std::vector<double> pop(np);
  std::vector<bool> filled(np, false);
  std::vector<std::int64_t> ph(np);
  for (std::size_t i = 0; i < np; ++i) {
    filled[i] = !(rows[i].rural_pop_10k > 0);
    pop[i] =
        filled[i] ? known_pop / known_villages * static_cast<double>(pv[i]) : rows[i].rural_pop_10k;
    ph[i] = std::llround(pop[i] * 1.0e4 / p.income.household_size);
    if (ph[i] < pv[i])
      throw InputError(located(path, rows[i].line, 1,
                               "province '" + rows[i].name + "': " + std::to_string(ph[i]) +
                                   " households for " + std::to_string(pv[i]) +
                                   " villages; every village needs a household"));
  }
  // Industrial base from income: IB_p = (y_p / household-weighted mean y)^exponent.
  double inc_mean = 0, hh_all = 0;
  for (std::size_t i = 0; i < np; ++i) {
    inc_mean += rows[i].income_per_capita * static_cast<double>(ph[i]);
    hh_all += static_cast<double>(ph[i]);
  }
  inc_mean /= hh_all;

  Geography g;
  // Province squares: side sqrt(counties) x 2 county radii, on a grid of equal cells.
  std::vector<double> side(np);
  double cell = 0;
  for (std::size_t i = 0; i < np; ++i) {
    side[i] = std::sqrt(static_cast<double>(rows[i].counties)) * 2.0 * gp.county_radius_km;
    cell = std::max(cell, side[i]);
  }
  const auto cols = static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(np))));
  std::vector<double> prov_factor(np);
  for (std::size_t pi = 0; pi < np; ++pi) {
    const auto& r = rows[pi];
    g.province_name.push_back(r.name);
    const double ib = std::pow(r.income_per_capita / inc_mean, gp.industrial_base_income_exponent);
    g.province_industrial_base.push_back(ib);
    const double off = r.region == "east"      ? gp.rollout_offset_east
                       : r.region == "central" ? gp.rollout_offset_central
                       : r.region == "west"    ? gp.rollout_offset_west
                                               : gp.rollout_offset_northeast;
    g.province_rollout_offset.push_back(off);
    Stream rs(seed, Purpose::GeoProvince, pi, 0);
    prov_factor[pi] = ib * lognormal1(rs, gp.sigma_province);
  }
  std::vector<std::uint8_t> poverty;
  std::vector<std::int64_t> pov_count(np);
  std::uint64_t county_id = 0, town_id = 0, village_id = 0;
  const double income_factor = gp.province_income_scale * p.income.household_size;
  for (std::size_t pi = 0; pi < np; ++pi) {
    const auto& r = rows[pi];
    const double ox = static_cast<double>(pi % cols) * cell;
    const double oy = static_cast<double>(pi / cols) * cell;
    const double m = std::min(gp.county_radius_km, 0.5 * side[pi]);
    // Counties: seat, specialty, factor, weight for the towns.
    const auto nc = static_cast<std::size_t>(r.counties);
    const std::uint64_t c0 = county_id;
    std::vector<double> cfac(nc), cw(nc);
    const double towns_mean = static_cast<double>(r.towns) / static_cast<double>(r.counties);
    for (std::size_t ci = 0; ci < nc; ++ci, ++county_id) {
      Stream rc(seed, Purpose::GeoCounty, county_id, 0);
      const double cx = ox + m + rc.uniform() * (side[pi] - 2 * m);
      const double cy = oy + m + rc.uniform() * (side[pi] - 2 * m);
      const auto cspec = draw_category(rc, cum);
      cfac[ci] = lognormal1(rc, gp.sigma_county);
      boost::random::poisson_distribution<int> pt(std::max(1e-9, towns_mean - 1.0));
      cw[ci] = 1.0 + pt(rc);
      g.county_province.push_back(static_cast<Id>(pi));
      g.county_code.push_back(static_cast<std::int64_t>(county_id));
      g.county_x.push_back(cx);
      g.county_y.push_back(cy);
      g.county_specialty.push_back(cspec);
    }
    const std::vector<std::int64_t> towns_of = apportion(r.towns, cw, 1);
    // Towns: position, factor, weight for the villages.
    const double villages_mean = static_cast<double>(pv[pi]) / static_cast<double>(r.towns);
    const std::uint64_t t0 = town_id;
    std::vector<double> tfac, tw;
    std::vector<std::size_t> town_cidx;
    for (std::size_t ci = 0; ci < nc; ++ci)
      for (std::int64_t k = 0; k < towns_of[ci]; ++k, ++town_id) {
        Stream rt(seed, Purpose::GeoTown, town_id, 0);
        double tx = g.county_x[c0 + ci], ty = g.county_y[c0 + ci];
        in_disc(rt, gp.county_radius_km, tx, ty);
        tfac.push_back(lognormal1(rt, gp.sigma_town));
        boost::random::poisson_distribution<int> pw(std::max(1e-9, villages_mean - 1.0));
        tw.push_back(1.0 + pw(rt));
        town_cidx.push_back(ci);
        g.town_county.push_back(static_cast<Id>(c0 + ci));
        g.town_code.push_back(static_cast<std::int64_t>(town_id));
        g.town_x.push_back(tx);
        g.town_y.push_back(ty);
      }
    const std::vector<std::int64_t> villages_of = apportion(pv[pi], tw, 1);
    // Villages: position, household weight, specialty, strength, base income.
    const std::size_t v0 = g.villages();
    std::vector<double> hw;
    hw.reserve(static_cast<std::size_t>(pv[pi]));
    const double y_p = r.income_per_capita * income_factor;
    for (std::size_t ti = 0; ti < tw.size(); ++ti) {
      const std::uint64_t t = t0 + ti;
      const std::uint64_t c = c0 + town_cidx[ti];
      for (std::int64_t k = 0; k < villages_of[ti]; ++k, ++village_id) {
        Stream rv(seed, Purpose::GeoVillage, village_id, 0);
        double vx = g.town_x[t], vy = g.town_y[t];
        in_disc(rv, gp.town_radius_km, vx, vy);
        g.village_code.push_back(static_cast<std::int64_t>(village_id));
        g.village_town.push_back(static_cast<Id>(t));
        g.village_county.push_back(static_cast<Id>(c));
        g.village_province.push_back(static_cast<Id>(pi));
        g.village_x.push_back(vx);
        g.village_y.push_back(vy);
        hw.push_back(lognormal1(rv, gp.households_sigma));
        const bool same = rv.uniform() < gp.specialty_same_as_county;
        const auto other = draw_category(rv, cum);
        g.specialty.push_back(same ? g.county_specialty[c] : other);
        g.strength.push_back(prov_factor[pi] * cfac[c - c0] * tfac[ti] *
                             lognormal1(rv, gp.sigma_village));
        g.base_income.push_back(y_p * lognormal1(rv, gp.base_income_sigma));
      }
    }
    // Households: the province total spread over its villages by their weights.
    const std::vector<std::int64_t> hh = apportion(ph[pi], hw, 1);
    for (auto h : hh) g.households.push_back(static_cast<std::int32_t>(h));
    // Poverty-listed: the province's count (at most its counties) with the lowest
    // household-weighted mean base income, ties by index.
    std::vector<double> inc(nc, 0.0), hsum(nc, 0.0);
    for (std::size_t v = v0; v < g.villages(); ++v) {
      inc[g.village_county[v] - c0] += g.base_income[v] * g.households[v];
      hsum[g.village_county[v] - c0] += g.households[v];
    }
    std::vector<std::size_t> order(nc);
    std::iota(order.begin(), order.end(), 0);
    for (std::size_t ci = 0; ci < nc; ++ci) inc[ci] /= hsum[ci];
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return inc[a] < inc[b]; });
    pov_count[pi] = std::min<std::int64_t>(r.poverty_counties, r.counties);
    poverty.resize(c0 + nc, 0);
    for (std::int64_t k = 0; k < pov_count[pi]; ++k)
      poverty[c0 + order[static_cast<std::size_t>(k)]] = 1;
  }
  g.county_poverty = std::move(poverty);
  Params fp = p;  // the poverty flags above are kept (finish_geography recomputes them for
  fp.geography.source = "provinces";  // generated geographies)
  finish_geography(g, fp);
  if (totals) {
    totals->villages = pv;
    totals->households = ph;
    totals->poverty_counties = pov_count;
    totals->rural_pop_10k = pop;
    totals->filled = filled;
  }
  return g;
}

// ---------------------------------------------------------------------------------------------
// Cache

namespace {

constexpr char kCacheMagic[8] = {'R', 'S', 'G', 'E', 'O', '0', '0', '1'};

template <class G, class F>
void for_each_field(G& g, F&& f) {
  f(g.province_name);
  f(g.province_industrial_base);
  f(g.province_rollout_offset);
  f(g.county_province);
  f(g.county_code);
  f(g.county_x);
  f(g.county_y);
  f(g.county_poverty);
  f(g.county_specialty);
  f(g.county_village_begin);
  f(g.county_village_end);
  f(g.town_county);
  f(g.town_code);
  f(g.town_x);
  f(g.town_y);
  f(g.town_village_begin);
  f(g.town_village_end);
  f(g.village_code);
  f(g.village_town);
  f(g.village_county);
  f(g.village_province);
  f(g.village_x);
  f(g.village_y);
  f(g.households);
  f(g.dist_seat);
  f(g.specialty);
  f(g.strength);
  f(g.base_income);
  f(g.nbr_offset);
  f(g.nbr_index);
}

struct Writer {
  std::string out;
  void u64(std::uint64_t x) { out.append(reinterpret_cast<const char*>(&x), sizeof x); }
  template <class T>
  void operator()(const std::vector<T>& v) {
    u64(v.size());
    out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void operator()(const std::vector<std::string>& v) {
    u64(v.size());
    for (const auto& s : v) {
      u64(s.size());
      out += s;
    }
  }
};

struct Reader {
  const std::string& in;
  std::size_t pos = 0;
  bool ok = true;
  bool u64(std::uint64_t& x) {
    if (in.size() - pos < sizeof x) return ok = false;
    std::memcpy(&x, in.data() + pos, sizeof x);
    pos += sizeof x;
    return true;
  }
  template <class T>
  void operator()(std::vector<T>& v) {
    std::uint64_t n = 0;
    if (!ok || !u64(n) || n > (in.size() - pos) / sizeof(T)) {
      ok = false;
      return;
    }
    v.resize(n);
    std::memcpy(v.data(), in.data() + pos, n * sizeof(T));
    pos += n * sizeof(T);
  }
  void operator()(std::vector<std::string>& v) {
    std::uint64_t n = 0;
    if (!ok || !u64(n) || n > in.size() - pos) {
      ok = false;
      return;
    }
    v.resize(n);
    for (auto& s : v) {
      std::uint64_t len = 0;
      if (!u64(len) || len > in.size() - pos) {
        ok = false;
        return;
      }
      s.assign(in.data() + pos, len);
      pos += len;
    }
  }
};

}  // namespace

void set_geography_cache_dir(const std::string& dir) {
  g_cache_dir = dir;
  g_cache_dir_set = true;
}

std::string geography_cache_dir() {
  if (g_cache_dir_set) return g_cache_dir;
  const char* env = std::getenv("RURALSIM_CACHE");
  return env ? env : "";
}

std::string province_geography_key(const std::string& table_bytes, const Params& p,
                                   std::size_t n_categories) {
  Sha256 h;
  h.update(std::string(kCacheMagic, sizeof kCacheMagic));
  h.update(sha256_hex(table_bytes));
  for (const auto& spec : param_table()) {
    const std::string key = spec.key;
    if ((key.rfind("geography.", 0) == 0 && key != "geography.csv") ||
        key == "adoption.radius_km" || key == "income.household_size")
      h.update(key + "=" + param_value_text(spec, p) + "\n");
  }
  h.update("categories=" + std::to_string(n_categories) + "\n");
  return h.hex_digest();
}

void write_geography_file(const std::string& path, const Geography& g, const std::string& key) {
  Writer w;
  w.out.append(kCacheMagic, sizeof kCacheMagic);
  w.out += key;
  for_each_field(g, w);
  const std::string digest = sha256_hex(w.out);
  w.out += digest;
  // Written under a unique temporary name and renamed: concurrent runs never see a partial file.
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(w.out.data(), static_cast<std::streamsize>(w.out.size()));
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw std::runtime_error("cannot write the geography cache file " + tmp);
    }
  }
  std::filesystem::rename(tmp, path);
}

bool read_geography_file(const std::string& path, const std::string& key, Geography& g) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  std::ifstream f(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const std::size_t head = sizeof kCacheMagic + key.size();
  if (data.size() < head + 64 || std::memcmp(data.data(), kCacheMagic, sizeof kCacheMagic) != 0 ||
      data.compare(sizeof kCacheMagic, key.size(), key) != 0)
    return false;
  const std::string body = data.substr(0, data.size() - 64);
  if (sha256_hex(body) != data.substr(data.size() - 64)) return false;
  Reader r{body, head};
  Geography out;
  for_each_field(out, r);
  if (!r.ok || r.pos != body.size()) return false;
  g = std::move(out);
  return true;
}

Geography cached_province_geography(const std::string& path, const Params& p,
                                    std::size_t n_categories, bool* hit) {
  const std::string dir = geography_cache_dir();
  if (hit) *hit = false;
  if (dir.empty()) return build_province_geography(path, p, n_categories);
  const std::string bytes = read_input_file(path, "the province table", kMaxProvinceTableBytes);
  const std::string key = province_geography_key(bytes, p, n_categories);
  const std::string file = (std::filesystem::path(dir) / ("geography-" + key + ".bin")).string();
  Geography g;
  if (read_geography_file(file, key, g)) {
    if (hit) *hit = true;
    return g;
  }
  g = build_province_geography(path, p, n_categories);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw InputError("geography cache directory " + dir + ": cannot create it (" + ec.message() +
                     ")");
  write_geography_file(file, g, key);
  return g;
}

}  // namespace ruralsim
