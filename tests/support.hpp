#pragma once
// Helpers shared by the tests.
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "io/scenario.hpp"
#include "model/outputs.hpp"
#include "run/simulation.hpp"

namespace ruralsim::test {

inline std::string source_path(const std::string& rel) {
  return std::string(RURALSIM_SOURCE_DIR) + "/" + rel;
}

inline Scenario scenario_file(const std::string& rel, const std::vector<std::string>& sets = {}) {
  return load_scenario(source_path(rel), sets);
}

inline Scenario scenario_text(const std::string& text, const std::vector<std::string>& sets = {}) {
  return parse_scenario(text, "test.yaml", RURALSIM_SOURCE_DIR, sets);
}

// Every record of a run, concatenated (national, then province, then county values).
struct Trace {
  std::vector<double> values;
  std::vector<Record> records;
  int arena_concurrency = 0;  // threads the run was given
};

inline void run_trace_in_arena(const Scenario& sc, bool keep_records, Trace& t) {
  Simulation sim(sc);
  sim.run([&](const Simulation& s) {
    const Record& r = s.last_record();
    if (r.tick != s.clock().tick - 1) return;
    for (const auto* v : {&r.national, &r.province, &r.county})
      t.values.insert(t.values.end(), v->begin(), v->end());
    if (keep_records) t.records.push_back(r);
    // annual village snapshots, when the scenario writes them
    if (s.clock().tick % s.clock().ticks_per_year == 0 && !s.last_village_snapshot().empty())
      t.values.insert(t.values.end(), s.last_village_snapshot().begin(),
                      s.last_village_snapshot().end());
  });
  // events, as numbers
  for (const Event& e : sim.world().events) {
    t.values.push_back(e.tick);
    t.values.push_back(e.kind);
    t.values.push_back(static_cast<double>(e.entity));
    t.values.push_back(e.value);
  }
}

// Runs in an arena of exactly `threads` threads (more than the machine's cores if asked: the
// global limit is raised too), so that "8 threads" means 8 even on a 2-core machine.
inline Trace run_trace(const Scenario& sc, int threads, bool keep_records = true) {
  tbb::global_control gc(tbb::global_control::max_allowed_parallelism, threads);
  tbb::task_arena arena(threads);
  Trace t;
  arena.execute([&] { run_trace_in_arena(sc, keep_records, t); });
  t.arena_concurrency = arena.max_concurrency();
  return t;
}

// Index of an output variable in output_table() order.
inline std::size_t var(const char* name) {
  const auto& t = output_table();
  for (std::size_t i = 0; i < t.size(); ++i)
    if (std::string(t[i].name) == name) return i;
  throw std::out_of_range(std::string("no output variable ") + name);
}

// Bitwise equality that treats NaN == NaN (same bits).
inline bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  return std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace ruralsim::test
