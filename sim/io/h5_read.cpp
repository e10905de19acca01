#include "io/h5_read.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/error.hpp"
#include "io/input_file.hpp"

namespace ruralsim {
namespace {

// Closes an HDF5 identifier at scope exit.
struct Id {
  hid_t id;
  herr_t (*closer)(hid_t);
  ~Id() {
    if (id >= 0) closer(id);
  }
};

herr_t innermost(unsigned /*n*/, const H5E_error2_t* err, void* data) {
  if (err->desc && *err->desc) *static_cast<std::string*>(data) = err->desc;
  return 0;
}

// The innermost description of the current HDF5 error stack, then cleared.
std::string hdf5_reason() {
  std::string s;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, innermost, &s);
  H5Eclear2(H5E_DEFAULT);
  return escape_bytes(s);
}

// True if the HDF5 signature is at offset 0, 512, 1024, 2048, ... (where the format puts it).
bool has_hdf5_signature(const std::string& path, std::uint64_t size) {
  static const char kSig[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  std::ifstream in(path, std::ios::binary);
  for (std::uint64_t off = 0; in && off + 8 <= size; off = off ? off * 2 : 512) {
    char buf[8];
    in.seekg(static_cast<std::streamoff>(off));
    if (!in.read(buf, 8)) return false;
    if (std::equal(buf, buf + 8, kSig)) return true;
  }
  return false;
}

const char* class_name(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER:
      return "an integer";
    case H5T_FLOAT:
      return "a floating-point number";
    case H5T_STRING:
      return "a string";
    case H5T_COMPOUND:
      return "a compound";
    case H5T_ARRAY:
      return "an array type";
    case H5T_VLEN:
      return "a variable-length sequence";
    case H5T_ENUM:
      return "an enumeration";
    default:
      return "an unsupported type";
  }
}

// Reads one string through `read(memtype, buffer)` after checking type and space.
template <class Read>
std::string read_one_string(hid_t type, hid_t space, Read read, const std::string& what,
                            const std::string& file) {
  const H5T_class_t cls = H5Tget_class(type);
  if (cls != H5T_STRING)
    throw InputError(file + ": " + what + " is " + class_name(cls) +
                     ", not a string (not a ruralsim result file, or a damaged one)");
  const H5S_class_t sc = H5Sget_simple_extent_type(space);
  const hssize_t npoints = H5Sget_simple_extent_npoints(space);
  if (sc == H5S_NULL || npoints != 1 || (sc != H5S_SCALAR && sc != H5S_SIMPLE))
    throw InputError(
        file + ": " + what + " holds " +
        (npoints < 0 ? std::string("an unreadable number of") : std::to_string(npoints)) +
        " values, expected one string (not a ruralsim result file, or a damaged one)");
  const H5T_cset_t cset = H5Tget_cset(type);
  if (cset != H5T_CSET_ASCII && cset != H5T_CSET_UTF8)
    throw InputError(file + ": " + what + " has an unknown character set");
  const htri_t var = H5Tis_variable_str(type);
  if (var < 0) throw InputError(file + ": " + what + ": cannot read its type (damaged file?)");
  Id mem{H5Tcopy(H5T_C_S1), H5Tclose};
  if (mem.id < 0) throw InputError(file + ": cannot read " + what);
  H5Tset_cset(mem.id, cset);
  const std::string failed = file + ": cannot read " + what + " (damaged file?)";
  if (var > 0) {
    H5Tset_size(mem.id, H5T_VARIABLE);
    char* s = nullptr;
    if (read(mem.id, static_cast<void*>(&s)) < 0) throw InputError(failed + " " + hdf5_reason());
    std::string out = s ? s : "";
    if (s) H5free_memory(s);
    return out;
  }
  const std::size_t n = H5Tget_size(type);
  if (n == 0 || n > kMaxH5StringBytes)
    throw InputError(file + ": " + what + " has an implausible string size (" + std::to_string(n) +
                     " bytes)");
  // One byte more than the stored size, NUL-terminated whatever the padding.
  H5Tset_size(mem.id, n + 1);
  H5Tset_strpad(mem.id, H5T_STR_NULLTERM);
  std::vector<char> buf(n + 1, '\0');
  if (read(mem.id, static_cast<void*>(buf.data())) < 0)
    throw InputError(failed + " " + hdf5_reason());
  buf[n] = '\0';
  return std::string(buf.data());
}

}  // namespace

H5ReadFile::H5ReadFile(const std::string& path) : path_(path) {
  const std::uint64_t size = require_regular_file(path, "an HDF5 result file");
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const bool signature = has_hdf5_signature(path, size);
  if (!signature) throw InputError(path + ": not an HDF5 file (no HDF5 signature)");
  Id fapl{H5Pcreate(H5P_FILE_ACCESS), H5Pclose};
  // Strong close: every object opened here is closed with the file.
  if (fapl.id >= 0) H5Pset_fclose_degree(fapl.id, H5F_CLOSE_STRONG);
  id_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.id >= 0 ? fapl.id : H5P_DEFAULT);
  if (id_ < 0) {
    const std::string reason = hdf5_reason();
    throw InputError(path +
                     ": damaged or truncated HDF5 file: it has an HDF5 signature but "
                     "cannot be opened" +
                     (reason.empty() ? std::string() : " (" + reason + ")"));
  }
}

H5ReadFile::~H5ReadFile() {
  if (id_ >= 0) H5Fclose(id_);
  H5Eclear2(H5E_DEFAULT);
}

