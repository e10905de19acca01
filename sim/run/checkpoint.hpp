#pragma once
// Checkpoint and restart of one run (docs/reproducibility.md, "Checkpoint and restart").
//
// A checkpoint is taken at a tick boundary. It holds the World's state (every member listed in
// the state_fields() of world.hpp), the tick, the run's summary rows and wall time, the scenario
// (input and resolved text) and the recorder's position with an image of the output written so
// far. It is thread-count independent. The file is one binary blob:
//
//   "RSIMCKPT"  u32 format  u32 0  u64 body length  body  SHA-256 of everything before it
//
// (integers little-endian). Loading checks the size, the magic, the format and the checksum
// before anything else is read, then that the ruralsim version and git commit are this build's
// and that the scenario is the one being run; every length is checked against the bytes left
// and every index against the geography, so a damaged, truncated or hostile file is refused
// with a CheckpointRefused (exit status 2), never a crash.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/recorder.hpp"
#include "io/scenario.hpp"
#include "run/run.hpp"

namespace ruralsim {

class Simulation;

// A checkpoint that cannot be used; the message names the file and the reason.
struct CheckpointRefused : InputError {
  using InputError::InputError;
};

inline constexpr std::uint32_t kCheckpointFormat = 2;

// What a checkpoint records about its run, besides the state.
struct CheckpointInfo {
  std::string ruralsim_version, git_commit;
  std::string scenario_hash;   // scenario_hash() of the run's scenario
  std::string geography_hash;  // geography_hash() of its geography
  std::string scenario_name;
  std::int64_t seed = 0, replicate = 0;
  std::int32_t tick = 0;  // ticks done: the resumed run starts with this tick
  std::int32_t total_ticks = 0;
  // The scenario as given (provenance of the final file) and resolved (rebuilt from it).
  std::string scenario_path, scenario_dir, scenario_input, scenario_resolved;
  std::vector<std::string> overrides;
  std::string out_path;  // the run's output file
  std::int32_t checkpoint_every = 0;
  std::string start_time;  // of the first part of the run
  double wall = 0;         // seconds spent before the checkpoint
  std::vector<YearRow> years;
};

class Checkpoint {
 public:
  // Reads and checks `path`; throws CheckpointRefused.
  static std::shared_ptr<const Checkpoint> load(const std::string& path);

  const std::string& path() const { return path_; }
  const CheckpointInfo& info() const { return info_; }
  // The scenario stored in the checkpoint, with its original path, text and overrides, and
  // `extra` overrides applied (check_compatible then refuses any that change it).
  Scenario scenario(const std::vector<std::string>& extra = {}) const;
  // Refuses (CheckpointRefused) a checkpoint written by another ruralsim version or commit,
  // or for another scenario than `sc`.
  void check_compatible(const Scenario& sc) const;
  // Restores the state into `sim` (built from the same scenario, not stepped yet) and the
  // records into `rec` (new, nothing appended), and sets the clock to info().tick.
  void restore(Simulation& sim, Recorder* rec) const;

 private:
  std::string path_;
  CheckpointInfo info_;
  std::string data_;  // the whole file
  std::size_t world_at_ = 0, world_end_ = 0;
  RecorderPosition pos_;
  std::vector<unsigned char> image_;
};

// Hex SHA-256 of the resolved scenario text (every parameter, category and intervention).
std::string scenario_hash(const Scenario& sc);
// Hex SHA-256 over every column of the geography (Geography::fields()).
std::string geography_hash(const Geography& g);

// Writes a checkpoint of `sim` after a complete tick, atomically (`path.tmp`, fsync, rename);
// `rec` (may be null) is flushed and its file image stored. `info` supplies the run fields
// (scenario texts, output, summary rows, wall time); the rest is filled in here. Returns the
// file's size in bytes.
std::uint64_t write_checkpoint(const std::string& path, const Scenario& sc, const Simulation& sim,
                               Recorder* rec, CheckpointInfo info);

}  // namespace ruralsim
