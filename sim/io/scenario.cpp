#include "io/scenario.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "core/error.hpp"
#include "core/format.hpp"
#include "io/extends.hpp"
#include "io/input_file.hpp"
#include "io/yaml_checks.hpp"
#include "model/rule_expr.hpp"
#include "policy/intervention.hpp"
#include "policy/intervention_keys.hpp"

namespace ruralsim {
namespace {

// Sections whose keys are all in the parameter table.
const std::vector<std::string>& param_sections() {
  static const std::vector<std::string> s = [] {
    std::vector<std::string> out;
    for (const auto& spec : param_table()) {
      std::string key = spec.key;
      std::string sec = key.substr(0, key.find('.'));
      if (out.empty() || out.back() != sec) out.push_back(sec);
    }
    return out;
  }();
  return s;
}

const std::vector<std::string> kOtherTopKeys = {"name",         "description",   "categories",
                                                "demand_table", "interventions", "extends"};

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

struct Ctx {
  std::string file;
  bool has_location = true;  // false for --set values, whose YAML marks mean nothing
  [[noreturn]] void fail(const YAML::Node& n, const std::string& msg) const {
    const auto m = n.Mark();
    if (m.is_null() || !has_location) throw InputError(located(file, 0, 0, msg));
    throw InputError(located(file, m.line + 1, m.column + 1, msg));
  }
};

std::string fmt(double v) {
  return num(v);
}

// National online retail demand above this (RMB/yr; China's GDP is ~1e14) is a typo.
constexpr double kMaxDemand = 1.0e15;

// Ten times the national scale (~490,000 villages): beyond this a typo, not a scenario.
constexpr double kMaxVillages = 5.0e6;

// Parser messages may quote bytes of a binary file: keep them printable.
std::string printable(std::string s) {
  for (char& ch : s)
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) >= 0x7f) ch = '?';
  return s;
}

std::string quoted(const std::string& s) {
  std::string q = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') q += '\\';
    q += ch;
  }
  return q + "\"";
}

std::string scalar_text(const YAML::Node& n) {
  return n.IsScalar() ? n.Scalar() : "(not a scalar)";
}

// A list of years: each element a whole number in the spec's range or `last`, none twice (so at
// most one element per year of the range).
void set_year_list(const ParamSpec& spec, YearList& out, const YAML::Node& n, const Ctx& ctx) {
  const std::string key = spec.key;
  const std::string valid = "a list of calendar years of the run or 'last', e.g. [2015, last]; " +
                            std::string("[] for none");
  if (!n.IsSequence())
    ctx.fail(n, "key '" + key + "' takes a list (" + valid + "), not " +
                    (n.IsMap()      ? std::string("a map")
                     : n.IsScalar() ? "the single value '" + n.Scalar() + "'"
                                    : std::string("null")));
  YearList years;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const YAML::Node e = n[i];
    const std::string where = key + "[" + std::to_string(i) + "]";
    if (!e.IsScalar()) ctx.fail(e, "key '" + where + "' must be a year or 'last'");
    std::int64_t y = kLastYear;
    if (e.Scalar() != "last") {
      double v = 0;
      if (!YAML::convert<double>::decode(e, v) || !std::isfinite(v) || v != std::floor(v))
        ctx.fail(e, "key '" + where + "' = '" + e.Scalar() +
                        "' is not a year; valid: a whole number or 'last'");
      if (v < spec.min || v > spec.max)
        ctx.fail(e, "key '" + where + "' = " + e.Scalar() + " is out of range; valid range [" +
                        fmt(spec.min) + ", " + fmt(spec.max) + "] or 'last'");
      y = static_cast<std::int64_t>(v);
    }
    if (std::find(years.begin(), years.end(), y) != years.end())
      ctx.fail(e, "key '" + key + "': '" + e.Scalar() + "' appears twice");
    years.push_back(y);
  }
  out = years;
}

