#include "policy/intervention.hpp"
#include "core/format.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace ruralsim {

EntryReader::EntryReader(const YAML::Node& node, std::string file, std::string where)
    : node_(node), file_(std::move(file)), where_(std::move(where)) {}

std::string EntryReader::origin() const {
  const auto m = node_.Mark();
  return located(file_, m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1, where_);
}

void EntryReader::fail(const char* key, const std::string& msg) const {
  YAML::Node n = (key && node_[key]) ? node_[key] : node_;
  const auto m = n.Mark();
  throw InputError(
      located(file_, m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1,
              "key '" + where_ + (key ? std::string(".") + key : std::string()) + "': " + msg));
}

bool EntryReader::has(const char* key) const {
  // A key read and then tested for presence is optional: absent, it changes nothing.
  for (auto& k : keys_)
    if (k.key == key) {
      k.def = "unchanged";
      if (!node_[key]) k.value = "unchanged";
    }
  return static_cast<bool>(node_[key]);
}

double EntryReader::real(const char* key, double def, double min, double max, const char* doc) {
  asked_.emplace_back(key);
  keys_.push_back({key, "number", num(def), "[" + num(min) + ", " + num(max) + "]", doc, num(def)});
  const YAML::Node n = node_[key];
  if (!n) return def;
  double v = 0;
  if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v))
    fail(key, std::string("is not a finite number (") + doc + ")");
  if (v < min || v > max) {
    std::ostringstream os;
    os << "value " << n.Scalar() << " is out of range; valid range [" << min << ", " << max << "] ("
       << doc << ")";
    fail(key, os.str());
  }
  keys_.back().value = num(v);
  return v;
}

std::int64_t EntryReader::integer(const char* key, std::int64_t def, std::int64_t min,
                                  std::int64_t max, const char* doc) {
  const double v =
      real(key, static_cast<double>(def), static_cast<double>(min), static_cast<double>(max), doc);
  if (v != std::floor(v)) fail(key, "must be a whole number");
  keys_.back().kind = "integer";
  return static_cast<std::int64_t>(v);
}

std::vector<std::int64_t> EntryReader::id_list(const char* key, const char* doc) {
  asked_.emplace_back(key);
  keys_.push_back({key, "id list", "[]", "county ids", doc, "[]"});
  const YAML::Node n = node_[key];
  std::vector<std::int64_t> out;
  if (!n) return out;
  if (!n.IsSequence()) fail(key, "must be a list of county ids, e.g. [3, 17]");
  for (const auto& e : n) {
    std::int64_t id = 0;
    if (!e.IsScalar() || !YAML::convert<std::int64_t>::decode(e, id))
      fail(key, "holds '" + (e.IsScalar() ? e.Scalar() : std::string("?")) + "', not a county id");
    out.push_back(id);
  }
  std::string text;
  for (auto id : out) text += (text.empty() ? "" : ", ") + num(id);
  keys_.back().value = "[" + text + "]";
  return out;
}

std::string EntryReader::choice(const char* key, const std::string& def,
                                const std::vector<std::string>& valid, const char* doc) {
  asked_.emplace_back(key);
  std::string choices;
  for (const auto& v : valid) choices += (choices.empty() ? "" : ", ") + v;
  keys_.push_back({key, "choice", def, choices, doc, def});
  const YAML::Node n = node_[key];
  if (!n) return def;
  const std::string s = n.IsScalar() ? n.Scalar() : "";
  if (std::find(valid.begin(), valid.end(), s) == valid.end()) {
    std::string all;
    for (const auto& v : valid) all += (all.empty() ? "" : ", ") + v;
    fail(key, "value '" + s + "' is not valid; valid choices: " + all);
  }
  keys_.back().value = s;
  return s;
}

std::string EntryReader::text(const char* key, const std::string& def, const char* doc) {
  asked_.emplace_back(key);
  keys_.push_back({key, "text", "\"" + def + "\"", "text", doc, "\"" + def + "\""});
  const YAML::Node n = node_[key];
  if (!n) return def;
  if (!n.IsScalar()) fail(key, std::string("must be text (") + doc + ")");
  keys_.back().value = "\"" + n.Scalar() + "\"";
  return n.Scalar();
}

void EntryReader::finish() {
  for (const auto& kv : node_) {
    const std::string k = kv.first.Scalar();
    if (k == "type" || k == "name") continue;
    if (std::find(asked_.begin(), asked_.end(), k) == asked_.end()) {
      std::string all = "type";
      for (const auto& a : asked_) all += ", " + a;
      all += ", name";
      const auto m = kv.first.Mark();
      throw InputError(located(file_, m.line + 1, m.column + 1,
                               "unknown key '" + where_ + "." + k + "'; valid keys: " + all));
    }
  }
}

