#pragma once
// The intervention key table: every key of every intervention type with its kind, default,
// range and description. It is built from the types' readers themselves (each type is
// constructed once from an empty entry through an EntryReader that records what it asks for),
// so the constructors stay the one place where a key is defined. From the table come
// `ruralsim interventions [--markdown]` (docs/interventions.md) and the checks of
// `--set interventions.<entry name>.<key>=value`.
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace ruralsim {

struct InterventionKey {
  std::string type, key, kind, def, range, doc;
};
const std::vector<InterventionKey>& intervention_key_table();
std::vector<InterventionKey> intervention_keys(const std::string& type);
std::string interventions_markdown();

// True for an override "interventions.<name>.<key>=value".
bool is_intervention_override(const std::string& ov);
// The name of list entry i: its `name:` or, without one, its type.
std::string intervention_entry_name(const YAML::Node& entry);
// Applies intervention overrides to a copy of the scenario's `interventions` list (which may
// be null): finds the entry by name, checks the key against the table, sets the value.
// InputError naming the override, the entry names or the valid keys. Returns for each entry
// the overrides applied to it (for messages).
std::vector<std::string> apply_intervention_overrides(YAML::Node& list,
                                                      const std::vector<std::string>& overrides);

}  // namespace ruralsim
