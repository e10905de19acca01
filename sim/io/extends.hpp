#pragma once
// Scenario composition: `extends: base.yaml` in a scenario takes the base scenario (itself
// validated first, and possibly extending another) and puts this file's keys on top.
#include <string>

#include <yaml-cpp/yaml.h>

namespace ruralsim {

// The merged scenario map, without `extends`. Rules: parameter sections merge key by key;
// name, description, categories and demand_table replace the base's; an `interventions` entry
// whose name (its `name:`, or its type) is that of a base entry replaces that entry, others are
// appended. The base path is relative to `dir` (the extending file's directory). InputError
// with file:line:column for a missing base, a chain longer than 16 (a cycle), or a base that
// is not valid.
YAML::Node resolve_extends(const YAML::Node& root, const std::string& file_label,
                           const std::string& dir, int unused = 0);

}  // namespace ruralsim