Targeting Targeting::read(EntryReader& r) {
  Targeting t;
  t.counties = r.id_list("counties");
  t.rule = r.choice("rule", t.counties.empty() ? "all" : "ids",
                    {"all", "ids", "poorest", "highest_potential", "random", "poverty_listed"},
                    "placement rule: which counties the entry targets");
  t.count =
      r.integer("count", 0, 0, 10000000, "number of counties the rule picks; 0 = all that qualify");
  if (t.rule == "ids" && t.counties.empty()) r.fail("rule", "is 'ids' but 'counties' lists none");
  if (t.rule != "ids" && !t.counties.empty())
    r.fail("counties", "is given, so 'rule' must be 'ids' (or left out)");
  return t;
}

std::vector<Id> Targeting::resolve(const World& w, std::uint64_t seed, std::uint64_t salt) const {
  const auto& g = w.geo;
  const std::size_t nc = g.counties();
  std::vector<Id> out;
  if (rule == "ids") {
    for (auto code : counties) {
      auto it = std::find(g.county_code.begin(), g.county_code.end(), code);
      if (it == g.county_code.end()) {
        std::string valid;
        for (std::size_t c = 0; c < nc && c < 20; ++c)
          valid += (c ? ", " : "") + std::to_string(g.county_code[c]);
        if (nc > 20) valid += ", ... (" + std::to_string(nc) + " counties)";
        throw InputError("county id " + std::to_string(code) +
                         " does not exist; valid ids: " + valid);
      }
      out.push_back(static_cast<Id>(it - g.county_code.begin()));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
  // Score counties; lower score is picked first.
  std::vector<double> score(nc, 0.0), hh(nc, 0.0);
  for (std::size_t v = 0; v < g.villages(); ++v) hh[g.village_county[v]] += g.households[v];
  for (std::size_t c = 0; c < nc; ++c) {
    double inc = 0, pot = 0;
    for (auto v = g.county_village_begin[c]; v < g.county_village_end[c]; ++v) {
      inc += g.base_income[v] * g.households[v];
      pot += g.strength[v] * g.households[v];
    }
    if (rule == "poorest" || rule == "poverty_listed")
      score[c] = hh[c] > 0 ? inc / hh[c] : 0;
    else if (rule == "highest_potential")
      score[c] = -(hh[c] > 0 ? pot / hh[c] : 0);
    else if (rule == "random")
      score[c] = Stream(seed, Purpose::Intervention, salt, c).uniform();
    else
      score[c] = static_cast<double>(c);
  }
  std::vector<Id> order;
  for (std::size_t c = 0; c < nc; ++c)
    if (rule != "poverty_listed" || g.county_poverty[c]) order.push_back(static_cast<Id>(c));
  std::stable_sort(order.begin(), order.end(), [&](Id a, Id b) { return score[a] < score[b]; });
  if (count > 0 && static_cast<std::size_t>(count) < order.size())
    order.resize(static_cast<std::size_t>(count));
  // Kept in priority order (poorest first, ...): programmes that build a few places a year
  // build them in this order.
  return order;
}

std::string Targeting::yaml() const {
  std::ostringstream os;
  if (rule == "ids") {
    os << "counties: [";
    for (std::size_t i = 0; i < counties.size(); ++i) os << (i ? ", " : "") << num(counties[i]);
    os << "]";
  } else {
    os << "rule: " << rule << ", count: " << count;
  }
  return os.str();
}

std::string Intervention::resolved_yaml() const {
  std::string y = yaml();
  if (name == type() || y.empty() || y[0] != '{') return y;
  return "{name: " + name + ", " + y.substr(1);
}

std::unique_ptr<Intervention> make_intervention(const YAML::Node& entry, const std::string& file,
                                                int index) {
  const std::string where = "interventions[" + std::to_string(index) + "]";
  auto fail = [&](const YAML::Node& n, const std::string& msg) {
    const auto m = n.Mark();
    throw InputError(
        located(file, m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1, msg));
  };
  std::string names;
  for (const auto& t : intervention_registry())
    names += (names.empty() ? "" : ", ") + std::string(t.name);
  if (!entry.IsMap())
    fail(entry, "key '" + where + "' must be a map with a 'type' (one of " + names + ")");
  if (!entry["type"] || !entry["type"].IsScalar())
    fail(entry, "key '" + where + ".type' is missing; valid types: " + names);
  const std::string type = entry["type"].Scalar();
  for (const auto& t : intervention_registry()) {
    if (type != t.name) continue;
    EntryReader r(entry, file, where);
    std::string name = type;
    if (entry["name"]) {
      const YAML::Node n = entry["name"];
      if (!n.IsScalar() || n.Scalar().empty() ||
          n.Scalar().find_first_of(".= \t\n") != std::string::npos)
        fail(n, "key '" + where + ".name' must be a word without '.', '=' or spaces");
      name = n.Scalar();
    }
    auto iv = t.make(r);
    r.finish();
    iv->index = index;
    iv->origin = r.origin();
    iv->name = name;
    iv->keys = r.keys();
    return iv;
  }
  fail(entry["type"],
       "key '" + where + ".type' = '" + type + "' is not known; valid types: " + names);
  return nullptr;
}

}  // namespace ruralsim
