// Reading sweep files (docs/sweeps.md) with located errors, and expanding them into arms.
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/format.hpp"
#include "core/params.hpp"
#include "io/input_file.hpp"
#include "policy/intervention.hpp"
#include "policy/intervention_keys.hpp"
#include "sweep/sweep.hpp"

namespace ruralsim {
namespace {

const std::vector<std::string> kTopKeys = {"name",        "description", "base",  "replicates",
                                           "master_seed", "baseline",    "set",   "interventions",
                                           "arms",        "grid",        "design"};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

struct Reader {
  std::string file;
  [[noreturn]] void fail(const YAML::Node& n, const std::string& msg) const {
    const auto m = n.Mark();
    throw InputError(
        located(file, m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1, msg));
  }
  std::string loc(const YAML::Node& n) const {
    const auto m = n.Mark();
    return located(file, m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1, "");
  }
  std::int64_t integer(const YAML::Node& n, const std::string& key, std::int64_t lo,
                       std::int64_t hi) const {
    std::int64_t v = 0;
    double d = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, d) || d != std::floor(d) || d < lo ||
        d > hi || !YAML::convert<std::int64_t>::decode(n, v))
      fail(n, "key '" + key + "' must be a whole number in [" + num(lo) + ", " + num(hi) + "]");
    return v;
  }
  std::string text(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar() || n.Scalar().empty()) fail(n, "key '" + key + "' must be text");
    return n.Scalar();
  }
  // A dotted path a sweep may vary: a parameter of the table or interventions.<name>.<key>.
  void check_path(const YAML::Node& n, const std::string& where) const {
    const std::string path = n.Scalar();
    if (is_intervention_override(path)) {
      if (std::count(path.begin(), path.end(), '.') < 2)
        fail(n, "key '" + where + "': '" + path +
                    "' must be interventions.<entry name>.<key>, e.g. "
                    "interventions.rural_commissioner.tau");
      return;
    }
    if (find_param(path)) return;
    if (path == "simulation.seed" || path == "simulation.replicate") return;
    const std::string sec = path.substr(0, path.find('.'));
    std::vector<std::string> valid;
    for (const auto& s : param_table())
      if (std::string(s.key).rfind(sec + ".", 0) == 0) valid.push_back(s.key);
    fail(n, "key '" + where + "': unknown parameter '" + path + "'; " +
                (valid.empty() ? std::string("valid: a parameter of `ruralsim params` or "
                                             "interventions.<entry name>.<key>")
                               : "valid keys: " + join(valid)));
  }
  // `set:` map: dotted path -> scalar value.
  std::vector<std::pair<std::string, std::string>> settings(const YAML::Node& n,
                                                            const std::string& where) const {
    if (!n.IsMap()) fail(n, "key '" + where + "' must be a map of parameter: value");
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& kv : n) {
      check_path(kv.first, where);
      if (!kv.second.IsScalar())
        fail(kv.second, "key '" + where + "." + kv.first.Scalar() + "' takes a single value");
      if (kv.first.Scalar() == "simulation.seed" || kv.first.Scalar() == "simulation.replicate")
        fail(kv.first, "key '" + where + "." + kv.first.Scalar() +
                           "': seeds come from master_seed and the replicate number");
      out.emplace_back(kv.first.Scalar(), kv.second.Scalar());
    }
    return out;
  }
};

std::string emit(const YAML::Node& n) {
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

// Value of a design point in [lo, hi]: whole-number parameters are rounded.
std::string design_value(const std::string& path, double lo, double hi, double u) {
  const double x = lo + u * (hi - lo);
  if (const ParamSpec* s = find_param(path)) {
    Params p;
    if (std::holds_alternative<std::int64_t*>(s->ref(p)))
      return num(static_cast<std::int64_t>(std::llround(x)));
  }
  return num(x);
}

}  // namespace

