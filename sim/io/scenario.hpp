#pragma once
// Scenario files: YAML in, a validated Scenario out. Every scalar goes through the parameter
// table (core/params.hpp); unknown keys, wrong types, out-of-range values and broken
// cross-field rules are InputErrors that name file:line:column, the key path and the valid
// keys or range.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/params.hpp"
#include "model/world.hpp"

namespace ruralsim {

class Intervention;

struct Scenario {
  std::string path;  // scenario file as given
  std::string text;  // input text
  std::string name = "scenario";
  std::string description;
  Params params;
  std::vector<Category> categories;
  std::vector<std::pair<int, double>> demand_table;                // (year, RMB/yr), ascending
  std::vector<std::shared_ptr<const Intervention>> interventions;  // immutable, shared by runs
  std::vector<std::string> overrides;                              // --set key=value, in order
  std::string csv_path;  // geography CSV resolved against the scenario directory
};

std::vector<Category> default_categories();

// Reads and validates a scenario file, then applies `--set key.path=value` overrides.
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides = {});
// Same from text (`file_label` is used in messages; relative CSV paths resolve against `dir`).
Scenario parse_scenario(const std::string& text, const std::string& file_label,
                        const std::string& dir, const std::vector<std::string>& overrides = {});

// The scenario with every default filled in, as YAML.
std::string resolved_yaml(const Scenario& sc);

}  // namespace ruralsim
