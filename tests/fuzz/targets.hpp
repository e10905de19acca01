#pragma once
// Fuzz targets: each takes one input (bytes) and must return normally for every input. Bad
// input is expected to raise InputError (caught here); any other exception, a crash, a sanitizer
// report or a failed property (abort()) is a finding. The same functions serve the libFuzzer
// executables (tests/fuzz/fuzz_main.cpp) and the Catch2 test that replays the regression inputs
// of tests/fuzz/regressions/<target>/.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/geography.hpp"
#include "io/h5_read.hpp"
#include "io/scenario.hpp"
#include "sweep/sweep.hpp"

namespace ruralsim::fuzz {

// A file holding `data` (the loaders read paths), removed by the destructor. Per process, so
// that parallel fuzzing jobs do not share it.
struct TempInput {
  std::string path;
  TempInput(const std::uint8_t* data, std::size_t size, const char* suffix) {
    const char* dir = std::getenv("TMPDIR");
    path = std::string(dir && *dir ? dir : "/tmp") + "/ruralsim-fuzz-" +
           std::to_string(::getpid()) + suffix;
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  ~TempInput() { std::remove(path.c_str()); }
};

[[noreturn]] inline void property_failed(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz property failed: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// Scenario parser and validator. Property: a scenario that parses writes a resolved YAML that
// parses again to the same resolved YAML (what `reproduce` relies on).
inline int scenario(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Scenario sc;
  try {
    sc = parse_scenario(text, "fuzz.yaml", "/nonexistent-fuzz-dir");
  } catch (const InputError&) {
    return 0;
  }
  const std::string resolved = resolved_yaml(sc);
  try {
    const Scenario again = parse_scenario(resolved, "resolved.yaml", "/nonexistent-fuzz-dir");
    if (resolved_yaml(again) != resolved)
      property_failed("resolved YAML is not stable", resolved + "\n---\n" + resolved_yaml(again));
  } catch (const InputError& e) {
    property_failed("resolved YAML does not parse", resolved + "\n" + e.what());
  }
  return 0;
}

// `--set` overrides: each input line is one KEY=VALUE applied to a small valid scenario.
inline int set_overrides(const std::uint8_t* data, std::size_t size) {
  static const std::string kBase =
      "name: fuzz\nsimulation: {years: 2, ticks_per_year: 12}\n"
      "geography: {counties_per_province: 2, towns_per_county: 2, villages_per_town: 3}\n";
  std::vector<std::string> sets;
  std::string cur;
  for (std::size_t i = 0; i < size; ++i) {
    const char ch = static_cast<char>(data[i]);
    if (ch == '\n') {
      sets.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) sets.push_back(cur);
  try {
    const Scenario sc = parse_scenario(kBase, "fuzz.yaml", "/nonexistent-fuzz-dir", sets);
    const std::string resolved = resolved_yaml(sc);
    const Scenario again = parse_scenario(resolved, "resolved.yaml", "/nonexistent-fuzz-dir");
    if (resolved_yaml(again) != resolved) property_failed("override not stable", resolved);
  } catch (const InputError&) {
  }
  return 0;
}

// CSV village table: loaded (and the geography finished) or refused with an InputError.
inline int village_table(const std::uint8_t* data, std::size_t size) {
  const TempInput f(data, size, ".csv");
  Params p;
  p.geography.source = "csv";
  try {
    const Geography g = load_geography_csv(f.path, p, default_categories());
    if (g.villages() == 0) property_failed("a table without villages was accepted", "");
  } catch (const InputError&) {
  }
  return 0;
}

// The HDF5 readers of `reproduce`, in this process (coverage-guided: finds faults of the checked
// reads and of the HDF5 library itself).
inline int h5_reader(const std::uint8_t* data, std::size_t size) {
  const TempInput f(data, size, ".h5");
  try {
    const H5ReadFile h(f.path);
    (void)h.string_dataset("/provenance/scenario_resolved");
    (void)h.string_attribute("content_hash");
    (void)h.string_attribute("scenario_dir");
    if (h.has_dataset("/provenance/geography_csv"))
      (void)h.string_dataset("/provenance/geography_csv");
  } catch (const InputError&) {
  }
  return 0;
}

// The same reads as `reproduce` does them: in a child process, so that a crash or a hang of the
// HDF5 library on a hostile file becomes an InputError. The regression inputs of h5_reader
// (library faults that cannot be fixed here) are replayed through this one.
inline int h5_reader_isolated(const std::uint8_t* data, std::size_t size) {
  const TempInput f(data, size, ".h5");
  try {
    (void)read_provenance(f.path, 10);
  } catch (const InputError&) {
  }
  return 0;
}

// Sweep file: the bytes as a sweep file beside a small valid base scenario (`base.yaml`, and the
// village table `villages.csv` it may name), read and expanded by `read_sweep`; a sweep of at
// most 24 runs is also planned (`plan_sweep`: every run's scenario parsed, its geography built
// and its interventions placed). Properties: the plan has arms x replicates runs, each with the
// arm's name and a replicate below `replicates`.
inline int sweep(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  const char* tmp = std::getenv("TMPDIR");
  const fs::path dir =
      fs::path(tmp && *tmp ? tmp : "/tmp") / ("ruralsim-fuzz-sweep-" + std::to_string(::getpid()));
  static bool made = false;
  if (!made) {
    fs::create_directories(dir);
    std::ofstream(dir / "base.yaml")
        << "name: fuzz_base\nsimulation: {seed: 1, years: 1, ticks_per_year: 12}\n"
           "geography: {counties_per_province: 2, towns_per_county: 1, villages_per_town: 3}\n"
           "output: {every: 12}\n"
           "interventions:\n  - {name: ship, type: shipping_subsidy, rule: all, start_year: "
           "2009, years: 1, rmb_per_parcel: 1.0}\n";
    std::ofstream(dir / "villages.csv")
        << "id,town,county,province,x,y,households\n1,1,1,1,0,0,100\n2,1,1,1,1,1,120\n";
    made = true;
  }
  const fs::path file = dir / "sweep.yaml";
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  try {
    const SweepSpec sp = read_sweep(file.string());
    if (sp.arms.empty()) property_failed("a sweep without arms was accepted", sp.text);
    if (sp.arms.size() * static_cast<std::size_t>(sp.replicates) > 24) return 0;
    const fs::path out = dir / "plan";
    fs::remove_all(out);
    const SweepPlan plan = plan_sweep(file.string(), out.string());
    if (plan.runs.size() != sp.arms.size() * static_cast<std::size_t>(sp.replicates))
      property_failed("the plan does not have arms x replicates runs", sp.text);
    for (std::size_t i = 0; i < plan.runs.size(); ++i) {
      const auto& r = plan.runs[i];
      if (r.arm != sp.arms[i / static_cast<std::size_t>(sp.replicates)].name || r.replicate < 0 ||
          r.replicate >= sp.replicates)
        property_failed("a planned run has the wrong arm or replicate", sp.text);
    }
    fs::remove_all(out);
  } catch (const InputError&) {
  }
  return 0;
}

}  // namespace ruralsim::fuzz
