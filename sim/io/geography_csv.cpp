// Village table from CSV (geography.source: csv). See load_geography_csv in io/geography.hpp.
//
// Format: a header line naming the columns (any order, case-insensitive), then one row per
// village. Required: id, town, county, province (int64 codes; town, county and village codes
// are global, so a town belongs to exactly one county and a county to one province), x, y (km,
// finite), households (integer >= 1). Optional: specialty (category name or 0-based index),
// strength (> 0), base_income (> 0, RMB/yr per household), poverty (0/1, a county flag that
// must agree for all villages of the county). An empty cell in an optional column (except
// poverty) means "draw it as the generator would". Blank lines and lines starting with '#'
// are skipped; fields may be surrounded by spaces and double quotes ("" is a literal quote).
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/distributions.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "io/geo_random.hpp"
#include "io/geography.hpp"
#include "io/input_file.hpp"

namespace ruralsim {
namespace {

using geo_detail::draw_category;
using geo_detail::in_disc;
using geo_detail::lognormal1;

// Ranges of the numeric columns: far beyond any real village, but finite results guaranteed.
constexpr double kMaxCoordinateKm = 1.0e6;
constexpr std::int64_t kMaxHouseholds = 10'000'000;  // as the generator's clamp
constexpr double kMaxStrength = 1.0e4;
constexpr double kMaxBaseIncome = 1.0e8;

enum Col : int {
  kId,
  kTown,
  kCounty,
  kProvince,
  kX,
  kY,
  kHouseholds,
  kSpecialty,
  kStrength,
  kBaseIncome,
  kPoverty,
  kNumCols
};
constexpr int kNumRequired = kHouseholds + 1;
constexpr std::array<const char*, kNumCols> kColName = {
    "id",         "town",      "county",   "province",    "x",      "y",
    "households", "specialty", "strength", "base_income", "poverty"};

std::string valid_columns() {
  std::string s;
  for (int c = 0; c < kNumCols; ++c) {
    if (c) s += ", ";
    s += kColName[c];
    if (c >= kNumRequired) s += " (optional)";
  }
  return s;
}

struct Field {
  std::string text;  // trimmed, quotes removed
  int column = 0;    // 1-based character column of the field's first non-blank character
};

bool is_blank(char ch) {
  return ch == ' ' || ch == '\t';
}

class TableError {
 public:
  explicit TableError(const std::string& path) : path_(path) {}
  [[noreturn]] void fail(int line, int column, const std::string& msg) const {
    // Field text may be binary garbage: never echo raw control bytes or invalid UTF-8.
    throw InputError(located(path_, line, column, escape_bytes(msg)));
  }

 private:
  const std::string& path_;
};

// Splits one line at commas outside double quotes. Returns false (with `bad_column`) on an
// unterminated quote.
bool split_fields(std::string_view line, std::vector<Field>& out, std::size_t& n, int& bad_column) {
  n = 0;
  std::size_t i = 0;
  const std::size_t len = line.size();
  while (true) {
    if (out.size() <= n) out.emplace_back();
    Field& f = out[n++];
    f.text.clear();
    while (i < len && is_blank(line[i])) ++i;
    f.column = static_cast<int>(i) + 1;
    if (i < len && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < len) {
        if (line[i] == '"') {
          if (i + 1 < len && line[i + 1] == '"') {
            f.text += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        f.text += line[i++];
      }
      if (!closed) {
        bad_column = f.column;
        return false;
      }
      while (i < len && line[i] != ',') f.text += line[i++];  // tolerate trailing text
    } else {
      while (i < len && line[i] != ',') f.text += line[i++];
    }
    while (!f.text.empty() && is_blank(f.text.back())) f.text.pop_back();
    if (i >= len) return true;
    ++i;  // the comma
  }
}

bool parse_i64(const std::string& s, std::int64_t& v) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  auto [ptr, ec] = std::from_chars(b, e, v);
  return b != e && ec == std::errc() && ptr == e;
}

bool parse_f64(const std::string& s, double& v) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  auto [ptr, ec] = std::from_chars(b, e, v);
  return b != e && ec == std::errc() && ptr == e;
}

struct Row {
  std::int64_t id = 0, town = 0, county = 0, province = 0;
  double x = 0, y = 0;
  std::int32_t households = 0;
  int specialty = -1;      // -1: draw
  double strength = 0;     // 0: draw
  double base_income = 0;  // 0: draw
  int poverty = -1;        // -1: no poverty column
  int line = 0;
};

struct Owner {
  std::int64_t parent;
  int line;
};

}  // namespace

