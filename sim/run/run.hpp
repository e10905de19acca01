#pragma once
// One run as a library call: a scenario to one HDF5 file, in its own tbb::task_arena, with a
// stop token and a progress callback. The command line (app/commands.cpp) and the sweep runner
// (sweep/) are thin layers over run_scenario(); one process can run many scenarios, several at
// once.
#include <cstdint>
#include <functional>
#include <memory>
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

// Thrown by run_scenario when `checkpoint_stop` was triggered: a checkpoint was written at the
// end of the tick then running, and no output file is kept.
struct RunCheckpointed : std::runtime_error {
  RunCheckpointed(const std::string& path, int tick, int total)
      : std::runtime_error("checkpoint written"),
        checkpoint(path),
        ticks_done(tick),
        total_ticks(total) {}
  std::string checkpoint;
  int ticks_done = 0, total_ticks = 0;
};

class Checkpoint;

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
  // Checkpoints (run/checkpoint.hpp) go to `checkpoint_path`: every `checkpoint_every` ticks
  // (0: none), and when `checkpoint_stop` is triggered — then at the end of the tick being run,
  // after which run_scenario throws RunCheckpointed. The file is removed when the run
  // completes. Without a path, `checkpoint_stop` stops the run like `stop`.
  std::string checkpoint_path;
  int checkpoint_every = 0;
  std::stop_token checkpoint_stop;
  // Continue the run saved in this checkpoint (checked against the scenario first).
  std::shared_ptr<const Checkpoint> resume;
};

struct RunOutcome {
  std::string path, hash;
  double wall = 0;
  int threads = 0;
  std::vector<YearRow> years;
  int resumed_at = 0;   // tick the run was resumed at (0: from the start)
  int checkpoints = 0;  // checkpoints written
  double checkpoint_seconds = 0;
  std::uint64_t checkpoint_bytes = 0;  // size of the last one
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