bool H5ReadFile::has_dataset(const char* dset_path) const {
  // Each component must exist for H5Lexists not to fail.
  const std::string p = dset_path;
  for (std::size_t pos = 1; pos <= p.size(); ++pos) {
    if (pos == p.size() || p[pos] == '/') {
      if (H5Lexists(id_, p.substr(0, pos).c_str(), H5P_DEFAULT) <= 0) return false;
    }
  }
  Id o{H5Oopen(id_, dset_path, H5P_DEFAULT), H5Oclose};
  return o.id >= 0 && H5Iget_type(o.id) == H5I_DATASET;
}

std::string H5ReadFile::string_dataset(const char* dset_path) const {
  const std::string what = std::string("dataset ") + dset_path;
  if (!has_dataset(dset_path))
    throw InputError(path_ + ": no " + what + " (not a ruralsim result file?)");
  Id d{H5Dopen2(id_, dset_path, H5P_DEFAULT), H5Dclose};
  if (d.id < 0) throw InputError(path_ + ": cannot open " + what + " (damaged file?)");
  Id t{H5Dget_type(d.id), H5Tclose};
  Id s{H5Dget_space(d.id), H5Sclose};
  if (t.id < 0 || s.id < 0) throw InputError(path_ + ": cannot read " + what + " (damaged file?)");
  return read_one_string(
      t.id, s.id,
      [&](hid_t mt, void* buf) { return H5Dread(d.id, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); },
      what, path_);
}

std::string H5ReadFile::string_attribute(const char* name) const {
  const std::string what = std::string("attribute ") + name;
  if (H5Aexists(id_, name) <= 0)
    throw InputError(path_ + ": no " + what + " (not a ruralsim result file?)");
  Id a{H5Aopen(id_, name, H5P_DEFAULT), H5Aclose};
  if (a.id < 0) throw InputError(path_ + ": cannot open " + what + " (damaged file?)");
  Id t{H5Aget_type(a.id), H5Tclose};
  Id s{H5Aget_space(a.id), H5Sclose};
  if (t.id < 0 || s.id < 0) throw InputError(path_ + ": cannot read " + what + " (damaged file?)");
  return read_one_string(
      t.id, s.id, [&](hid_t mt, void* buf) { return H5Aread(a.id, mt, buf); }, what, path_);
}

namespace {

void put(std::string& out, const std::string& field) {
  const std::uint64_t n = field.size();
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out += field;
}

bool take(const std::string& in, std::size_t& pos, std::string& field) {
  std::uint64_t n = 0;
  if (in.size() - pos < sizeof n) return false;
  std::memcpy(&n, in.data() + pos, sizeof n);
  pos += sizeof n;
  if (in.size() - pos < n) return false;
  field.assign(in, pos, n);
  pos += n;
  return true;
}

void write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

ProvenanceStrings read_provenance(const std::string& path, int timeout_seconds) {
  require_regular_file(path, "an HDF5 result file");
  int fds[2];
  if (::pipe(fds) != 0)
    throw std::runtime_error("cannot create a pipe: " + std::string(std::strerror(errno)));
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error("cannot start a process to read " + path);
  }
  if (pid == 0) {  // child: read, send, and leave without running exit handlers
    ::close(fds[0]);
    // A fault of the HDF5 library ends the child with its signal, which the parent reports;
    // handlers inherited from the parent (a test framework's, say) must not run here.
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, SIG_DFL);
    std::string msg;
    try {
      const H5ReadFile f(path);
      msg = "K";
      put(msg, f.string_dataset("/provenance/scenario_resolved"));
      put(msg, f.string_attribute("content_hash"));
      put(msg, f.string_attribute("scenario_dir"));
      put(msg, f.string_attribute("ruralsim_version"));
      put(msg, f.string_attribute("git_commit"));
      const bool csv = f.has_dataset("/provenance/geography_csv");
      put(msg, csv ? "1" : "0");
      put(msg, csv ? f.string_dataset("/provenance/geography_csv") : std::string());
    } catch (const InputError& e) {
      msg = "E";
      put(msg, e.what());
    } catch (const std::exception& e) {
      msg = "X";
      put(msg, e.what());
    }
    write_all(fds[1], msg);
    ::close(fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string data;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  char buf[65536];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    const int r = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    throw InputError(path + ": damaged HDF5 file: the HDF5 library did not finish reading it in " +
                     std::to_string(timeout_seconds) + " s");
  if (WIFSIGNALED(status))
    throw InputError(path + ": damaged HDF5 file: the HDF5 library crashed reading it (signal " +
                     std::to_string(WTERMSIG(status)) + ")");
  std::size_t pos = 1;
  std::string field;
  if (data.empty() || (WIFEXITED(status) && WEXITSTATUS(status) != 0))
    throw InputError(path + ": damaged HDF5 file: reading it failed");
  if (data[0] == 'E' || data[0] == 'X') {
    take(data, pos, field);
    if (data[0] == 'E') throw InputError(field);
    throw std::runtime_error(field);
  }
  ProvenanceStrings p;
  std::string csv_flag;
  if (!(take(data, pos, p.scenario_resolved) && take(data, pos, p.content_hash) &&
        take(data, pos, p.scenario_dir) && take(data, pos, p.ruralsim_version) &&
        take(data, pos, p.git_commit) && take(data, pos, csv_flag) &&
        take(data, pos, p.geography_csv)))
    throw InputError(path + ": damaged HDF5 file: reading it failed");
  p.has_geography_csv = csv_flag == "1";
  return p;
}

}  // namespace ruralsim
