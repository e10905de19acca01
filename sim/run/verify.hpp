#pragma once
// Checking result files against their data: the content hash recomputed from the stored
// datasets (the recorder's algorithm, docs/reproducibility.md), independent of the hash the file
// claims. Used by `ruralsim verify`, `reproduce` (before re-running) and the sweep runner (a run
// is finished only when its file verifies).
#include <map>
#include <string>

namespace ruralsim {

// SHA-256 over the datasets whose full path starts with `prefix` ("/" = all), except those in
// /provenance, in byte order of path: path, NUL, data in C order (little-endian numbers,
// strings NUL-terminated). With prefix "/" this is the content hash. Throws InputError naming
// the file when it cannot be read.
std::string hash_datasets(const std::string& path, const std::string& prefix = "/");

// Hash of the geography tables alone (/geography/...): equal for runs on the same geography.
inline std::string geography_hash(const std::string& path) {
  return hash_datasets(path, "/geography/");
}

struct FileCheck {
  bool ok = false;
  std::string stored;    // content_hash attribute ("" if missing)
  std::string computed;  // recomputed from the data ("" if the file could not be read)
  std::string message;   // what is wrong, naming the file
};
// Never throws for a bad file: a missing, truncated or altered file gives ok = false.
FileCheck verify_result_file(const std::string& path);

// Root string attributes of a result file (empty map if it cannot be read).
std::map<std::string, std::string> result_attrs(const std::string& path);

}  // namespace ruralsim
