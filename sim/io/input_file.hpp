#pragma once
// Reading input files defensively: special files (FIFO, device, socket, directory) and files
// over a size limit are refused before anything is read, and text files must be UTF-8.
#include <cstdint>
#include <string>

namespace ruralsim {

// Size limits of the files ruralsim reads as text.
inline constexpr std::uint64_t kMaxScenarioBytes = 16ull << 20;     // 16 MiB
inline constexpr std::uint64_t kMaxVillageTableBytes = 1ull << 30;  // 1 GiB

// Checks that `path` exists and is a regular file (not a directory, FIFO, device or socket);
// returns its size in bytes. Throws InputError naming the path otherwise.
std::uint64_t require_regular_file(const std::string& path, const std::string& what);

// Reads the whole of `path`, a regular file of at most `max_bytes` bytes. `what` names the file
// in messages ("the scenario file", "the village table"). Throws InputError for a missing file,
// a directory, a FIFO, a device or socket, an over-size file and read errors, before reading
// anything from a special file.
std::string read_input_file(const std::string& path, const std::string& what,
                            std::uint64_t max_bytes);

// Checks that `text` is UTF-8 (a UTF-8 byte-order mark is allowed): UTF-16 / UTF-32 text, NUL
// bytes and invalid byte sequences are an InputError naming `label`:line:column.
void require_utf8(const std::string& text, const std::string& label, const std::string& what);

// `s` with control characters and bytes that are not valid UTF-8 written as \xNN (tab and
// newline kept when `keep_newlines`), so that a message never carries raw binary to a terminal.
std::string escape_bytes(const std::string& s, bool keep_newlines = false);

}  // namespace ruralsim