SweepSpec read_sweep(const std::string& path) {
  const Reader rd{path};
  SweepSpec sp;
  sp.path = path;
  sp.text = read_input_file(path, "a sweep file", kMaxScenarioBytes);
  require_utf8(sp.text, path, "the sweep file");
  YAML::Node root;
  try {
    root = YAML::Load(sp.text);
  } catch (const YAML::Exception& e) {
    throw InputError(located(path, e.mark.line + 1, e.mark.column + 1, "not valid YAML: " + e.msg));
  }
  if (!root || !root.IsMap()) throw InputError(located(path, 1, 1, "a sweep file is a map"));
  std::set<std::string> seen;
  for (const auto& kv : root) {
    const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (std::find(kTopKeys.begin(), kTopKeys.end(), k) == kTopKeys.end())
      rd.fail(kv.first, "unknown key '" + k + "'; valid keys: " + join(kTopKeys));
    if (!seen.insert(k).second) rd.fail(kv.first, "key '" + k + "' appears twice");
  }
  sp.name =
      root["name"] ? rd.text(root["name"], "name") : std::filesystem::path(path).stem().string();
  for (char& ch : sp.name)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.'))
      ch = '_';
  if (!root["base"])
    throw InputError(located(path, 1, 1, "key 'base' (the base scenario file) is missing"));
  {
    const std::string b = rd.text(root["base"], "base");
    std::filesystem::path bp(b);
    if (bp.is_relative()) bp = std::filesystem::path(path).parent_path() / bp;
    try {
      require_regular_file(bp.string(), "a scenario file");
    } catch (const InputError& e) {
      rd.fail(root["base"], "key 'base' = '" + escape_bytes(b) + "': " + e.what());
    }
    sp.base = bp.lexically_normal().string();
  }
  if (root["replicates"]) sp.replicates = rd.integer(root["replicates"], "replicates", 1, 100000);
  if (root["master_seed"])
    sp.master_seed = rd.integer(root["master_seed"], "master_seed", 0, 9000000000000000000LL);
  std::vector<std::pair<std::string, std::string>> common;
  if (root["set"]) common = rd.settings(root["set"], "set");
  std::string common_iv;
  // Intervention entries are checked here, so that errors point into the sweep file.
  auto check_entries = [&](const YAML::Node& list) {
    for (std::size_t i = 0; i < list.size(); ++i)
      make_intervention(list[i], path, static_cast<int>(i));
  };
  if (root["interventions"]) {
    if (!root["interventions"].IsSequence())
      rd.fail(root["interventions"], "key 'interventions' must be a list of {type: ..., ...}");
    check_entries(root["interventions"]);
    common_iv = emit(root["interventions"]);
  }
  const int kinds = (root["arms"] ? 1 : 0) + (root["grid"] ? 1 : 0) + (root["design"] ? 1 : 0);
  if (kinds != 1)
    throw InputError(located(path, 1, 1,
                             "give exactly one of 'arms' (a list of named arms), 'grid' (values "
                             "per parameter) or 'design' (lhs or sobol over ranges)"));
  auto add_common = [&](ArmSpec& a) {
    a.set.insert(a.set.begin(), common.begin(), common.end());
    a.interventions_yaml = common_iv;
  };
  if (root["arms"]) {
    sp.kind = "arms";
    const YAML::Node arms = root["arms"];
    if (!arms.IsSequence() || arms.size() == 0)
      rd.fail(arms, "key 'arms' must be a non-empty list of {name, set, interventions}");
    std::set<std::string> names;
    for (std::size_t i = 0; i < arms.size(); ++i) {
      const YAML::Node a = arms[i];
      const std::string where = "arms[" + std::to_string(i) + "]";
      if (!a.IsMap()) rd.fail(a, "key '" + where + "' must be a map {name, set, interventions}");
      for (const auto& kv : a) {
        const std::string k = kv.first.Scalar();
        if (k != "name" && k != "set" && k != "interventions")
          rd.fail(kv.first,
                  "unknown key '" + where + "." + k + "'; valid keys: name, set, interventions");
      }
      if (!a["name"]) rd.fail(a, "key '" + where + ".name' is missing");
      ArmSpec arm;
      arm.name = rd.text(a["name"], where + ".name");
      if (arm.name.find_first_of(" \t/\\") != std::string::npos)
        rd.fail(a["name"], "key '" + where + ".name' must not contain spaces or slashes");
      if (!names.insert(arm.name).second)
        rd.fail(a["name"], "arm name '" + arm.name + "' appears twice");
      arm.origin = rd.loc(a);
      add_common(arm);
      if (a["set"]) {
        auto s = rd.settings(a["set"], where + ".set");
        arm.set.insert(arm.set.end(), s.begin(), s.end());
      }
      if (a["interventions"]) {
        if (!a["interventions"].IsSequence())
          rd.fail(a["interventions"], "key '" + where + ".interventions' must be a list");
        check_entries(a["interventions"]);
        YAML::Node all = common_iv.empty() ? YAML::Node(YAML::NodeType::Sequence)
                                           : YAML::Clone(root["interventions"]);
        for (const auto& e : a["interventions"]) all.push_back(e);
        arm.interventions_yaml = emit(all);
      }
      sp.arms.push_back(arm);
    }
  } else if (root["grid"]) {
    sp.kind = "grid";
    const YAML::Node g = root["grid"];
    if (!g.IsMap() || g.size() == 0)
      rd.fail(g, "key 'grid' must be a map of parameter: [values], e.g. adoption.beta: [4, 6]");
    std::vector<std::pair<std::string, std::vector<std::string>>> axes;
    for (const auto& kv : g) {
      rd.check_path(kv.first, "grid");
      const std::string k = kv.first.Scalar();
      if (!kv.second.IsSequence() || kv.second.size() == 0)
        rd.fail(kv.second, "key 'grid." + k + "' must be a non-empty list of values");
      std::vector<std::string> vals;
      for (const auto& v : kv.second) {
        if (!v.IsScalar()) rd.fail(v, "key 'grid." + k + "' holds a value that is not a scalar");
        vals.push_back(v.Scalar());
      }
      axes.emplace_back(k, vals);
    }
    std::size_t total = 1;
    for (const auto& a : axes) total *= a.second.size();
    if (total > 100000)
      rd.fail(g, "the grid has " + std::to_string(total) + " arms (limit 100000)");
    for (std::size_t i = 0; i < total; ++i) {
      ArmSpec arm;
      arm.origin = rd.loc(g);
      add_common(arm);
      std::size_t rest = i;
      std::vector<std::pair<std::string, std::string>> vals(axes.size());
      for (std::size_t d = axes.size(); d-- > 0;) {  // last axis varies fastest
        vals[d] = {axes[d].first, axes[d].second[rest % axes[d].second.size()]};
        rest /= axes[d].second.size();
      }
      for (const auto& [k, v] : vals) {
        arm.name += (arm.name.empty() ? "" : ",") + k.substr(k.rfind('.') + 1) + "=" + v;
        arm.set.emplace_back(k, v);
      }
      sp.arms.push_back(arm);
    }
  } else {
    sp.kind = "design";
    const YAML::Node d = root["design"];
    if (!d.IsMap()) rd.fail(d, "key 'design' must be a map {method, points, ranges}");
    for (const auto& kv : d) {
      const std::string k = kv.first.Scalar();
      if (k != "method" && k != "points" && k != "ranges" && k != "seed")
        rd.fail(kv.first,
                "unknown key 'design." + k + "'; valid keys: method, points, ranges, seed");
    }
    if (!d["method"] || !d["method"].IsScalar() ||
        (d["method"].Scalar() != "lhs" && d["method"].Scalar() != "sobol"))
      rd.fail(d["method"] ? d["method"] : d, "key 'design.method' must be one of: lhs, sobol");
    const std::string method = d["method"].Scalar();
    if (!d["points"]) rd.fail(d, "key 'design.points' (number of points) is missing");
    const auto n = static_cast<std::size_t>(rd.integer(d["points"], "design.points", 1, 100000));
    const std::uint64_t seed = d["seed"] ? static_cast<std::uint64_t>(rd.integer(
                                               d["seed"], "design.seed", 0, 9000000000000000000LL))
                                         : static_cast<std::uint64_t>(sp.master_seed);
    const YAML::Node r = d["ranges"];
    if (!r || !r.IsMap() || r.size() == 0)
      rd.fail(r ? r : d, "key 'design.ranges' must be a map of parameter: [low, high]");
    std::vector<std::tuple<std::string, double, double>> dims;
    for (const auto& kv : r) {
      rd.check_path(kv.first, "design.ranges");
      const std::string k = kv.first.Scalar();
      double lo = 0, hi = 0;
      if (!kv.second.IsSequence() || kv.second.size() != 2 ||
          !YAML::convert<double>::decode(kv.second[0], lo) ||
          !YAML::convert<double>::decode(kv.second[1], hi) || !std::isfinite(lo) ||
          !std::isfinite(hi) || !(lo <= hi))
        rd.fail(kv.second, "key 'design.ranges." + k + "' must be [low, high] with low <= high");
      dims.emplace_back(k, lo, hi);
    }
    if (method == "sobol" && dims.size() > kSobolMaxDims)
      rd.fail(r, "a Sobol design supports at most " + std::to_string(kSobolMaxDims) +
                     " parameters; this one has " + std::to_string(dims.size()));
    const auto pts =
        method == "lhs" ? latin_hypercube(n, dims.size(), seed) : sobol_points(n, dims.size());
    for (std::size_t i = 0; i < n; ++i) {
      ArmSpec arm;
      char buf[32];
      std::snprintf(buf, sizeof buf, "p%03zu", i);
      arm.name = buf;
      arm.origin = rd.loc(d);
      add_common(arm);
      for (std::size_t k = 0; k < dims.size(); ++k) {
        const auto& [key, lo, hi] = dims[k];
        arm.set.emplace_back(key, design_value(key, lo, hi, pts[i][k]));
      }
      sp.arms.push_back(arm);
    }
  }
  sp.baseline = sp.arms.front().name;
  if (root["baseline"]) {
    sp.baseline = rd.text(root["baseline"], "baseline");
    bool found = false;
    std::vector<std::string> names;
    for (const auto& a : sp.arms) {
      found = found || a.name == sp.baseline;
      if (names.size() < 20) names.push_back(a.name);
    }
    if (!found)
      rd.fail(root["baseline"],
              "key 'baseline' = '" + sp.baseline + "' is not an arm; arms: " + join(names));
  }
  return sp;
}

}  // namespace ruralsim
