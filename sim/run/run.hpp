#pragma once
// One run as a library call: a scenario to one HDF5 file, in its own tbb::task_arena, with a
// stop token and a progress callback. The command line (app/commands.cpp) and the sweep runner
// (sweep/) are thin layers over run_scenario(); one process can run many scenarios, several at
// once.
#include <functional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/scenario.hpp"

namespace ruralsim {

// Thrown by run_scenario when another run holds the output's lock.
struct OutputBusy : InputError {
  using InputError::InputError;
};

// Thrown by run_scenario when the stop token was triggered; no output file is kept.
struct RunStopped : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// National values at the end of one calendar year (the run summary).
struct YearRow {
  int year = 0;
  double stores = 0, tv = 0, towns = 0, sales = 0, live = 0, stations = 0, centres = 0,
         streamers = 0, income = 0, gini = 0;
};

struct RunProgress {
  int ticks_done = 0, total_ticks = 0;
  int year = 0, tick_in_year = 0;
  double stores = 0, taobao_villages = 0;
};

struct RunOptions {
  int threads = 0;  // worker threads of the run's task arena; 0: all cores
  std::stop_token stop;
  std::function<void(const RunProgress&)> progress;  // after each recorded tick
  std::string command_line;                          // stored in the provenance
  // Replace an existing output file (it stays in place until the new run is complete).
  bool overwrite = false;
};

struct RunOutcome {
  std::string path, hash;
  double wall = 0;
  int threads = 0;
  std::vector<YearRow> years;
};

// Runs `sc` and writes `out_path` (under `out_path.partial`, renamed when complete). Before any
// file is created it takes an exclusive lock on `out_path.lock` (flock; released when the run
// ends, also if the process dies): a second run with the same output fails with an InputError
// and leaves the first one's files alone. Throws InputError for an existing output without
// `overwrite`, RunStopped when stopped.
RunOutcome run_scenario(const Scenario& sc, const std::string& out_path, const RunOptions& opt);

// Peak resident memory of this process, MiB.
double peak_rss_mib();

}  // namespace ruralsim
