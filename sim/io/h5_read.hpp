#pragma once
// Checked reads of ruralsim result files (used by `reproduce`): every read checks the object's
// class, rank and size before any data are read, so a damaged or foreign file gives an
// InputError naming the file and the object instead of a buffer overflow.
#include <hdf5.h>

#include <string>

namespace ruralsim {

// A file opened read-only; closed by the destructor.
class H5ReadFile {
 public:
  // Refuses special files; tells apart "not an HDF5 file" (no HDF5 signature) and "damaged or
  // truncated" (a signature, but the library cannot open it). InputError in both cases.
  explicit H5ReadFile(const std::string& path);
  ~H5ReadFile();
  H5ReadFile(const H5ReadFile&) = delete;
  H5ReadFile& operator=(const H5ReadFile&) = delete;

  hid_t id() const { return id_; }
  const std::string& path() const { return path_; }
  bool has_dataset(const char* dset_path) const;
  // A scalar (or one-element) string dataset / root attribute, ASCII or UTF-8, fixed or variable
  // length. InputError if missing, not a string, not a single value, or unreadable.
  std::string string_dataset(const char* dset_path) const;
  std::string string_attribute(const char* name) const;

 private:
  hid_t id_ = -1;
  std::string path_;
};

// What `reproduce` reads from a result file.
struct ProvenanceStrings {
  std::string scenario_resolved, content_hash, scenario_dir, ruralsim_version, git_commit;
  bool has_geography_csv = false;
  std::string geography_csv;
};

// Reads the provenance of `path` with H5ReadFile in a child process: the HDF5 library can crash
// or loop forever on a hostile file (found by fuzzing), and this turns both into an InputError
// ("damaged HDF5 file ...") after at most `timeout_seconds`. Errors of the checked reads are
// passed on unchanged.
ProvenanceStrings read_provenance(const std::string& path, int timeout_seconds = 60);

// Largest string read from a result file (the stored village table is the largest).
inline constexpr std::size_t kMaxH5StringBytes = std::size_t{1} << 30;

}  // namespace ruralsim
