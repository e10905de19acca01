// Planning a sweep: every run composed, validated and written to the sweep directory.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "build_info.hpp"
#include "core/error.hpp"
#include "core/format.hpp"
#include "core/sha256.hpp"
#include "git_info.hpp"
#include "io/input_file.hpp"
#include "io/scenario.hpp"
#include "policy/intervention.hpp"
#include "run/simulation.hpp"
#include "sweep/sweep.hpp"

namespace fs = std::filesystem;

namespace ruralsim {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error(tmp.string() + ": cannot write");
  }
  fs::rename(tmp, path);
}

// What determines the geography: the geography.* parameters and, for a CSV table, its bytes.
std::string geography_key(const Scenario& sc) {
  std::string text;
  for (const auto& spec : param_table())
    if (std::string(spec.key).rfind("geography.", 0) == 0 &&
        std::string(spec.key) != "geography.csv")
      text += std::string(spec.key) + "=" + param_value_text(spec, sc.params) + "\n";
  if (sc.params.geography.source == "csv") text += "csv=" + sha256_hex(read_file(sc.csv_path));
  return sha256_hex(text);
}

// The scenario text of one arm: the base scenario with the sweep's and the arm's intervention
// entries appended and the run's name.
std::string compose_text(const SweepSpec& sp, const ArmSpec& arm, const std::string& base_text) {
  YAML::Node root = YAML::Load(base_text);
  if (!arm.interventions_yaml.empty()) {
    YAML::Node extra = YAML::Load(arm.interventions_yaml);
    YAML::Node list = root["interventions"] && root["interventions"].IsSequence()
                          ? root["interventions"]
                          : YAML::Node(YAML::NodeType::Sequence);
    for (const auto& e : extra) list.push_back(e);
    root["interventions"] = list;
  }
  root["name"] = sp.name + "." + arm.name;
  YAML::Emitter e;
  e << root;
  return std::string(e.c_str()) + "\n";
}

std::string tsv_escape(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n') c = ' ';
  return s;
}

const char* const kManifestHeader =
    "run_id\tarm\treplicate\tseed\tvalues\tscenario_hash\tgeography_hash\toutput\tscenario\n";

}  // namespace

