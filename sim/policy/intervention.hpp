#pragma once
// Interventions (policies as data). Each type is one class derived from Intervention plus one
// line in the registry (policy/registry.cpp). An intervention is built from its YAML entry,
// resolves its targets against the geography once (initialize), and at step 2 of every tick
// adds its effects to the world's modifier arrays (apply). apply() keeps no hidden state: what
// it does depends only on the world and the tick, so a run can be checkpointed and resumed.
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/params.hpp"
#include "model/world.hpp"

namespace ruralsim {

struct Clock;

// Helpers for reading an intervention's YAML entry with located errors.
class EntryReader {
 public:
  EntryReader(const YAML::Node& node, std::string file, std::string where);
  double real(const char* key, double def, double min, double max, const char* doc);
  std::int64_t integer(const char* key, std::int64_t def, std::int64_t min, std::int64_t max,
                       const char* doc);
  std::vector<std::int64_t> id_list(const char* key, const char* doc = "list of county ids");
  std::string choice(const char* key, const std::string& def, const std::vector<std::string>& valid,
                     const char* doc = "");
  // A text value (a YAML scalar); `def` when the key is absent.
  std::string text(const char* key, const std::string& def, const char* doc);
  bool has(const char* key) const;
  // Throws if the entry holds a key that was never asked for; lists the valid keys.
  void finish();
  [[noreturn]] void fail(const char* key, const std::string& msg) const;
  std::string origin() const;

  // Every key the type asked for, in order, with its kind, default, range, description and
  // the value read (the intervention key table is built from these: intervention_keys.hpp).
  struct KeyInfo {
    std::string key, kind, def, range, doc, value;
  };
  const std::vector<KeyInfo>& keys() const { return keys_; }

 private:
  YAML::Node node_;
  std::string file_, where_;
  std::vector<std::string> asked_;
  mutable std::vector<KeyInfo> keys_;  // has() marks optional keys
};

// Which counties an intervention targets: explicit ids, or a placement rule with a count.
struct Targeting {
  std::vector<std::int64_t> counties;  // explicit county codes
  std::string rule = "all";  // all | ids | poorest | highest_potential | random | poverty_listed
  std::int64_t count = 0;
  static Targeting read(EntryReader& r);
  // County indices, deterministic from the geography and `seed`.
  std::vector<Id> resolve(const World& w, std::uint64_t seed, std::uint64_t salt) const;
  std::string yaml() const;
};

class Intervention {
 public:
  virtual ~Intervention() = default;
  virtual std::string type() const = 0;
  // Resolves what the entry targets into `w` (never into the object: one scenario's
  // interventions are shared by every run built from it).
  virtual void initialize(World& w, const Params& p, std::uint64_t seed) const = 0;
  virtual void apply(World& w, const Params& p, const Clock& clk, std::uint64_t seed) const = 0;
  // Resolved form for provenance (YAML flow map).
  virtual std::string yaml() const = 0;
  // Records intervention_start / intervention_end events in the ticks where the window opens
  // and closes (entity: targeted county, or -1; value: the entry's index).
  virtual void emit_events(World& w, const Clock& clk) const = 0;
  int index = 0;       // position in the scenario's list (mixed into random streams)
  std::string origin;  // "file:line:column" of the entry, for messages
  std::string name;    // the entry's `name:` (default: its type); `--set interventions.<name>.*`
  std::vector<EntryReader::KeyInfo> keys;  // every key with the value in force
  // yaml() with the entry's name, for the resolved scenario.
  std::string resolved_yaml() const;
};

using InterventionFactory = std::unique_ptr<Intervention> (*)(EntryReader&);

struct InterventionType {
  const char* name;
  const char* doc;
  InterventionFactory make;
};
const std::vector<InterventionType>& intervention_registry();
std::unique_ptr<Intervention> make_intervention(const YAML::Node& entry, const std::string& file,
                                                int index);

}  // namespace ruralsim