// Sets one table parameter from a YAML scalar (or list, for a list of years), checking type and
// range.
void set_param(const ParamSpec& spec, Params& p, const YAML::Node& n, const Ctx& ctx) {
  const std::string key = spec.key;
  ParamRef r = spec.ref(p);
  if (auto lp = std::get_if<YearList*>(&r)) {
    set_year_list(spec, **lp, n, ctx);
    return;
  }
  if (!n.IsScalar())
    ctx.fail(n, "key '" + key + "' takes a single value (" + spec.doc + "), not a " +
                    (n.IsMap()        ? "map"
                     : n.IsSequence() ? "list"
                                      : "null"));
  const std::string text = n.Scalar();
  auto range_msg = [&] {
    return "key '" + key + "' = " + text + " is out of range; valid range [" + fmt(spec.min) +
           ", " + fmt(spec.max) + "]" +
           (std::string(spec.unit) == "-" ? "" : std::string(" ") + spec.unit);
  };
  if (auto sp = std::get_if<std::string*>(&r)) {
    if (*spec.choices) {
      std::string choices = spec.choices;
      std::vector<std::string> valid;
      std::stringstream ss(choices);
      for (std::string c; std::getline(ss, c, '|');) valid.push_back(c);
      bool ok = false;
      for (const auto& c : valid) ok = ok || c == text;
      if (!ok)
        ctx.fail(n,
                 "key '" + key + "' = '" + text + "' is not valid; valid choices: " + join(valid));
    }
    **sp = text;
    return;
  }
  if (auto bp = std::get_if<bool*>(&r)) {
    bool v = false;
    if (!YAML::convert<bool>::decode(n, v))
      ctx.fail(n, "key '" + key + "' = '" + text + "' is not a boolean; valid: true, false");
    **bp = v;
    return;
  }
  double v = 0;
  if (!YAML::convert<double>::decode(n, v) || !std::isfinite(v))
    ctx.fail(n, "key '" + key + "' = '" + text + "' is not a finite number (" + spec.unit + ")");
  if (auto ip = std::get_if<std::int64_t*>(&r)) {
    if (v != std::floor(v)) ctx.fail(n, "key '" + key + "' = " + text + " must be a whole number");
    if (v < spec.min || v > spec.max) ctx.fail(n, range_msg());
    // Read integers exactly (a double holds only 53 bits: large seeds would be rounded), and
    // check the exact value against the range (9000000000000000100 rounds to 9e18 as a double).
    std::int64_t exact = 0;
    if (!YAML::convert<std::int64_t>::decode(n, exact)) exact = static_cast<std::int64_t>(v);
    constexpr double kI64 = 9.2e18;  // below 2^63: the casts are exact for the table's bounds
    if ((spec.min > -kI64 && exact < static_cast<std::int64_t>(spec.min)) ||
        (spec.max < kI64 && exact > static_cast<std::int64_t>(spec.max)))
      ctx.fail(n, range_msg());
    **ip = exact;
    return;
  }
  if (v < spec.min || v > spec.max) ctx.fail(n, range_msg());
  *std::get<double*>(r) = v;
}

void read_section(const std::string& sec, const YAML::Node& node, Params& p, const Ctx& ctx) {
  if (!node.IsMap()) ctx.fail(node, "section '" + sec + "' must be a map of key: value");
  std::vector<std::string> valid;
  for (const auto& spec : param_table()) {
    std::string k = spec.key;
    if (k.compare(0, sec.size() + 1, sec + ".") == 0) valid.push_back(k.substr(sec.size() + 1));
  }
  for (const auto& kv : node) {
    if (!kv.first.IsScalar())
      ctx.fail(kv.first, "keys must be plain names; valid keys in '" + sec + "': " + join(valid));
    const std::string key = kv.first.Scalar();
    const ParamSpec* spec = find_param(sec + "." + key);
    if (!spec)
      ctx.fail(kv.first, "unknown key '" + sec + "." + key + "'; valid keys in '" + sec +
                             "': " + join(valid));
    set_param(*spec, p, kv.second, ctx);
  }
}

