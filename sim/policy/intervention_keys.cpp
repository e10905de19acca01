#include "policy/intervention_keys.hpp"

#include <set>
#include <sstream>

#include "core/error.hpp"
#include "policy/intervention.hpp"

namespace ruralsim {

const std::vector<InterventionKey>& intervention_key_table() {
  static const std::vector<InterventionKey> table = [] {
    std::vector<InterventionKey> out;
    for (const auto& t : intervention_registry()) {
      YAML::Node n(YAML::NodeType::Map);
      n["type"] = t.name;
      EntryReader r(n, "(intervention key table)", t.name);
      t.make(r);
      out.push_back(
          {t.name, "name", "text", t.name, "a word",
           "name of the entry, for --set interventions.<name>.<key> (default: the type)"});
      for (const auto& k : r.keys()) out.push_back({t.name, k.key, k.kind, k.def, k.range, k.doc});
    }
    return out;
  }();
  return table;
}

std::vector<InterventionKey> intervention_keys(const std::string& type) {
  std::vector<InterventionKey> out;
  for (const auto& k : intervention_key_table())
    if (k.type == type) out.push_back(k);
  return out;
}

std::string interventions_markdown() {
  std::ostringstream os;
  for (const auto& t : intervention_registry()) {
    os << "\n## `" << t.name << "`\n\n" << t.doc << "\n\n";
    os << "| key | kind | default | valid | meaning |\n|---|---|---|---|---|\n";
    for (const auto& k : intervention_keys(t.name))
      os << "| `" << k.key << "` | " << k.kind << " | " << k.def << " | " << k.range << " | "
         << k.doc << " |\n";
  }
  return os.str();
}

bool is_intervention_override(const std::string& ov) {
  return ov.rfind("interventions.", 0) == 0;
}

std::string intervention_entry_name(const YAML::Node& entry) {
  if (entry.IsMap() && entry["name"] && entry["name"].IsScalar()) return entry["name"].Scalar();
  if (entry.IsMap() && entry["type"] && entry["type"].IsScalar()) return entry["type"].Scalar();
  return "";
}

std::vector<std::string> apply_intervention_overrides(YAML::Node& list,
                                                      const std::vector<std::string>& overrides) {
  std::vector<std::string> applied(list && list.IsSequence() ? list.size() : 0);
  for (const auto& ov : overrides) {
    if (!is_intervention_override(ov)) continue;
    const auto eq = ov.find('=');
    const std::string path = ov.substr(0, eq == std::string::npos ? ov.size() : eq);
    const auto dot = path.find('.', 14);
    if (eq == std::string::npos || dot == std::string::npos || dot + 1 >= path.size())
      throw InputError("--set '" + ov +
                       "': expected interventions.<entry name>.<key>=value, e.g. "
                       "interventions.rural_commissioner.tau=0.8");
    const std::string name = path.substr(14, dot - 14), key = path.substr(dot + 1);
    const std::string value = ov.substr(eq + 1);
    std::string names;
    int found = -1, count = 0;
    for (std::size_t i = 0; list && list.IsSequence() && i < list.size(); ++i) {
      const std::string n = intervention_entry_name(list[i]);
      names += (names.empty() ? "" : ", ") + n;
      if (n == name) {
        found = static_cast<int>(i);
        ++count;
      }
    }
    if (found < 0)
      throw InputError("--set '" + ov + "': no intervention entry named '" + name +
                       "'; entries: " + (names.empty() ? "(none)" : names));
    if (count > 1)
      throw InputError("--set '" + ov + "': " + std::to_string(count) + " entries are named '" +
                       name + "'; give them distinct `name:` keys");
    YAML::Node entry = list[static_cast<std::size_t>(found)];
    const std::string type = entry["type"] ? entry["type"].Scalar() : "";
    const auto keys = intervention_keys(type);
    std::string valid;
    bool ok = false;
    for (const auto& k : keys) {
      if (k.key == "name") continue;
      valid += (valid.empty() ? "" : ", ") + k.key;
      ok = ok || k.key == key;
    }
    if (!ok)
      throw InputError("--set '" + ov + "': type " + type + " has no key '" + key +
                       "'; valid keys: " + valid);
    YAML::Node v;
    try {
      v = YAML::Load(value);
    } catch (const YAML::Exception&) {
      v = YAML::Node(value);
    }
    // A scalar is rebuilt without a position: messages then name the --set, not a line.
    if (!v || v.IsNull() || v.IsScalar()) v = YAML::Node(value);
    entry[key] = v;
    applied[static_cast<std::size_t>(found)] +=
        (applied[static_cast<std::size_t>(found)].empty() ? "" : " ") + ov;
  }
  return applied;
}

}  // namespace ruralsim
