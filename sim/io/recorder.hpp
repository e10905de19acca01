#pragma once
// HDF5 recorder. Layout (docs/outputs.md):
//   /national        dims (time)               one dataset per output variable
//   /province        dims (time, province)
//   /county          dims (time, county)
//   /village_annual  dims (year, village)      only with output.village_snapshots
//   /snapshots/<year>/{stores,livestreamers}   dims (store), (livestreamer); output.snapshot_years
//   /events          dims (event)              tick, year, kind, entity, value
//   /geography/{provinces,counties,towns,villages}   static tables, one dataset per column
//   /provenance      scenario_input, scenario_resolved, geography_csv (when the geography came
//                    from a CSV) (strings); provenance also as root attrs
// Each group's coordinate datasets are HDF5 dimension scales so that
// xarray.open_dataset(file, group=..., engine="h5netcdf") opens it without help.
// The file is written under a temporary name and renamed into place by commit().
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/outputs.hpp"
#include "model/world.hpp"

namespace ruralsim {

struct Provenance {
  // key -> value; written as string attributes on the root group (numbers as text too,
  // plus a few numeric attributes written by the recorder itself).
  std::map<std::string, std::string> attrs;
  std::string scenario_input;
  std::string scenario_resolved;
  std::string geography_csv;  // the village table's text when the geography came from a CSV
};

// How far a recorder has come: time-series records and village snapshots written to the file,
// and the records still buffered (opaque bytes, read back by restore()).
struct RecorderPosition {
  std::uint64_t records = 0, snapshots = 0;
  std::string pending;
};

// Whether `image` (an output file image held in a checkpoint) opens as an HDF5 file with the
// groups a recorder writes (/national, /province, /county).
bool output_image_opens(const std::vector<unsigned char>& image);

class Recorder {
 public:
  // Creates `final_path + ".partial"`; writes the geography tables.
  Recorder(const std::string& final_path, const World& world, int ticks_per_year, int start_year);
  ~Recorder();  // without commit(): closes and deletes the temporary file
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // One record of the time series. Values follow output_table() order: `national` has
  // nvars values, `province` provinces*nvars (entity-major), `county` counties*nvars.
  void append(std::int32_t tick, double time, const std::vector<double>& national,
              const std::vector<double>& province, const std::vector<double>& county);
  // One annual village snapshot: villages*nvars (entity-major); variables with
  // OutputVar::village false are written as NaN-free omissions (not written at all).
  void append_village_snapshot(std::int32_t year, const std::vector<double>& village);
  // Every store and livestreamer at one year end (/snapshots/<year>), written at once.
  void append_entity_snapshot(const EntitySnapshot& snapshot);
  // Writes events, the content hash, provenance; closes; renames into place.
  // Returns the content hash (hex SHA-256 over every result dataset, fixed order).
  std::string commit(const std::vector<Event>& events, Provenance prov);

  const std::string& final_path() const;

  // Checkpoints (run/checkpoint.hpp): flushes the file to disk and returns its image with the
  // position, including the records still buffered (they stay buffered: a checkpoint does not
  // change when blocks are written).
  RecorderPosition checkpoint(std::vector<unsigned char>& image);
  // Resuming: copies the records and snapshots of every series in `pos` from an image taken by
  // checkpoint() in a run of the same scenario into this new recorder (before any append), and
  // buffers the pending ones again.
  void restore(const std::vector<unsigned char>& image, const RecorderPosition& pos);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ruralsim