double cat_field(const YAML::Node& m, const char* key, double def, double lo, double hi,
                 const std::string& where, const Ctx& ctx) {
  const YAML::Node n = m[key];
  if (!n) return def;
  double v = 0;
  if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v))
    ctx.fail(n, "key '" + where + "." + key + "' is not a finite number");
  if (v < lo || v > hi)
    ctx.fail(n, "key '" + where + "." + key + "' = " + n.Scalar() +
                    " is out of range; valid range [" + fmt(lo) + ", " + fmt(hi) + "]");
  return v;
}

std::vector<Category> read_categories(const YAML::Node& node, const Ctx& ctx) {
  if (!node.IsSequence() || node.size() == 0)
    ctx.fail(node,
             "key 'categories' must be a non-empty list of {name, share, margin, order_value}");
  if (node.size() > 32) ctx.fail(node, "key 'categories' holds more than 32 categories");
  std::vector<Category> cats;
  std::set<std::string> names;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node m = node[i];
    const std::string where = "categories[" + std::to_string(i) + "]";
    if (!m.IsMap())
      ctx.fail(m, "key '" + where + "' must be a map {name, share, margin, order_value}");
    for (const auto& kv : m) {
      const std::string k = kv.first.Scalar();
      if (k != "name" && k != "share" && k != "margin" && k != "order_value")
        ctx.fail(kv.first, "unknown key '" + where + "." + k +
                               "'; valid keys: name, share, margin, order_value");
    }
    Category c;
    if (!m["name"] || !m["name"].IsScalar() || m["name"].Scalar().empty())
      ctx.fail(m, "key '" + where + ".name' is missing");
    c.name = m["name"].Scalar();
    // Names label outputs and figures and are written back into the resolved scenario: one
    // short line of printable text (found by fuzzing: a name with a line break did not survive
    // that round trip).
    if (c.name.size() > 100 || std::any_of(c.name.begin(), c.name.end(), [](char ch) {
          return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f;
        }))
      ctx.fail(m["name"],
               "key '" + where + ".name' must be one line of printable text of at most 100 bytes");
    if (!names.insert(c.name).second)
      ctx.fail(m["name"], "category '" + c.name + "' appears twice");
    c.share = cat_field(m, "share", 1.0 / node.size(), 0, 1, where, ctx);
    c.margin = cat_field(m, "margin", 0.25, 0, 1, where, ctx);
    c.order_value = cat_field(m, "order_value", 80, 0.01, 1e7, where, ctx);
    cats.push_back(c);
  }
  double sum = 0;
  for (const auto& c : cats) sum += c.share;
  if (std::fabs(sum - 1.0) > 1e-6)
    ctx.fail(node, "key 'categories': shares must add up to 1 (they add up to " + fmt(sum) + ")");
  return cats;
}

std::vector<std::pair<int, double>> read_demand_table(const YAML::Node& node, const Ctx& ctx) {
  if (!node.IsMap() || node.size() == 0)
    ctx.fail(node, "key 'demand_table' must be a map of year: RMB per year, e.g. {2014: 1.8e11}");
  std::vector<std::pair<int, double>> t;
  for (const auto& kv : node) {
    int year = 0;
    double v = 0;
    if (!YAML::convert<int>::decode(kv.first, year) || year < 1900 || year > 2200)
      ctx.fail(kv.first,
               "key 'demand_table." + scalar_text(kv.first) + "': not a year (1900-2200)");
    if (!kv.second.IsScalar() || !YAML::convert<double>::decode(kv.second, v) ||
        !std::isfinite(v) || v <= 0 || v > kMaxDemand)
      ctx.fail(kv.second, "key 'demand_table." + kv.first.Scalar() +
                              "' must be a positive number (RMB/yr) of at most " + fmt(kMaxDemand));
    t.emplace_back(year, v);
  }
  std::sort(t.begin(), t.end());
  for (std::size_t i = 1; i < t.size(); ++i)
    if (t[i].first == t[i - 1].first)
      ctx.fail(node, "key 'demand_table': year " + std::to_string(t[i].first) + " appears twice");
  return t;
}

