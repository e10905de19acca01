#pragma once
// Output file names checked before a run starts, and the temporary `.partial` file of a run.
#include <string>

namespace ruralsim {

// Refuses (InputError naming `option`, e.g. "--out") an output path that cannot become a result
// file: empty, ending in '/', an existing directory, '.' or '..', a file name too long for the
// file system once ".partial" is added, a path over PATH_MAX, or a parent that exists but is
// not a writable directory.
void check_output_path(const std::string& path, const std::string& option);

// True if `path` exists and another process holds a lock on it (an HDF5 file being written).
bool file_in_use(const std::string& path);

// Removes `partial` if it is stale (left by a killed run: nobody holds its lock). Throws
// std::runtime_error if another process is writing it.
void remove_stale_partial(const std::string& partial);

}  // namespace ruralsim
