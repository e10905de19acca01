#include "io/output_path.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/error.hpp"
#include "io/input_file.hpp"

namespace ruralsim {

namespace fs = std::filesystem;

void check_output_path(const std::string& path, const std::string& option) {
  const std::string shown = option + " '" + escape_bytes(path) + "'";
  if (path.empty()) throw InputError(shown + ": empty file name; give a file name such as run.h5");
  if (path.back() == '/')
    throw InputError(shown + ": ends with '/', so it names a directory; give a file name, e.g. " +
                     escape_bytes(path) + "run.h5");
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw InputError(shown + ": is a directory; give a file name, e.g. " +
                     escape_bytes((fs::path(path) / "run.h5").string()));
  const fs::path p(path);
  const std::string name = p.filename().string();
  if (name == "." || name == "..")
    throw InputError(shown + ": names a directory; give a file name such as run.h5");
  if (path.size() + 8 >= PATH_MAX)
    throw InputError(shown + ": the path is " + std::to_string(path.size()) +
                     " bytes long; the limit is " + std::to_string(PATH_MAX - 9));
  const fs::path parent = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  long name_max = ::pathconf(fs::exists(parent, ec) ? parent.c_str() : ".", _PC_NAME_MAX);
  if (name_max <= 0) name_max = NAME_MAX;
  // The file is first written as NAME.partial.
  if (static_cast<long>(name.size() + std::strlen(".partial")) > name_max)
    throw InputError(shown + ": the file name is " + std::to_string(name.size()) +
                     " bytes long; the limit is " +
                     std::to_string(name_max - static_cast<long>(std::strlen(".partial"))) +
                     " (the file system allows " + std::to_string(name_max) +
                     " and the run first writes NAME.partial)");
  // The nearest existing ancestor must be a writable directory (missing ones are created).
  fs::path anc = parent;
  while (!fs::exists(anc, ec) && anc.has_parent_path() && anc != anc.parent_path())
    anc = anc.parent_path();
  if (fs::exists(anc, ec)) {
    if (!fs::is_directory(anc, ec))
      throw InputError(shown + ": '" + escape_bytes(anc.string()) +
                       "' is not a directory, so the file cannot be created");
    if (::access(anc.c_str(), W_OK | X_OK) != 0)
      throw InputError(shown + ": cannot write in directory '" + escape_bytes(anc.string()) +
                       "' (" + std::strerror(errno) + ")");
  }
}

bool file_in_use(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  const bool busy = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases the lock if we got it
  return busy;
}

void remove_stale_partial(const std::string& partial) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(partial, ec))) return;
  if (file_in_use(partial))
    throw std::runtime_error("'" + partial +
                             "' is being written by another running ruralsim process; wait for "
                             "it or choose another output file");
  fs::remove(partial, ec);
  if (ec)
    throw std::runtime_error("cannot remove the stale temporary file '" + partial +
                             "' left by an earlier run: " + ec.message());
}

}  // namespace ruralsim