void cross_checks(Scenario& sc, const YAML::Node& root, const Ctx& ctx) {
  const Params& p = sc.params;
  auto node_of = [&](const char* sec, const char* key) {
    if (root && root.IsMap() && root[sec] && root[sec].IsMap() && root[sec][key])
      return root[sec][key];
    return YAML::Node();  // not in the file (a default or a --set value): no location
  };
  const auto tpy = p.simulation.ticks_per_year;
  if (tpy != 12 && tpy != 52 && tpy != 365)
    ctx.fail(node_of("simulation", "ticks_per_year"),
             "key 'simulation.ticks_per_year' = " + std::to_string(tpy) +
                 " is not valid; valid choices: 12, 52, 365");
  if (p.accounting.wage_min > p.accounting.wage_max)
    ctx.fail(node_of("accounting", "wage_min"),
             "key 'accounting.wage_min' (" + fmt(p.accounting.wage_min) +
                 ") must not exceed 'accounting.wage_max' (" + fmt(p.accounting.wage_max) + ")");
  if (p.geography.source != "generate") {
    if (p.geography.csv.empty())
      ctx.fail(node_of("geography", "source"),
               "key 'geography.source' is " + p.geography.source + " but 'geography.csv' (the " +
                   (p.geography.source == "csv" ? "village" : "province") + " table) is not set");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(sc.csv_path, ec))
      ctx.fail(node_of("geography", "csv"),
               "key 'geography.csv' = '" + p.geography.csv + "': " +
                   (std::filesystem::exists(sc.csv_path, ec) ? "is not a regular file"
                                                             : "no such file") +
                   " (looked for " + sc.csv_path + ")");
  } else if (!p.geography.csv.empty()) {
    ctx.fail(node_of("geography", "csv"),
             "key 'geography.csv' is set but 'geography.source' is 'generate'; set source: csv "
             "(village table) or provinces (province table)");
  }
  if (p.output.every > tpy * p.simulation.years)
    ctx.fail(node_of("output", "every"),
             "key 'output.every' = " + std::to_string(p.output.every) + " exceeds the " +
                 std::to_string(tpy * p.simulation.years) +
                 " ticks of the run (simulation.years x simulation.ticks_per_year)");
  if (p.geography.source == "generate") {
    const double villages = static_cast<double>(p.geography.provinces) *
                            p.geography.counties_per_province * p.geography.towns_per_county *
                            p.geography.villages_per_town;
    if (villages > kMaxVillages)
      ctx.fail(node_of("geography", "villages_per_town"),
               "the generated geography would hold about " + fmt(villages) +
                   " villages (geography.provinces x "
                   "counties_per_province x towns_per_county x villages_per_town); the limit is " +
                   fmt(kMaxVillages));
  }
  for (auto [key, text, names] :
       {std::tuple{"village_rule", &p.recognition.village_rule, &village_criteria()},
        std::tuple{"town_rule", &p.recognition.town_rule, &town_criteria()}}) {
    try {
      RuleExpr check(*text, *names);
    } catch (const std::invalid_argument& e) {
      ctx.fail(node_of("recognition", key),
               std::string("key 'recognition.") + key + "': " + printable(e.what()));
    }
  }
  {  // snapshot years within the run
    const YAML::Node list = node_of("output", "snapshot_years");
    const auto first = p.simulation.start_year;
    const auto last = first + p.simulation.years - 1;
    for (std::size_t i = 0; i < p.output.snapshot_years.size(); ++i) {
      const std::int64_t y = p.output.snapshot_years[i];
      if (y == kLastYear || (y >= first && y <= last)) continue;
      ctx.fail(list && list.IsSequence() && i < list.size() ? list[i] : list,
               "key 'output.snapshot_years' = " + std::to_string(y) +
                   " is not a simulated year; valid: " + std::to_string(first) + " to " +
                   std::to_string(last) +
                   " (simulation.start_year to start_year + years - 1) or 'last'");
    }
  }
  if (p.livestream.k_promo < 1)
    ctx.fail(node_of("livestream", "k_promo"), "key 'livestream.k_promo' must be at least 1");
}

