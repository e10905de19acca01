#include "io/extends.hpp"

#include "io/input_file.hpp"
#include "io/yaml_checks.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/params.hpp"
#include "io/scenario.hpp"
#include "policy/intervention_keys.hpp"

namespace fs = std::filesystem;

namespace ruralsim {
namespace {

constexpr int kMaxDepth = 16;
thread_local int t_depth = 0;  // nesting of resolve_extends (base scenarios being read)
struct DepthGuard {
  DepthGuard() { ++t_depth; }
  ~DepthGuard() { --t_depth; }
};

[[noreturn]] void fail(const std::string& file, const YAML::Node& n, const std::string& msg) {
  const auto m = n.Mark();
  throw InputError(
      located(file, m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1, msg));
}

bool is_section(const std::string& key) {
  for (const auto& spec : param_table())
    if (std::string(spec.key).rfind(key + ".", 0) == 0) return true;
  return false;
}

}  // namespace

YAML::Node resolve_extends(const YAML::Node& root, const std::string& file_label,
                           const std::string& dir, int) {
  const DepthGuard guard;
  const YAML::Node ext = root["extends"];
  if (!ext.IsScalar() || ext.Scalar().empty())
    fail(file_label, ext, "key 'extends' must be the path of a base scenario file");
  if (t_depth > kMaxDepth)
    fail(file_label, ext,
         "key 'extends': more than " + std::to_string(kMaxDepth) +
             " scenarios extend each other (a cycle?)");
  fs::path base = ext.Scalar();
  if (base.is_relative()) base = fs::path(dir) / base;
  std::error_code ec;
  if (!fs::is_regular_file(base, ec))
    fail(file_label, ext,
         "key 'extends' = '" + ext.Scalar() + "': no such scenario file (looked for " +
             base.string() + ")");
  // Special and over-size files are refused before reading; the text is checked as UTF-8 by
  // parse_scenario below.
  const std::string base_text =
      read_input_file(base.string(), "the base scenario", kMaxScenarioBytes);
  const std::string base_label = base.lexically_normal().string();
  const std::string base_dir = base.parent_path().empty() ? "." : base.parent_path().string();
  try {  // the base must be a valid scenario by itself (messages point into its file)
    parse_scenario(base_text, base_label, base_dir);
  } catch (const InputError& e) {
    throw InputError(located(file_label, ext.Mark().line + 1, ext.Mark().column + 1,
                             "the base scenario is not valid: ") +
                     e.what());
  }
  YAML::Node b = load_single_yaml_document(base_text, base_label);
  if (!b || !b.IsMap())
    throw InputError(located(base_label, 1, 1, "a base scenario must be a map of sections"));
  if (b["extends"]) b = resolve_extends(b, base_label, base_dir);
  YAML::Node out = YAML::Clone(b);
  for (const auto& kv : root) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (key == "extends") continue;
    if (is_section(key) && kv.second.IsMap() && out[key] && out[key].IsMap()) {
      // the child's key nodes are kept (not copies), so messages point into the child file
      YAML::Node sec = out[key];
      for (const auto& item : kv.second) {
        if (item.first.IsScalar()) sec.remove(item.first.Scalar());
        sec[item.first] = item.second;
      }
    } else if (key == "interventions" && kv.second.IsSequence() && out[key] &&
               out[key].IsSequence()) {
      YAML::Node list = out[key];
      for (const auto& it : kv.second) {
        const YAML::Node& entry = it;
        const std::string name = intervention_entry_name(entry);
        bool replaced = false;
        for (std::size_t i = 0; i < list.size() && !replaced; ++i)
          if (!name.empty() && intervention_entry_name(list[i]) == name) {
            list[i] = entry;
            replaced = true;
          }
        if (!replaced) list.push_back(entry);
      }
    } else {
      out.remove(key);
      out[kv.first] = kv.second;
    }
  }
  return out;
}

}  // namespace ruralsim