SweepPlan plan_sweep(const std::string& sweep_file, const std::string& dir) {
  const SweepSpec sp = read_sweep(sweep_file);
  const std::string base_text = read_input_file(sp.base, "a scenario file", kMaxScenarioBytes);
  const std::string base_dir = fs::absolute(sp.base).lexically_normal().parent_path();
  SweepPlan plan;
  plan.dir = dir;
  plan.name = sp.name;
  plan.baseline = sp.baseline;
  plan.scenario_dir = base_dir;
  if (fs::exists(fs::path(dir) / "plan.yaml")) {
    std::string old;
    try {
      old = read_file((fs::path(dir) / "sweep.yaml").string());
    } catch (const InputError&) {
    }
    if (old != sp.text || read_file((fs::path(dir) / "inputs" / "base.yaml").string()) != base_text)
      throw InputError(dir + ": holds the plan of another sweep (or of an earlier version of " +
                       sweep_file + "); choose another --out");
  }
  std::map<std::string, std::shared_ptr<World>> worlds;  // by geography key
  std::map<std::string, std::string> resolved;           // run id -> resolved scenario
  for (std::size_t a = 0; a < sp.arms.size(); ++a) {
    const ArmSpec& arm = sp.arms[a];
    const std::string text = compose_text(sp, arm, base_text);
    for (std::int64_t r = 0; r < sp.replicates; ++r) {
      std::vector<std::string> sets;
      std::string values;
      for (const auto& [k, v] : arm.set) {
        sets.push_back(k + "=" + v);
        values += (values.empty() ? "" : "; ") + k + "=" + v;
      }
      sets.push_back("simulation.seed=" + std::to_string(sp.master_seed));
      sets.push_back("simulation.replicate=" + std::to_string(r));
      Scenario sc;
      PlannedRun pr;
      char id[32];
      std::snprintf(id, sizeof id, "r%04zu", plan.runs.size());
      pr.id = id;
      try {
        sc = parse_scenario(text, sp.base + " (arm '" + arm.name + "')", base_dir, sets);
        pr.geography_hash = geography_key(sc);
        auto& w = worlds[pr.geography_hash];
        if (!w) w = std::make_shared<World>(build_world(sc));
        for (const auto& iv : sc.interventions) iv->initialize(*w, sc.params, run_seed(sc.params));
      } catch (const InputError& e) {
        throw InputError(arm.origin + "arm '" + arm.name + "': " + e.what());
      }
      pr.arm = arm.name;
      pr.replicate = r;
      pr.seed = sp.master_seed;
      pr.values = values;
      const std::string res = resolved_yaml(sc);
      pr.scenario_hash = sha256_hex(res);
      pr.output = "runs/" + pr.id + ".h5";
      pr.scenario_file = "scenarios/" + pr.id + ".yaml";
      resolved[pr.id] = res;
      plan.runs.push_back(pr);
    }
  }
  fs::create_directories(fs::path(dir) / "scenarios");
  fs::create_directories(fs::path(dir) / "runs");
  fs::create_directories(fs::path(dir) / "inputs");
  write_file(fs::path(dir) / "sweep.yaml", sp.text);
  write_file(fs::path(dir) / "inputs" / "base.yaml", base_text);
  for (const auto& [id, text] : resolved)
    write_file(fs::path(dir) / "scenarios" / (id + ".yaml"), text);
  std::ostringstream m;
  m << kManifestHeader;
  for (const auto& r : plan.runs)
    m << r.id << '\t' << tsv_escape(r.arm) << '\t' << r.replicate << '\t' << r.seed << '\t'
      << tsv_escape(r.values) << '\t' << r.scenario_hash << '\t' << r.geography_hash << '\t'
      << r.output << '\t' << r.scenario_file << '\n';
  write_file(fs::path(dir) / "manifest.tsv", m.str());
  YAML::Emitter e;
  e << YAML::BeginMap << YAML::Key << "name" << YAML::Value << sp.name << YAML::Key << "kind"
    << YAML::Value << sp.kind << YAML::Key << "baseline" << YAML::Value << sp.baseline << YAML::Key
    << "sweep_file" << YAML::Value << fs::absolute(sweep_file).string() << YAML::Key
    << "base_scenario" << YAML::Value << fs::absolute(sp.base).lexically_normal().string()
    << YAML::Key << "scenario_dir" << YAML::Value << base_dir << YAML::Key << "arms" << YAML::Value
    << sp.arms.size() << YAML::Key << "replicates" << YAML::Value << sp.replicates << YAML::Key
    << "master_seed" << YAML::Value << sp.master_seed << YAML::Key << "runs" << YAML::Value
    << plan.runs.size() << YAML::Key << "ruralsim_version" << YAML::Value << build::kVersion
    << YAML::Key << "git_commit" << YAML::Value << build::kGitCommit << YAML::EndMap;
  write_file(fs::path(dir) / "plan.yaml", std::string(e.c_str()) + "\n");
  return plan;
}

SweepPlan load_plan(const std::string& dir) {
  const fs::path p(dir);
  if (!fs::is_directory(p)) throw InputError(dir + ": no such sweep directory");
  if (!fs::exists(p / "plan.yaml") || !fs::exists(p / "manifest.tsv"))
    throw InputError(dir +
                     ": not a sweep directory (no plan.yaml / manifest.tsv); make one with "
                     "`ruralsim sweep plan SWEEP.yaml --out " +
                     dir + "`");
  SweepPlan plan;
  plan.dir = dir;
  YAML::Node y;
  try {
    y = YAML::LoadFile((p / "plan.yaml").string());
    plan.name = y["name"].as<std::string>();
    plan.baseline = y["baseline"].as<std::string>();
    plan.scenario_dir = y["scenario_dir"].as<std::string>();
  } catch (const YAML::Exception& e) {
    throw InputError((p / "plan.yaml").string() + ": damaged (" + e.msg + ")");
  }
  std::istringstream in(read_file((p / "manifest.tsv").string()));
  std::string line;
  std::getline(in, line);
  if (line + "\n" != kManifestHeader)
    throw InputError((p / "manifest.tsv").string() + ": unexpected header");
  int lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::string cell;
    std::istringstream ls(line);
    while (std::getline(ls, cell, '\t')) f.push_back(cell);
    if (line.back() == '\t') f.emplace_back();
    if (f.size() != 9)
      throw InputError(
          located((p / "manifest.tsv").string(), lineno, 1, "expected 9 tab-separated columns"));
    PlannedRun r;
    r.id = f[0];
    r.arm = f[1];
    r.replicate = std::stoll(f[2]);
    r.seed = std::stoll(f[3]);
    r.values = f[4];
    r.scenario_hash = f[5];
    r.geography_hash = f[6];
    r.output = f[7];
    r.scenario_file = f[8];
    plan.runs.push_back(r);
  }
  return plan;
}

}  // namespace ruralsim