void apply_override(Scenario& sc, const std::string& ov) {
  const auto eq = ov.find('=');
  const Ctx ctx{"--set " + ov, false};
  if (eq == std::string::npos || eq == 0)
    throw InputError("--set '" + ov + "': expected key.path=value, e.g. adoption.beta=5");
  const std::string key = ov.substr(0, eq);
  const std::string value = ov.substr(eq + 1);
  const ParamSpec* spec = find_param(key);
  if (!spec) {
    std::string sec = key.substr(0, key.find('.'));
    std::vector<std::string> valid;
    for (const auto& s : param_table())
      if (std::string(s.key).compare(0, sec.size() + 1, sec + ".") == 0) valid.push_back(s.key);
    if (valid.empty())
      for (const auto& s : param_sections()) valid.push_back(s + ".*");
    throw InputError("--set '" + ov + "': unknown key '" + key + "'; valid keys: " + join(valid));
  }
  YAML::Node n;
  try {
    n = YAML::Load(value);
  } catch (const YAML::Exception& e) {
    throw InputError("--set '" + ov + "': value is not valid YAML: " + printable(e.msg));
  }
  if (!n || n.IsNull()) n = YAML::Node(value);
  set_param(*spec, sc.params, n, ctx);
}

// The intervention list, with `--set interventions.<name>.<key>=value` applied to a copy.
void read_interventions(Scenario& sc, const YAML::Node& val, const std::string& file_label,
                        const std::vector<std::string>& overrides) {
  YAML::Node list = val;
  std::vector<std::string> applied;
  if (std::any_of(overrides.begin(), overrides.end(), is_intervention_override)) {
    list = val ? YAML::Clone(val) : YAML::Node();
    applied = apply_intervention_overrides(list, overrides);
  }
  for (std::size_t i = 0; list && i < list.size(); ++i) {
    try {
      sc.interventions.push_back(make_intervention(list[i], file_label, static_cast<int>(i)));
    } catch (const InputError& e) {
      if (i < applied.size() && !applied[i].empty())
        throw InputError(std::string(e.what()) + " (after --set " + applied[i] + ")");
      throw;
    }
  }
}

}  // namespace

std::vector<Category> default_categories() {
  return {{"fresh_produce", 0.15, 0.22, 60.0},
          {"processed_food", 0.20, 0.28, 70.0},
          {"handicrafts", 0.15, 0.35, 120.0},
          {"light_manufacturing", 0.30, 0.20, 90.0},
          {"apparel", 0.20, 0.30, 100.0}};
}

