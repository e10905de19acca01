#pragma once
// Policy sweeps (docs/sweeps.md): a sweep file names a base scenario and arms (an explicit
// list, a grid over dotted parameter paths, or a Latin hypercube / Sobol design over ranges),
// replicates and a master seed. `plan` expands it into runs and writes a sweep directory;
// `run` executes what is not finished (several runs at once, each in its own task arena);
// `collect` gathers the finished runs into one sweep.h5.
#include <cstdint>
#include <functional>
#include <map>
#include <stop_token>
#include <string>
#include <vector>

namespace ruralsim {

struct ArmSpec {
  std::string name;
  std::vector<std::pair<std::string, std::string>> set;  // dotted path -> YAML value text
  std::string interventions_yaml;  // extra intervention entries (YAML list), may be empty
  std::string origin;              // file:line:column of the arm
};

struct SweepSpec {
  std::string path, text, name;
  std::string base;      // base scenario path (resolved against the sweep file's directory)
  std::string kind;      // arms | grid | design
  std::string baseline;  // baseline arm name
  std::int64_t replicates = 1;
  std::int64_t master_seed = 1;
  std::vector<ArmSpec> arms;
};

// Reads and expands a sweep file: every arm with its values. InputError with file:line:column.
SweepSpec read_sweep(const std::string& path);

// Points of a design in [0, 1)^dims: Latin hypercube (seeded) or unscrambled Sobol (as
// scipy.stats.qmc.Sobol(scramble=False), first point 0).
std::vector<std::vector<double>> latin_hypercube(std::size_t n, std::size_t dims,
                                                 std::uint64_t seed);
std::vector<std::vector<double>> sobol_points(std::size_t n, std::size_t dims);
constexpr std::size_t kSobolMaxDims = 12;

struct PlannedRun {
  std::string id;  // r0000, r0001, ...
  std::string arm;
  std::int64_t replicate = 0;
  std::int64_t seed = 0;
  std::string values;  // "key=value; ..." (the arm's settings)
  std::string scenario_hash, geography_hash;
  std::string output;         // relative to the sweep directory: runs/<id>.h5
  std::string scenario_file;  // scenarios/<id>.yaml
};

struct SweepPlan {
  std::string dir;
  std::string name, baseline;
  std::string scenario_dir;  // base scenario directory (CSV paths resolve against it)
  std::vector<PlannedRun> runs;
};

// Validates every run (scenario, geography, intervention targets) and writes DIR: sweep.yaml
// (copy), plan.yaml, manifest.tsv, scenarios/<id>.yaml. Refuses a DIR that holds another plan.
SweepPlan plan_sweep(const std::string& sweep_file, const std::string& dir);
SweepPlan load_plan(const std::string& dir);

enum class RunState { Finished, Failed, Running, Pending };
struct RunStatus {
  RunState state = RunState::Pending;
  std::string message;  // failure message, or why a file does not verify
  double wall = 0;      // seconds, finished runs
  std::string content_hash;
  // A run that is not finished and not running but left a checkpoint (runs/<id>.ckpt, written
  // on SIGTERM): the next `sweep run` resumes it from there.
  bool checkpoint = false;
};
// Finished = the output exists and its content hash verifies against its data.
RunStatus run_status(const SweepPlan& plan, const PlannedRun& r, bool verify = true);

struct SweepRunOptions {
  int jobs = 1, threads_per_run = 1;
  std::vector<std::size_t> only;  // run indices to consider (empty: all)
  std::stop_token stop;
  // When triggered (SIGTERM): each run in progress writes its checkpoint (runs/<id>.ckpt) at
  // the end of its tick and stops; no new run starts. A later `sweep run` resumes from it.
  std::stop_token checkpoint_stop;
  int checkpoint_every = 0;  // ticks between periodic checkpoints (0: only on checkpoint_stop)
  bool quiet = false;
};
struct SweepRunResult {
  int ran = 0, finished = 0, failed = 0, skipped = 0, stopped = 0;
  int checkpointed = 0;              // of the stopped runs, those that wrote a checkpoint
  int resumed = 0;                   // runs continued from a checkpoint
  double wall = 0, run_seconds = 0;  // sweep wall time; sum of the runs' own times
};
SweepRunResult run_sweep(const SweepPlan& plan, const SweepRunOptions& opt);

// Writes DIR/sweep.h5; refuses unfinished runs unless `partial`. Returns the file path.
std::string collect_sweep(const SweepPlan& plan, bool partial);

// Collects when DIR/sweep.h5 is missing or older than a run's output (so, like collect_sweep,
// refuses unfinished runs). Returns true when it collected. Used by `sweep compare` and
// `report SWEEP_DIR`.
bool collect_if_stale(const SweepPlan& plan);

// The command line: ruralsim sweep plan|run|status|collect|compare|submit.
int cmd_sweep(const std::vector<std::string>& args);

}  // namespace ruralsim