Geography load_geography_csv(const std::string& path, const Params& p,
                             const std::vector<Category>& categories) {
  const std::string text = read_input_file(path, "the village table", kMaxVillageTableBytes);
  require_utf8(text, path, "the village table");
  std::istringstream in(text);
  const TableError err(path);
  if (categories.empty())
    throw InputError(path + ": no product categories are defined for the village specialties");
  if (categories.size() > 256)
    throw InputError(path + ": at most 256 product categories are supported");

  std::unordered_map<std::string, int> category_index;
  std::string category_list;
  for (std::size_t k = 0; k < categories.size(); ++k) {
    category_index.emplace(categories[k].name, static_cast<int>(k));
    if (k) category_list += ", ";
    category_list += categories[k].name;
  }

  std::array<int, kNumCols> pos;  // field position of each column, -1 if absent
  pos.fill(-1);
  std::size_t n_header = 0;
  int header_line = 0;
  std::vector<Row> rows;
  std::unordered_map<std::int64_t, int> village_line;
  std::unordered_map<std::int64_t, Owner> town_owner, county_owner, county_poverty;

  std::vector<Field> fields;
  std::size_t nf = 0;
  std::string raw;
  int lineno = 0;
  while (std::getline(in, raw)) {
    ++lineno;
    std::string_view line(raw);
    if (lineno == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);  // UTF-8 BOM
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    const int offset = static_cast<int>(line.data() - raw.data());  // a skipped BOM
    int bad_column = 0;
    if (!split_fields(line, fields, nf, bad_column))
      err.fail(lineno, bad_column + offset, "unterminated double quote");
    for (std::size_t i = 0; i < nf; ++i) fields[i].column += offset;

    if (header_line == 0) {  // the header
      header_line = lineno;
      n_header = nf;
      for (std::size_t i = 0; i < nf; ++i) {
        std::string name = fields[i].text;
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        if (name.empty()) err.fail(lineno, fields[i].column, "empty column name in the header");
        int c = 0;
        while (c < kNumCols && name != kColName[c]) ++c;
        if (c == kNumCols)
          err.fail(
              lineno, fields[i].column,
              "unknown column '" + fields[i].text + "' (valid columns: " + valid_columns() + ")");
        if (pos[c] >= 0)
          err.fail(lineno, fields[i].column,
                   std::string("duplicate column '") + kColName[c] + "' (also field " +
                       std::to_string(pos[c] + 1) + ")");
        pos[c] = static_cast<int>(i);
      }
      std::string missing;
      for (int c = 0; c < kNumRequired; ++c)
        if (pos[c] < 0) missing += std::string(missing.empty() ? "" : ", ") + kColName[c];
      if (!missing.empty()) err.fail(lineno, 0, "missing required column(s): " + missing);
      continue;
    }

    if (nf != n_header) {
      const int col =
          nf > n_header ? fields[n_header].column : offset + static_cast<int>(line.size()) + 1;
      err.fail(lineno, col,
               "wrong number of fields: expected " + std::to_string(n_header) +
                   " (as in the header), got " + std::to_string(nf));
    }
    auto field = [&](int c) -> const Field& { return fields[static_cast<std::size_t>(pos[c])]; };
    auto bad = [&](int c, const std::string& problem) {
      const Field& f = field(c);
      err.fail(lineno, f.column, std::string("column '") + kColName[c] + "': " + problem);
    };
    auto need = [&](int c) -> const std::string& {
      const std::string& t = field(c).text;
      if (t.empty()) bad(c, "missing value");
      return t;
    };
    auto get_id = [&](int c) {
      std::int64_t v = 0;
      if (!parse_i64(need(c), v)) bad(c, "not an integer id: '" + field(c).text + "'");
      return v;
    };
    auto get_finite = [&](int c) {
      double v = 0;
      if (!parse_f64(need(c), v)) bad(c, "not a number: '" + field(c).text + "'");
      if (!std::isfinite(v)) bad(c, "not a finite number: '" + field(c).text + "'");
      return v;
    };
    auto get_coordinate = [&](int c) {
      const double v = get_finite(c);
      if (std::fabs(v) > kMaxCoordinateKm)
        bad(c, "'" + field(c).text + "' is out of range; valid range [-1e6, 1e6] km");
      return v;
    };
    auto get_positive = [&](int c, double max, const char* range) {  // optional; 0 when empty
      if (pos[c] < 0 || field(c).text.empty()) return 0.0;
      const double v = get_finite(c);
      if (!(v > 0)) bad(c, "must be > 0, got '" + field(c).text + "'");
      if (v > max)
        bad(c, "'" + field(c).text + "' is out of range; valid range " + std::string(range));
      return v;
    };

    Row r;
    r.line = lineno;
    r.id = get_id(kId);
    r.town = get_id(kTown);
    r.county = get_id(kCounty);
    r.province = get_id(kProvince);
    r.x = get_coordinate(kX);
    r.y = get_coordinate(kY);
    {
      const std::string& t = need(kHouseholds);
      std::int64_t h = 0;
      if (!parse_i64(t, h)) {
        double d = 0;
        if (!parse_f64(t, d)) bad(kHouseholds, "not a number: '" + t + "'");
        if (!std::isfinite(d) || d != std::floor(d))
          bad(kHouseholds, "not an integer: '" + t + "'");
        h = std::fabs(d) < 1.0e18 ? static_cast<std::int64_t>(d)
                                  : (d < 0 ? std::numeric_limits<std::int64_t>::min()
                                           : std::numeric_limits<std::int64_t>::max());
      }
      if (h < 1) bad(kHouseholds, "must be an integer >= 1, got '" + t + "'");
      if (h > kMaxHouseholds)
        bad(kHouseholds, "'" + t + "' is out of range; valid range [1, 10000000]");
      r.households = static_cast<std::int32_t>(h);
    }
    if (pos[kSpecialty] >= 0 && !field(kSpecialty).text.empty()) {
      const std::string& t = field(kSpecialty).text;
      auto it = category_index.find(t);
      std::int64_t k = -1;
      if (it != category_index.end())
        r.specialty = it->second;
      else if (parse_i64(t, k) && k >= 0 && k < static_cast<std::int64_t>(categories.size()))
        r.specialty = static_cast<int>(k);
      else
        bad(kSpecialty, "unknown specialty '" + t + "' (valid: " + category_list +
                            ", or a 0-based index below " + std::to_string(categories.size()) +
                            ")");
    }
    r.strength = get_positive(kStrength, kMaxStrength, "(0, 10000]");
    r.base_income = get_positive(kBaseIncome, kMaxBaseIncome, "(0, 1e8] RMB/yr");
    if (pos[kPoverty] >= 0) {
      const std::string& t = need(kPoverty);
      if (t != "0" && t != "1") bad(kPoverty, "expected 0 or 1, got '" + t + "'");
      r.poverty = t == "1" ? 1 : 0;
    }

    // Consistency with the rows read so far.
    if (auto [it, fresh] = village_line.emplace(r.id, lineno); !fresh)
      bad(kId, "duplicate village id " + std::to_string(r.id) + " (first at line " +
                   std::to_string(it->second) + ")");
    if (auto [it, fresh] = town_owner.emplace(r.town, Owner{r.county, lineno});
        !fresh && it->second.parent != r.county)
      bad(kTown, "town " + std::to_string(r.town) + " is under county " + std::to_string(r.county) +
                     " here but under county " + std::to_string(it->second.parent) + " at line " +
                     std::to_string(it->second.line));
    if (auto [it, fresh] = county_owner.emplace(r.county, Owner{r.province, lineno});
        !fresh && it->second.parent != r.province)
      bad(kCounty, "county " + std::to_string(r.county) + " is under province " +
                       std::to_string(r.province) + " here but under province " +
                       std::to_string(it->second.parent) + " at line " +
                       std::to_string(it->second.line));
    if (r.poverty >= 0) {
      if (auto [it, fresh] = county_poverty.emplace(r.county, Owner{r.poverty, lineno});
          !fresh && it->second.parent != r.poverty)
        bad(kPoverty, "inconsistent poverty flag for county " + std::to_string(r.county) + ": " +
                          std::to_string(r.poverty) + " here but " +
                          std::to_string(it->second.parent) + " at line " +
                          std::to_string(it->second.line));
    }
    rows.push_back(r);
  }
  if (in.bad()) throw InputError(path + ": error reading the village table");
  if (header_line == 0) throw InputError(path + ": the village table is empty (no header line)");
  if (rows.empty())
    err.fail(header_line, 0, "the village table has no villages (only a header line)");
  if (rows.size() >= std::numeric_limits<Id>::max()) throw InputError(path + ": too many villages");

  // Dense order: a county's and a town's villages are contiguous.
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.province != b.province) return a.province < b.province;
    if (a.county != b.county) return a.county < b.county;
    if (a.town != b.town) return a.town < b.town;
    return a.id < b.id;
  });

  Geography g;
  const std::size_t nv = rows.size();
  g.village_code.resize(nv);
  g.village_town.resize(nv);
  g.village_county.resize(nv);
  g.village_province.resize(nv);
  g.village_x.resize(nv);
  g.village_y.resize(nv);
  g.households.resize(nv);
  g.specialty.resize(nv);
  g.strength.resize(nv);
  g.base_income.resize(nv);
  for (std::size_t v = 0; v < nv; ++v) {
    const Row& r = rows[v];
    const bool new_province = v == 0 || r.province != rows[v - 1].province;
    const bool new_county = new_province || r.county != rows[v - 1].county;
    const bool new_town = new_county || r.town != rows[v - 1].town;
    if (new_province) {
      g.province_name.push_back("P" + std::to_string(r.province));
      // A CSV carries no province attributes: neutral industrial base and no rollout offset.
      g.province_industrial_base.push_back(1.0);
      g.province_rollout_offset.push_back(0.0);
    }
    if (new_county) {
      g.county_province.push_back(static_cast<Id>(g.provinces() - 1));
      g.county_code.push_back(r.county);
      if (r.poverty >= 0) g.county_poverty.push_back(static_cast<std::uint8_t>(r.poverty));
    }
    if (new_town) {
      g.town_county.push_back(static_cast<Id>(g.counties() - 1));
      g.town_code.push_back(r.town);
    }
    g.village_code[v] = r.id;
    g.village_town[v] = static_cast<Id>(g.towns() - 1);
    g.village_county[v] = static_cast<Id>(g.counties() - 1);
    g.village_province[v] = static_cast<Id>(g.provinces() - 1);
    g.village_x[v] = r.x;
    g.village_y[v] = r.y;
    g.households[v] = r.households;
  }
  const std::size_t np = g.provinces(), nc = g.counties(), nt = g.towns();

  // Seats: household-weighted mean position of the county's (town's) villages.
  g.county_x.assign(nc, 0.0);
  g.county_y.assign(nc, 0.0);
  g.town_x.assign(nt, 0.0);
  g.town_y.assign(nt, 0.0);
  std::vector<double> county_hh(nc, 0.0), town_hh(nt, 0.0);
  for (std::size_t v = 0; v < nv; ++v) {
    const double h = g.households[v];
    const Id c = g.village_county[v], t = g.village_town[v];
    g.county_x[c] += h * g.village_x[v];
    g.county_y[c] += h * g.village_y[v];
    county_hh[c] += h;
    g.town_x[t] += h * g.village_x[v];
    g.town_y[t] += h * g.village_y[v];
    town_hh[t] += h;
  }
  for (std::size_t c = 0; c < nc; ++c) {
    g.county_x[c] /= county_hh[c];
    g.county_y[c] /= county_hh[c];
  }
  for (std::size_t t = 0; t < nt; ++t) {
    g.town_x[t] /= town_hh[t];
    g.town_y[t] /= town_hh[t];
  }

  // Values missing from the table are drawn from the same keyed streams, in the same order, as
  // generate_geography (positions and household counts are drawn and discarded), so a table
  // holding a generated geography's villages reproduces its specialties, strengths and incomes
  // when geography.industrial_base_sigma is 0.
  const auto& gp = p.geography;
  const auto seed = static_cast<std::uint64_t>(gp.seed);
  std::vector<double> cum(categories.size());
  for (std::size_t k = 0; k < cum.size(); ++k) cum[k] = static_cast<double>(k + 1);
  std::vector<double> prov_factor(np), county_factor(nc), town_factor(nt);
  std::vector<std::uint8_t> county_draw(nc);
  for (std::size_t pi = 0; pi < np; ++pi) {
    Stream rs(seed, Purpose::GeoProvince, pi, 0);
    (void)lognormal1(rs, gp.industrial_base_sigma);
    boost::random::normal_distribution<double> n(0.0, 1.0);
    (void)n(rs);  // rollout offset
    prov_factor[pi] = 1.0 * lognormal1(rs, gp.sigma_province);
  }
  for (std::size_t c = 0; c < nc; ++c) {
    Stream rc(seed, Purpose::GeoCounty, c, 0);
    (void)rc.uniform();  // seat position
    (void)rc.uniform();
    county_draw[c] = draw_category(rc, cum);
    county_factor[c] = lognormal1(rc, gp.sigma_county);
  }
  for (std::size_t t = 0; t < nt; ++t) {
    Stream rt(seed, Purpose::GeoTown, t, 0);
    double dx = 0, dy = 0;
    in_disc(rt, gp.county_radius_km, dx, dy);  // town position
    town_factor[t] = lognormal1(rt, gp.sigma_town);
  }
  for (std::size_t v = 0; v < nv; ++v) {
    const Row& r = rows[v];
    const Id c = g.village_county[v];
    Stream rv(seed, Purpose::GeoVillage, v, 0);
    double dx = 0, dy = 0;
    in_disc(rv, gp.town_radius_km, dx, dy);     // village position
    (void)lognormal1(rv, gp.households_sigma);  // households
    const bool same = rv.uniform() < gp.specialty_same_as_county;
    const auto other = draw_category(rv, cum);
    const double vfac = lognormal1(rv, gp.sigma_village);
    const double inc = lognormal1(rv, gp.base_income_sigma);
    g.specialty[v] =
        r.specialty >= 0 ? static_cast<std::uint8_t>(r.specialty) : (same ? county_draw[c] : other);
    g.strength[v] = r.strength > 0 ? r.strength
                                   : prov_factor[g.village_province[v]] * county_factor[c] *
                                         town_factor[g.village_town[v]] * vfac;
    g.base_income[v] = r.base_income > 0 ? r.base_income : gp.base_income_mean * inc;
  }

  // County specialty: the drawn one if the table gives none of the county's specialties,
  // else the most common specialty among its villages (lowest index on ties).
  g.county_specialty.assign(nc, 0);
  std::vector<std::size_t> count(categories.size());
  {
    std::size_t v = 0;
    for (std::size_t c = 0; c < nc; ++c) {
      std::fill(count.begin(), count.end(), 0);
      bool given = false;
      for (; v < nv && g.village_county[v] == c; ++v) {
        ++count[g.specialty[v]];
        given = given || rows[v].specialty >= 0;
      }
      if (!given) {
        g.county_specialty[c] = county_draw[c];
        continue;
      }
      std::size_t best = 0;
      for (std::size_t k = 1; k < count.size(); ++k)
        if (count[k] > count[best]) best = k;
      g.county_specialty[c] = static_cast<std::uint8_t>(best);
    }
  }

  // county_poverty is sized only when the table has a poverty column; otherwise
  // finish_geography marks the lowest-income counties (geography.poverty_share). It also
  // recomputes the flags whenever geography.source is "generate", so pass "csv".
  Params pc = p;
  pc.geography.source = "csv";
  finish_geography(g, pc);
  return g;
}

}  // namespace ruralsim