Scenario parse_scenario(const std::string& text, const std::string& file_label,
                        const std::string& dir, const std::vector<std::string>& overrides) {
  const Ctx ctx{file_label};
  Scenario sc;
  sc.path = file_label;
  sc.text = text;
  sc.categories = default_categories();
  require_utf8(text, file_label, "the scenario");
  YAML::Node root = load_single_yaml_document(text, file_label);
  if (!root || root.IsNull()) throw InputError(located(file_label, 0, 0, "the scenario is empty"));
  // `extends: base.yaml`: the base scenario with this file's keys on top (io/extends.cpp).
  if (root.IsMap() && root["extends"]) root = resolve_extends(root, file_label, dir);
  if (!root.IsMap())
    ctx.fail(root, "the scenario must be a map of sections (simulation:, adoption:, ...)");
  std::vector<std::string> valid = kOtherTopKeys;
  for (const auto& s : param_sections()) valid.push_back(s);
  std::set<std::string> seen;
  for (const auto& kv : root) {
    if (!kv.first.IsScalar())
      ctx.fail(kv.first, "keys must be plain names; valid keys: " + join(valid));
    const std::string key = kv.first.Scalar();
    if (!seen.insert(key).second) ctx.fail(kv.first, "key '" + key + "' appears twice");
    const YAML::Node& val = kv.second;
    bool is_section = false;
    for (const auto& s : param_sections()) is_section = is_section || s == key;
    if (is_section) {
      read_section(key, val, sc.params, ctx);
    } else if (key == "name" || key == "description") {
      if (!val.IsScalar()) ctx.fail(val, "key '" + key + "' must be text");
      if (key == "name" &&
          (val.Scalar().find('\n') != std::string::npos || val.Scalar().size() > 200))
        ctx.fail(
            val,
            "key 'name' must be one short line (an unclosed quote swallows the rest of the file)");
      if (key == "name" && val.Scalar().empty())
        ctx.fail(val, "key 'name' must not be empty (it names the output file)");
      (key == "name" ? sc.name : sc.description) = val.Scalar();
    } else if (key == "categories") {
      sc.categories = read_categories(val, ctx);
    } else if (key == "demand_table") {
      sc.demand_table = read_demand_table(val, ctx);
    } else if (key == "interventions") {
      if (!val.IsSequence())
        ctx.fail(val, "key 'interventions' must be a list of {type: ..., ...}");
      read_interventions(sc, val, file_label, overrides);
    } else {
      ctx.fail(kv.first, "unknown key '" + key + "'; valid keys: " + join(valid));
    }
  }
  if (!seen.count("interventions")) read_interventions(sc, YAML::Node(), file_label, overrides);
  for (const auto& ov : overrides) {
    if (!is_intervention_override(ov)) apply_override(sc, ov);
    sc.overrides.push_back(ov);
  }
  for (char& ch : sc.name)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.'))
      ch = '_';
  if (sc.params.geography.source != "generate") {
    std::filesystem::path csv(sc.params.geography.csv);
    sc.csv_path = csv.is_absolute() ? csv.string() : (std::filesystem::path(dir) / csv).string();
  }
  cross_checks(sc, root, ctx);
  return sc;
}

Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  const std::string text = read_input_file(path, "the scenario file", kMaxScenarioBytes);
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return parse_scenario(text, path, dir.empty() ? "." : dir, overrides);
}

std::string resolved_yaml(const Scenario& sc) {
  std::ostringstream os;
  // Quoted when plain YAML would read it as something else ('-', 'null', '~', ...).
  std::string lower = sc.name;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const bool plain = !sc.name.empty() &&
                     (std::isalnum(static_cast<unsigned char>(sc.name[0])) || sc.name[0] == '_') &&
                     lower != "null";
  os << "name: " << (plain ? sc.name : quoted(sc.name)) << "\n";
  if (!sc.description.empty()) {
    YAML::Emitter e;
    e << sc.description;
    os << "description: " << e.c_str() << "\n";
  }
  std::string section;
  for (const auto& spec : param_table()) {
    std::string key = spec.key;
    std::string sec = key.substr(0, key.find('.'));
    if (sec != section) {
      os << sec << ":\n";
      section = sec;
    }
    os << "  " << key.substr(sec.size() + 1) << ": " << param_value_text(spec, sc.params) << "\n";
  }
  os << "categories:\n";
  for (const auto& c : sc.categories)
    os << "  - {name: " << quoted(c.name) << ", share: " << fmt(c.share)
       << ", margin: " << fmt(c.margin) << ", order_value: " << fmt(c.order_value) << "}\n";
  if (!sc.demand_table.empty()) {
    os << "demand_table:\n";
    for (const auto& [y, v] : sc.demand_table) os << "  " << y << ": " << fmt(v) << "\n";
  }
  os << "interventions:" << (sc.interventions.empty() ? " []\n" : "\n");
  for (const auto& iv : sc.interventions) os << "  - " << iv->resolved_yaml() << "\n";
  return os.str();
}

}  // namespace ruralsim
