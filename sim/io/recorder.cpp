#include "io/recorder.hpp"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <variant>

#include "core/sha256.hpp"
#include "io/output_path.hpp"
#include "model/outputs.hpp"

// Notes on the layout (see recorder.hpp for the groups):
//  * Every coordinate (time, year, province, county, village, event, town, category) is an HDF5
//    dimension scale whose dataset name equals the dimension name, and every dataset of a group has
//    a scale attached on every axis; that is what h5netcdf needs to open the groups with named
//    dimensions and coordinates. Links are tracked in creation order (as netCDF-4 does), so
//    variables come out in output_table() order.
//  * Time-series datasets are extendible along the record dimension (H5S_UNLIMITED) and written in
//    buffered blocks: a group's records are held in memory and written with one hyperslab write
//    per dataset every `flush_rows` records (at most 64, fewer when a record is large) and at
//    commit(). 2-D datasets are chunked with `flush_rows` rows per chunk, shuffled and deflated.
//    The block writes (compression included) run on the recorder's writer thread while the
//    simulation goes on: append() hands a full block over and returns. Every other operation that
//    touches the file first waits until the writer has written what it was given (drain()), so
//    HDF5 is only ever called by one thread at a time, and an error of the writer is reported by
//    the next call (the same message as if the write had been made in place).
//  * Content hash: SHA-256 over all result datasets (everything except /provenance), sorted by
//    full path (byte order). For each dataset: the path, one NUL byte, then the data in C order,
//    numbers little-endian as stored (float64 / float32 / int64 / int32 / uint8), strings each
//    followed by a NUL byte. It is computed by reading the datasets back just before provenance is
//    written, so it depends only on the stored data (not on flush block sizes).
//    analysis/check_h5.py recomputes it in Python.
//  * /snapshots/<year>/{stores,livestreamers} (output.snapshot_years) are fixed-size 1-D datasets
//    written once, at the year end (compressed like the other static datasets when long); they
//    are result datasets, so the content hash covers them.
//  * The root group holds soft links to every dataset of /national (time, tick, year and the
//    variables), and the series datasets carry the CF attribute coordinates = "tick year", so that
//    xarray.open_dataset(file, engine="h5netcdf") without group= returns the national series with
//    year and tick as coordinates. Soft links are neither hashed nor visited by H5Ovisit.

namespace ruralsim {
namespace {

namespace fs = std::filesystem;

constexpr hid_t kNoId = -1;
constexpr hsize_t kMaxFlushRows = 64;                 // records buffered before a block write
constexpr std::size_t kFlushBudgetBytes = 64u << 20;  // ... unless a block would exceed this
constexpr std::size_t kChunkTargetBytes = 1u << 20;   // approximate size of a 2-D chunk
constexpr hsize_t kChunk1D = 256;                     // records per chunk of 1-D record datasets
// gzip level 1: on the national scenario 6.5% larger files than level 4, and 2 s less of
// compression and read-back (docs/performance.md)
constexpr unsigned kDeflateLevel = 1;
constexpr hsize_t kStaticCompressMin = 4096;  // static 1-D datasets this long are compressed
constexpr hsize_t kStaticChunk = 65536;
constexpr std::size_t kReadBlockBytes = 8u << 20;  // read-back block for hashing

const char* const kHashAlgorithm = "sha256 over result datasets in path order";
const char* const kFormat = "ruralsim-hdf5-1";

enum class Kind { F64, F32, I64, I32, U8, Str };

template <class T>
constexpr Kind kind_of();
template <>
constexpr Kind kind_of<double>() {
  return Kind::F64;
}
template <>
constexpr Kind kind_of<float>() {
  return Kind::F32;
}
template <>
constexpr Kind kind_of<std::int64_t>() {
  return Kind::I64;
}
template <>
constexpr Kind kind_of<std::int32_t>() {
  return Kind::I32;
}
template <>
constexpr Kind kind_of<std::uint8_t>() {
  return Kind::U8;
}

// Little-endian types, used both in the file and as memory types (x86/ARM are little-endian;
// on a big-endian host HDF5 converts, and the hashed bytes stay little-endian).
hid_t le_type(Kind k) {
  switch (k) {
    case Kind::F64:
      return H5T_IEEE_F64LE;
    case Kind::F32:
      return H5T_IEEE_F32LE;
    case Kind::I64:
      return H5T_STD_I64LE;
    case Kind::I32:
      return H5T_STD_I32LE;
    case Kind::U8:
      return H5T_STD_U8LE;
    case Kind::Str:
      break;
  }
  return kNoId;
}

std::size_t elem_size(Kind k) {
  switch (k) {
    case Kind::F64:
    case Kind::I64:
      return 8;
    case Kind::F32:
    case Kind::I32:
      return 4;
    case Kind::U8:
      return 1;
    case Kind::Str:
      break;
  }
  return sizeof(char*);
}

// Owns an HDF5 identifier.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, kNoId)), closer_(o.closer_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      close();
      id_ = std::exchange(o.id_, kNoId);
      closer_ = o.closer_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { close(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Returns the closer's result (0 if nothing was open).
  herr_t close() noexcept {
    herr_t r = 0;
    if (id_ >= 0 && closer_ != nullptr) r = closer_(id_);
    id_ = kNoId;
    return r;
  }

 private:
  hid_t id_ = kNoId;
  Closer closer_ = nullptr;
};

herr_t collect_error(unsigned /*n*/, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::string*>(data);
  if (!out->empty()) out->append("; ");
  out->append(err->func_name != nullptr ? err->func_name : "?");
  out->append(": ");
  out->append(err->desc != nullptr ? err->desc : "");
  return 0;
}

// The current HDF5 error stack as one line (then cleared).
std::string hdf5_error_stack() {
  std::string s;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error, &s);
  H5Eclear2(H5E_DEFAULT);
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

// A dataset extended along its first (record) dimension.
struct Column {
  Handle ds;
  std::string path;
  Kind kind = Kind::F64;
  int rank = 1;
  hsize_t width = 1;               // elements per record (entities for rank 2)
  std::vector<unsigned char> buf;  // buffered records, C order, little-endian bytes
};

// A group of datasets sharing the record dimension (time or year), flushed together.
struct Series {
  std::string path;
  Handle group;
  Handle entity_scale;
  std::vector<Column> cols;  // [record scale, (tick), variables...]
  std::size_t first_var = 0;
  std::vector<int> vars;  // output_table() indices of the variable columns
  hsize_t flush_rows = kMaxFlushRows;
  hsize_t pending = 0;
  hsize_t on_disk = 0;
};

struct ResultDataset {
  std::string path;
  Kind kind;
};

}  // namespace

struct Recorder::Impl {
  std::string final_path;
  std::string partial_path;
  int ticks_per_year = 1;
  int start_year = 0;
  std::size_t nvars = 0;
  std::size_t provinces = 0, counties = 0, villages = 0;
  std::vector<int> all_vars, village_vars;

  Handle file, str_type, gcpl;
  Series national, province, county;
  std::unique_ptr<Series> village;
  std::vector<ResultDataset> results;  // datasets covered by the content hash
  bool committed = false;
  bool created = false;  // the partial file is ours to delete

  // The writer thread: block writes handed over by flush(), written in order.
  struct Writer {
    std::thread thread;
    std::mutex mu;
    std::condition_variable wake, done;
    std::deque<std::function<void()>> jobs;
    bool busy = false, stop = false;
    std::exception_ptr error;
  } writer;
  static constexpr std::size_t kMaxQueuedBlocks = 2;  // the simulation waits beyond this

  Impl(std::string path, int tpy, int year)
      : final_path(std::move(path)),
        partial_path(final_path + ".partial"),
        ticks_per_year(tpy),
        start_year(year) {}

  ~Impl() {
    stop_writer(/*discard=*/!committed);
    if (committed) return;
    close_all();
    if (created) {
      std::error_code ec;
      fs::remove(partial_path, ec);
    }
  }

  // ---- error checking ----------------------------------------------------------------------

  [[noreturn]] void fail(const std::string& what) const {
    const std::string detail = hdf5_error_stack();
    // A system error (full disk, quota, I/O error) is the whole story: name it alone.
    const std::string tag = "error message = '";
    const auto at = detail.find(tag);
    if (at != std::string::npos) {
      const auto from = at + tag.size();
      const auto to = detail.find('\'', from);
      throw std::runtime_error("cannot write '" + partial_path + "': " +
                               detail.substr(from, to - from) + " (HDF5 recorder: " + what + ")");
    }
    // Otherwise the outermost and innermost entries of the stack.
    std::string brief = detail;
    const auto first = detail.find("; "), last = detail.rfind("; ");
    if (first != std::string::npos)
      brief =
          detail.substr(0, first) + (first == last ? "; " : "; ...; ") + detail.substr(last + 2);
    throw std::runtime_error("HDF5 recorder: " + what + " failed for file '" + partial_path + "'" +
                             (brief.empty() ? std::string() : " (" + brief + ")"));
  }
  hid_t check_id(hid_t id, const std::string& what) const {
    if (id < 0) fail(what);
    return id;
  }
  herr_t check(herr_t r, const std::string& what) const {
    if (r < 0) fail(what);
    return r;
  }

  // ---- the writer thread ------------------------------------------------------------------

  void writer_loop() {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // per thread in a thread-safe HDF5
    std::unique_lock lock(writer.mu);
    for (;;) {
      writer.wake.wait(lock, [&] { return writer.stop || !writer.jobs.empty(); });
      if (writer.jobs.empty()) return;  // stopped with nothing left
      auto job = std::move(writer.jobs.front());
      writer.jobs.pop_front();
      writer.busy = true;
      lock.unlock();
      std::exception_ptr err;
      try {
        job();
      } catch (...) {
        err = std::current_exception();
      }
      lock.lock();
      writer.busy = false;
      if (err && !writer.error) writer.error = err;
      if (writer.error) writer.jobs.clear();  // nothing after a failed block is written
      writer.done.notify_all();
    }
  }

  // Queues a block write (waiting while kMaxQueuedBlocks are queued); starts the thread.
  void post(std::function<void()> job) {
    std::unique_lock lock(writer.mu);
    if (!writer.thread.joinable()) writer.thread = std::thread([this] { writer_loop(); });
    writer.done.wait(lock, [&] { return writer.jobs.size() < kMaxQueuedBlocks || writer.error; });
    if (writer.error) {  // failed (before or while this one waited): nothing more is written
      lock.unlock();
      drain();  // rethrows
    }
    writer.jobs.push_back(std::move(job));
    writer.wake.notify_one();
  }

  // Rethrows the writer's error if a block write has failed (without waiting for the others).
  void check_writer() {
    bool failed;
    {
      std::lock_guard lock(writer.mu);
      failed = writer.error != nullptr;
    }
    if (failed) drain();  // rethrows
  }

  // Waits until every block handed over is written; rethrows the writer's error if it had one.
  void drain() {
    std::unique_lock lock(writer.mu);
    writer.done.wait(lock, [&] { return (writer.jobs.empty() && !writer.busy) || writer.error; });
    if (writer.error) {
      writer.done.wait(lock, [&] { return !writer.busy; });
      std::rethrow_exception(writer.error);
    }
  }

  // Ends the thread: blocks still queued are written first, or dropped with `discard` (a file
  // that will be deleted).
  void stop_writer(bool discard) noexcept {
    if (!writer.thread.joinable()) return;
    {
      std::lock_guard lock(writer.mu);
      writer.stop = true;
      if (discard) writer.jobs.clear();
    }
    writer.wake.notify_one();
    writer.thread.join();
  }

  // ---- small building blocks ---------------------------------------------------------------

  Handle make_group(hid_t parent, const std::string& name, const std::string& full) {
    return Handle(check_id(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT),
                           "creating group " + full),
                  H5Gclose);
  }

  void set_str_attr(hid_t obj, const std::string& name, const std::string& value,
                    const std::string& where) {
    const std::string what = "writing attribute '" + name + "' of " + where;
    if (check(H5Aexists(obj, name.c_str()), what) > 0) check(H5Adelete(obj, name.c_str()), what);
    Handle space(check_id(H5Screate(H5S_SCALAR), what), H5Sclose);
    Handle attr(check_id(H5Acreate2(obj, name.c_str(), str_type.get(), space.get(), H5P_DEFAULT,
                                    H5P_DEFAULT),
                         what),
                H5Aclose);
    const char* p = value.c_str();
    check(H5Awrite(attr.get(), str_type.get(), &p), what);
    check(attr.close(), what);
  }

  void set_int_attr(hid_t obj, const std::string& name, std::int32_t value,
                    const std::string& where) {
    const std::string what = "writing attribute '" + name + "' of " + where;
    if (check(H5Aexists(obj, name.c_str()), what) > 0) check(H5Adelete(obj, name.c_str()), what);
    Handle space(check_id(H5Screate(H5S_SCALAR), what), H5Sclose);
    Handle attr(check_id(H5Acreate2(obj, name.c_str(), H5T_STD_I32LE, space.get(), H5P_DEFAULT,
                                    H5P_DEFAULT),
                         what),
                H5Aclose);
    check(H5Awrite(attr.get(), H5T_NATIVE_INT32, &value), what);
    check(attr.close(), what);
  }

  // Creates a dataset with `units` and `description`; registers it for the hash if `result`.
  Handle create_ds(hid_t loc, const std::string& gpath, const std::string& name, Kind kind,
                   int rank, const hsize_t* dims, const hsize_t* maxdims, const hsize_t* chunk,
                   bool compress, const std::string& units, const std::string& description,
                   bool result = true) {
    const std::string path = gpath + "/" + name;
    const std::string what = "creating dataset " + path;
    Handle dcpl(check_id(H5Pcreate(H5P_DATASET_CREATE), what), H5Pclose);
    if (chunk != nullptr) {
      check(H5Pset_chunk(dcpl.get(), rank, chunk), what);
      if (compress) {
        check(H5Pset_shuffle(dcpl.get()), what);
        check(H5Pset_deflate(dcpl.get(), kDeflateLevel), what);
      }
    }
    Handle space(
        check_id(rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, maxdims), what),
        H5Sclose);
    const hid_t ftype = kind == Kind::Str ? str_type.get() : le_type(kind);
    Handle ds(check_id(H5Dcreate2(loc, name.c_str(), ftype, space.get(), H5P_DEFAULT, dcpl.get(),
                                  H5P_DEFAULT),
                       what),
              H5Dclose);
    set_str_attr(ds.get(), "units", units, path);
    set_str_attr(ds.get(), "description", description, path);
    if (result) results.push_back({path, kind});
    return ds;
  }

  // Fixed-size 1-D dataset holding `n` values (compressed when long).
  template <class T>
  Handle write_static(hid_t loc, const std::string& gpath, const std::string& name, const T* data,
                      std::size_t n, const std::string& units, const std::string& description) {
    const hsize_t dims[1] = {n};
    const hsize_t chunk[1] = {std::min<hsize_t>(n, kStaticChunk)};
    const bool big = n >= kStaticCompressMin;
    Handle ds = create_ds(loc, gpath, name, kind_of<T>(), 1, dims, dims, big ? chunk : nullptr, big,
                          units, description);
    if (n > 0) {
      check(H5Dwrite(ds.get(), le_type(kind_of<T>()), H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
            "writing dataset " + gpath + "/" + name);
    }
    return ds;
  }

  Handle write_static_strings(hid_t loc, const std::string& gpath, const std::string& name,
                              const std::vector<std::string>& values, const std::string& units,
                              const std::string& description) {
    const std::size_t n = values.size();
    const hsize_t dims[1] = {n};
    const hsize_t chunk[1] = {std::min<hsize_t>(n, kStaticChunk)};
    const bool big = n >= kStaticCompressMin;
    Handle ds = create_ds(loc, gpath, name, Kind::Str, 1, dims, dims, big ? chunk : nullptr, big,
                          units, description);
    if (n > 0) {
      std::vector<const char*> ptrs(n);
      for (std::size_t i = 0; i < n; ++i) ptrs[i] = values[i].c_str();
      check(H5Dwrite(ds.get(), str_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()),
            "writing dataset " + gpath + "/" + name);
    }
    return ds;
  }

  // int64 index 0..n-1 as a dimension scale named `name`.
  Handle write_index_scale(hid_t loc, const std::string& gpath, const std::string& name,
                           std::size_t n, const std::string& description) {
    std::vector<std::int64_t> idx(n);
    std::iota(idx.begin(), idx.end(), std::int64_t{0});
    Handle ds = write_static(loc, gpath, name, idx.data(), n, "-", description);
    check(H5DSset_scale(ds.get(), name.c_str()),
          "making " + gpath + "/" + name + " a dimension scale");
    return ds;
  }

  void attach(hid_t ds, hid_t scale, unsigned axis, const std::string& path) {
    check(H5DSattach_scale(ds, scale, axis), "attaching a dimension scale to " + path);
  }

  // ---- geography ---------------------------------------------------------------------------

  struct Table {
    Handle group;
    std::string path;
    std::size_t n = 0;
    Handle scale;
  };

  Table open_table(hid_t parent, const std::string& name, const std::string& dim, std::size_t n,
                   const std::string& description) {
    Table t;
    t.path = "/geography/" + name;
    t.group = make_group(parent, name, t.path);
    t.n = n;
    t.scale = write_index_scale(t.group.get(), t.path, dim, n, description);
    return t;
  }

  void size_check(const Table& t, const char* name, std::size_t size) const {
    if (size != t.n) {
      throw std::runtime_error("HDF5 recorder: geography column " + t.path + "/" + name + " has " +
                               std::to_string(size) + " entries, expected " + std::to_string(t.n) +
                               " (file '" + partial_path + "')");
    }
  }

  template <class T>
  void column(Table& t, const char* name, const std::vector<T>& v, const char* units,
              const char* description) {
    size_check(t, name, v.size());
    Handle ds = write_static(t.group.get(), t.path, name, v.data(), v.size(), units, description);
    attach(ds.get(), t.scale.get(), 0, t.path + "/" + name);
    check(ds.close(), "closing " + t.path + "/" + name);
  }

  void id_column(Table& t, const char* name, const std::vector<Id>& v, const char* units,
                 const char* description) {
    std::vector<std::int64_t> wide(v.begin(), v.end());
    column(t, name, wide, units, description);
  }

  void string_column(Table& t, const char* name, const std::vector<std::string>& v,
                     const char* units, const char* description) {
    size_check(t, name, v.size());
    Handle ds = write_static_strings(t.group.get(), t.path, name, v, units, description);
    attach(ds.get(), t.scale.get(), 0, t.path + "/" + name);
    check(ds.close(), "closing " + t.path + "/" + name);
  }

  void close_table(Table& t) {
    check(t.scale.close(), "closing " + t.path);
    check(t.group.close(), "closing " + t.path);
  }

  void write_geography(const World& world) {
    const Geography& g = world.geo;
    Handle geo = make_group(file.get(), "geography", "/geography");
    set_str_attr(geo.get(), "description", "Static geography tables, one dataset per column",
                 "/geography");

    Table p =
        open_table(geo.get(), "provinces", "province", g.provinces(), "Province index (0-based)");
    string_column(p, "name", g.province_name, "-", "Province name");
    column(p, "industrial_base", g.province_industrial_base, "-",
           "Industrial base multiplier of the province");
    column(p, "rollout_offset", g.province_rollout_offset, "year",
           "Years added to the internet rollout midpoint t_mid");
    close_table(p);

    Table c = open_table(geo.get(), "counties", "county", g.counties(), "County index (0-based)");
    column(c, "code", g.county_code, "-", "External county id (input CSV) or the index");
    id_column(c, "province", g.county_province, "-", "Province index of the county");
    column(c, "x", g.county_x, "km", "County seat x coordinate");
    column(c, "y", g.county_y, "km", "County seat y coordinate");
    column(c, "poverty", g.county_poverty, "-", "Formerly poverty-listed county (1) or not (0)");
    column(c, "specialty", g.county_specialty, "-", "Specialty category index of the county");
    close_table(c);

    Table t = open_table(geo.get(), "towns", "town", g.towns(), "Town index (0-based)");
    column(t, "code", g.town_code, "-", "External town id (input CSV) or the index");
    id_column(t, "county", g.town_county, "-", "County index of the town");
    column(t, "x", g.town_x, "km", "Town x coordinate");
    column(t, "y", g.town_y, "km", "Town y coordinate");
    close_table(t);

    Table v = open_table(geo.get(), "villages", "village", g.villages(), "Village index (0-based)");
    column(v, "code", g.village_code, "-", "External village id (input CSV) or the index");
    id_column(v, "town", g.village_town, "-", "Town index of the village");
    id_column(v, "county", g.village_county, "-", "County index of the village");
    id_column(v, "province", g.village_province, "-", "Province index of the village");
    column(v, "x", g.village_x, "km", "Village x coordinate");
    column(v, "y", g.village_y, "km", "Village y coordinate");
    column(v, "households", g.households, "households", "Households in the village");
    column(v, "dist_seat", g.dist_seat, "km", "Distance to the county seat");
    column(v, "specialty", g.specialty, "-", "Specialty category index of the village");
    column(v, "strength", g.strength, "-", "Specialty strength s");
    column(v, "base_income", g.base_income, "RMB/yr",
           "Base (farm/off-farm) household income y0 at the start year");
    close_table(v);

    const std::size_t ncat = world.categories.size();
    std::vector<std::string> name(ncat);
    std::vector<double> share(ncat), margin(ncat), order_value(ncat);
    for (std::size_t i = 0; i < ncat; ++i) {
      name[i] = world.categories[i].name;
      share[i] = world.categories[i].share;
      margin[i] = world.categories[i].margin;
      order_value[i] = world.categories[i].order_value;
    }
    Table k =
        open_table(geo.get(), "categories", "category", ncat, "Product category index (0-based)");
    string_column(k, "name", name, "-", "Category name");
    column(k, "share", share, "-", "Share of national demand");
    column(k, "margin", margin, "-", "Gross margin on sales");
    column(k, "order_value", order_value, "RMB/order", "Value of one order (one parcel)");
    close_table(k);

    check(geo.close(), "closing /geography");
  }

  // ---- time series -------------------------------------------------------------------------

  // Creates a group whose datasets share an unlimited record dimension `rec_dim` (a scale of
  // kind `rec_kind`), optionally a `tick` dataset, an entity scale (rank-2 variables) and one
  // dataset per output variable in `vars`.
  void open_series(Series& s, const std::string& name, const std::string& group_description,
                   const char* rec_dim, Kind rec_kind, const char* rec_units,
                   const char* rec_description, bool with_tick, const char* entity_dim,
                   std::size_t entities, const char* entity_description,
                   const std::vector<int>& vars) {
    const auto& table = output_table();
    s.path = "/" + name;
    s.group = make_group(file.get(), name, s.path);
    set_str_attr(s.group.get(), "description", group_description, s.path);
    const hid_t g = s.group.get();
    const bool two_d = entity_dim != nullptr;
    const hsize_t width = two_d ? entities : 1;
    s.vars = vars;

    // Records per block write: at most kMaxFlushRows, and the block within the byte budget.
    const std::size_t record_bytes = 16 + vars.size() * static_cast<std::size_t>(width) * 8;
    s.flush_rows = std::clamp<hsize_t>(kFlushBudgetBytes / record_bytes, 1, kMaxFlushRows);

    if (two_d)
      s.entity_scale = write_index_scale(g, s.path, entity_dim, entities, entity_description);

    const hsize_t dims1[1] = {0};
    const hsize_t max1[1] = {H5S_UNLIMITED};
    const hsize_t chunk1[1] = {kChunk1D};
    auto add_column = [&](Handle ds, const std::string& cname, Kind kind, int rank) {
      Column col;
      col.ds = std::move(ds);
      col.path = s.path + "/" + cname;
      col.kind = kind;
      col.rank = rank;
      col.width = rank == 2 ? width : 1;
      s.cols.push_back(std::move(col));
    };

    Handle rec = create_ds(g, s.path, rec_dim, rec_kind, 1, dims1, max1, chunk1, false, rec_units,
                           rec_description);
    check(H5DSset_scale(rec.get(), rec_dim),
          "making " + s.path + "/" + rec_dim + " a dimension scale");
    const hid_t rec_id = rec.get();
    add_column(std::move(rec), rec_dim, rec_kind, 1);

    if (with_tick) {
      Handle tick = create_ds(g, s.path, "tick", Kind::I32, 1, dims1, max1, chunk1, false, "tick",
                              "Simulation tick (0-based) of the record");
      attach(tick.get(), rec_id, 0, s.path + "/tick");
      add_column(std::move(tick), "tick", Kind::I32, 1);
      Handle year =
          create_ds(g, s.path, "year", Kind::I32, 1, dims1, max1, chunk1, false, "year",
                    "Calendar year of the recorded tick (start_year + tick / ticks_per_year)");
      attach(year.get(), rec_id, 0, s.path + "/year");
      add_column(std::move(year), "year", Kind::I32, 1);
    }

    s.first_var = s.cols.size();
    const hsize_t chunk_entities =
        std::clamp<hsize_t>(kChunkTargetBytes / (8 * s.flush_rows), 1, std::max<hsize_t>(width, 1));
    const hsize_t dims2[2] = {0, width};
    // A zero-length fixed dimension cannot hold a chunk of extent 1; declare it unlimited then.
    const hsize_t max2[2] = {H5S_UNLIMITED, width > 0 ? width : H5S_UNLIMITED};
    const hsize_t chunk2[2] = {s.flush_rows, chunk_entities};
    for (int q : vars) {
      const OutputVar& var = table[static_cast<std::size_t>(q)];
      const std::string path = s.path + "/" + var.name;
      Handle ds = two_d ? create_ds(g, s.path, var.name, Kind::F64, 2, dims2, max2, chunk2, true,
                                    var.unit, var.description)
                        : create_ds(g, s.path, var.name, Kind::F64, 1, dims1, max1, chunk1, false,
                                    var.unit, var.description);
      set_str_attr(ds.get(), "aggregation", aggregation(var), path);
      // CF attribute: xarray makes tick and year coordinates of every variable.
      if (with_tick) set_str_attr(ds.get(), "coordinates", "tick year", path);
      attach(ds.get(), rec_id, 0, path);
      if (two_d) attach(ds.get(), s.entity_scale.get(), 1, path);
      add_column(std::move(ds), var.name, Kind::F64, two_d ? 2 : 1);
    }
  }

  template <class T>
  static void push_value(Column& c, T value) {
    const std::size_t off = c.buf.size();
    c.buf.resize(off + sizeof(T));
    std::memcpy(c.buf.data() + off, &value, sizeof(T));
  }

  // Appends one record of every variable column from an entity-major row (read sequentially,
  // written to one stream per variable).
  void push_vars(Series& s, const std::vector<double>& row) {
    const std::size_t nv = s.vars.size();
    if (nv == 0) return;
    const std::size_t w = s.cols[s.first_var].width;
    std::vector<unsigned char*> dst(nv);
    for (std::size_t k = 0; k < nv; ++k) {
      Column& c = s.cols[s.first_var + k];
      const std::size_t off = c.buf.size();
      c.buf.resize(off + w * sizeof(double));
      dst[k] = c.buf.data() + off;
    }
    for (std::size_t e = 0; e < w; ++e) {
      const double* src = row.data() + e * nvars;
      for (std::size_t k = 0; k < nv; ++k) {
        std::memcpy(dst[k] + e * sizeof(double), src + s.vars[k], sizeof(double));
      }
    }
  }

  void end_record(Series& s) {
    if (++s.pending >= s.flush_rows) flush(s);
  }

  // The series `s` also at the root group: one soft link /<name> -> /<group>/<name> per
  // dataset, so that xarray.open_dataset(file, engine="h5netcdf") without group= gives it.
  // Links are not datasets: the content hash (over the registered datasets) is unchanged.
  void link_at_root(const Series& s) {
    for (const Column& c : s.cols) {
      const std::string name = c.path.substr(s.path.size() + 1);
      check(H5Lcreate_soft(c.path.c_str(), file.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
            "linking /" + name + " to " + c.path);
    }
  }

  // Hands the buffered records of `s` to the writer thread (the buffers move with them).
  void flush(Series& s) {
    if (s.pending == 0) return;
    std::vector<std::pair<Column*, std::vector<unsigned char>>> blocks;
    blocks.reserve(s.cols.size());
    for (Column& c : s.cols) {
      const std::size_t capacity = c.buf.capacity();
      blocks.emplace_back(&c, std::move(c.buf));
      c.buf = {};
      c.buf.reserve(capacity);
    }
    const hsize_t first = s.on_disk, rows = s.pending;
    s.on_disk += s.pending;
    s.pending = 0;
    post([this, first, rows, blocks = std::move(blocks)] {
      for (const auto& [c, buf] : blocks) write_rows(*c, first, rows, buf);
    });
  }

  // Writes `rows` records from `buf` at record `first` of column `c` (extending the dataset).
  void write_rows(const Column& c, hsize_t first, hsize_t rows,
                  const std::vector<unsigned char>& buf) const {
    const std::string what = "appending to " + c.path;
    const hsize_t dims[2] = {first + rows, c.width};
    check(H5Dset_extent(c.ds.get(), dims), what);
    if (rows * c.width == 0) return;
    Handle fspace(check_id(H5Dget_space(c.ds.get()), what), H5Sclose);
    const hsize_t start[2] = {first, 0};
    const hsize_t count[2] = {rows, c.width};
    check(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), what);
    Handle mspace(check_id(H5Screate_simple(c.rank, count, nullptr), what), H5Sclose);
    check(
        H5Dwrite(c.ds.get(), le_type(c.kind), mspace.get(), fspace.get(), H5P_DEFAULT, buf.data()),
        what);
  }

  void close_series(Series& s) {
    for (Column& c : s.cols) check(c.ds.close(), "closing " + c.path);
    check(s.entity_scale.close(), "closing " + s.path);
    check(s.group.close(), "closing " + s.path);
  }

  void open_village_series() {
    if (village) return;
    village = std::make_unique<Series>();
    open_series(*village, "village_annual", "Annual per-village snapshots", "year", Kind::I32,
                "year", "Calendar year of the snapshot", false, "village", villages,
                "Village index (0-based, see /geography/villages)", village_vars);
  }

  // ---- checkpoints -------------------------------------------------------------------------

  // Copies rows [0, rows) of every column of `s` from the same datasets of `src` (a file image
  // written by this recorder's layout), one block of flush_rows rows at a time.
  void copy_series(hid_t src, Series& s, hsize_t rows) {
    for (Column& c : s.cols) {
      const std::string what = "restoring " + c.path + " from the checkpoint";
      Handle sds(check_id(H5Dopen2(src, c.path.c_str(), H5P_DEFAULT), what), H5Dclose);
      Handle sspace(check_id(H5Dget_space(sds.get()), what), H5Sclose);
      hsize_t sdims[2] = {0, 0};
      if (check(H5Sget_simple_extent_ndims(sspace.get()), what) != c.rank)
        throw std::runtime_error("HDF5 recorder: " + what + ": rank differs");
      check(H5Sget_simple_extent_dims(sspace.get(), sdims, nullptr), what);
      if (sdims[0] < rows || (c.rank == 2 && sdims[1] != c.width))
        throw std::runtime_error("HDF5 recorder: " + what + ": the checkpoint holds " +
                                 std::to_string(sdims[0]) + " records, expected " +
                                 std::to_string(rows));
      const hsize_t dims[2] = {rows, c.width};
      check(H5Dset_extent(c.ds.get(), dims), what);
      for (hsize_t r0 = 0; r0 < rows; r0 += s.flush_rows) {
        const hsize_t n = std::min<hsize_t>(s.flush_rows, rows - r0);
        const hsize_t start[2] = {r0, 0};
        const hsize_t count[2] = {n, c.width};
        if (n * c.width == 0) continue;
        c.buf.resize(n * c.width * elem_size(c.kind));
        Handle mspace(check_id(H5Screate_simple(c.rank, count, nullptr), what), H5Sclose);
        check(H5Sselect_hyperslab(sspace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
              what);
        check(H5Dread(sds.get(), le_type(c.kind), mspace.get(), sspace.get(), H5P_DEFAULT,
                      c.buf.data()),
              what);
        Handle fspace(check_id(H5Dget_space(c.ds.get()), what), H5Sclose);
        check(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
              what);
        check(H5Dwrite(c.ds.get(), le_type(c.kind), mspace.get(), fspace.get(), H5P_DEFAULT,
                       c.buf.data()),
              what);
      }
      c.buf.clear();
    }
    s.on_disk = rows;
    s.pending = 0;
  }

  // ---- store and livestreamer snapshots ----------------------------------------------------

  // /snapshots/<year>: closed_store_sales, and one group per entity (stores, livestreamers) with
  // an index scale and one 1-D dataset per field of snapshot_table(), written at once.
  void write_entity_snapshot(const EntitySnapshot& s) {
    const std::string top_path = "/snapshots";
    Handle top;
    if (check(H5Lexists(file.get(), "snapshots", H5P_DEFAULT), "looking up " + top_path) > 0) {
      top = Handle(check_id(H5Gopen2(file.get(), "snapshots", H5P_DEFAULT), "opening " + top_path),
                   H5Gclose);
    } else {
      top = make_group(file.get(), "snapshots", top_path);
      set_str_attr(top.get(), "description",
                   "Every store and livestreamer at the end of the years of "
                   "output.snapshot_years, one group per year",
                   top_path);
    }
    const std::string yname = std::to_string(s.year);
    const std::string gp = top_path + "/" + yname;
    Handle g = make_group(top.get(), yname, gp);
    set_str_attr(g.get(), "description",
                 "Stores and livestreamers alive at the end of year " + yname + " (tick " +
                     std::to_string(s.tick) + ")",
                 gp);
    set_int_attr(g.get(), "year", s.year, gp);
    set_int_attr(g.get(), "tick", s.tick, gp);
    {
      const std::string what = "writing dataset " + gp + "/closed_store_sales";
      Handle ds = create_ds(g.get(), gp, "closed_store_sales", Kind::F64, 0, nullptr, nullptr,
                            nullptr, false, "RMB",
                            "Calendar-year sales of the stores that closed during the year (not "
                            "in stores/): with the sum of stores/sales, the year's sales_total");
      check(H5Dwrite(ds.get(), le_type(Kind::F64), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                     &s.closed_store_sales),
            what);
      check(ds.close(), what);
    }
    for (const auto* cols : {&s.stores, &s.livestreamers}) {
      if (cols->empty()) continue;
      const SnapshotGroup grp = cols->front().first->group;
      const std::string name = snapshot_group_name(grp);
      const std::string path = gp + "/" + name;
      Handle sub = make_group(g.get(), name, path);
      set_str_attr(sub.get(), "description",
                   std::string(grp == SnapshotGroup::Stores ? "Stores" : "Livestreamers") +
                       " alive at the end of year " + yname + ", one entry each",
                   path);
      const std::size_t n =
          std::visit([](const auto& v) { return v.size(); }, cols->front().second);
      const std::string dim = snapshot_dim_name(grp);
      Handle scale = write_index_scale(sub.get(), path, dim, n,
                                       std::string("Index of the ") + dim + " in this snapshot");
      for (const auto& [field, column] : *cols) {
        std::visit(
            [&, f = field](const auto& v) {
              if (v.size() != n)
                throw std::logic_error("HDF5 recorder: snapshot field " + path + "/" + f->name +
                                       " has " + std::to_string(v.size()) + " entries, expected " +
                                       std::to_string(n));
              Handle ds =
                  write_static(sub.get(), path, f->name, v.data(), n, f->unit, f->description);
              attach(ds.get(), scale.get(), 0, path + "/" + f->name);
              check(ds.close(), "closing " + path + "/" + f->name);
            },
            column);
      }
      check(scale.close(), "closing " + path + "/" + dim);
      check(sub.close(), "closing " + path);
    }
    check(g.close(), "closing " + gp);
    check(top.close(), "closing " + top_path);
  }

  // ---- events, hash, provenance ------------------------------------------------------------

  void write_events(const std::vector<Event>& events) {
    const std::string gp = "/events";
    Handle g = make_group(file.get(), "events", gp);
    set_str_attr(g.get(), "description", "Discrete events in order of occurrence", gp);
    const std::size_t n = events.size();
    std::vector<std::int32_t> tick(n), year(n), kind(n);
    std::vector<std::int64_t> entity(n);
    std::vector<double> value(n);
    std::vector<std::string> kind_name(n), level(n);
    std::vector<double> time(n);
    for (std::size_t i = 0; i < n; ++i) {
      const Event& e = events[i];
      tick[i] = e.tick;
      // floor division, so that negative ticks (none expected) still map to the right year
      const std::int32_t q =
          e.tick / ticks_per_year - ((e.tick % ticks_per_year != 0 && e.tick < 0) ? 1 : 0);
      year[i] = start_year + q;
      kind[i] = e.kind;
      entity[i] = e.entity;
      value[i] = e.value;
      const char* nm = event_kind_name(static_cast<EventKind>(e.kind));
      kind_name[i] = nm != nullptr ? nm : "unknown";
      level[i] = event_entity_level(static_cast<EventKind>(e.kind), e.entity);
      time[i] = start_year + (e.tick + 1.0) / ticks_per_year;
    }
    std::string codes = "Event kind code:";
    for (int k = static_cast<int>(EventKind::TaobaoVillage);
         k <= static_cast<int>(EventKind::InterventionEnd); ++k) {
      const char* nm = event_kind_name(static_cast<EventKind>(k));
      codes += " " + std::to_string(k) + "=" + (nm != nullptr ? nm : "?");
    }

    Handle scale = write_index_scale(g.get(), gp, "event", n, "Event index (0-based)");
    auto finish = [&](Handle ds, const char* name) {
      attach(ds.get(), scale.get(), 0, gp + "/" + name);
      check(ds.close(), "closing " + gp + "/" + name);
    };
    finish(write_static(g.get(), gp, "tick", tick.data(), n, "tick", "Tick of the event"), "tick");
    finish(write_static(g.get(), gp, "year", year.data(), n, "year",
                        "Calendar year of the event (start_year + tick / ticks_per_year)"),
           "year");
    finish(write_static(g.get(), gp, "kind", kind.data(), n, "-", codes), "kind");
    finish(write_static_strings(g.get(), gp, "kind_name", kind_name, "-", "Event kind name"),
           "kind_name");
    finish(write_static(g.get(), gp, "time", time.data(), n, "year",
                        "Decimal calendar year at the end of the event's tick (as /national/time)"),
           "time");
    finish(write_static(g.get(), gp, "entity", entity.data(), n, "-",
                        "Index of the village, town or county concerned (see entity_level)"),
           "entity");
    finish(write_static_strings(g.get(), gp, "entity_level", level, "-",
                                "What entity indexes: village, town, county or none"),
           "entity_level");
    finish(write_static(g.get(), gp, "value", value.data(), n, "-", "Event value (kind-specific)"),
           "value");
    check(scale.close(), "closing " + gp + "/event");
    check(g.close(), "closing " + gp);
  }

  std::string content_hash() {
    std::vector<ResultDataset> list = results;
    std::sort(list.begin(), list.end(),
              [](const ResultDataset& a, const ResultDataset& b) { return a.path < b.path; });
    Sha256 sha;
    const char nul = '\0';
    std::vector<unsigned char> block;
    std::vector<char*> strings;
    for (const ResultDataset& r : list) {
      const std::string what = "reading back " + r.path + " for the content hash";
      sha.update(r.path);
      sha.update(&nul, 1);
      Handle ds(check_id(H5Dopen2(file.get(), r.path.c_str(), H5P_DEFAULT), what), H5Dclose);
      Handle fspace(check_id(H5Dget_space(ds.get()), what), H5Sclose);
      const int rank = check(H5Sget_simple_extent_ndims(fspace.get()), what);
      hsize_t dims[H5S_MAX_RANK] = {};
      check(H5Sget_simple_extent_dims(fspace.get(), dims, nullptr), what);
      hsize_t rows = 1, row_elems = 1;
      if (rank > 0) rows = dims[0];
      for (int d = 1; d < rank; ++d) row_elems *= dims[d];
      if (rows == 0 || row_elems == 0) continue;
      const std::size_t esize = elem_size(r.kind);
      hsize_t rows_per_block =
          std::max<hsize_t>(1, kReadBlockBytes / (row_elems * static_cast<hsize_t>(esize)));
      {  // read whole chunks along the record dimension
        Handle dcpl(check_id(H5Dget_create_plist(ds.get()), what), H5Pclose);
        hsize_t chunk[H5S_MAX_RANK] = {};
        if (rank > 0 && H5Pget_layout(dcpl.get()) == H5D_CHUNKED &&
            H5Pget_chunk(dcpl.get(), H5S_MAX_RANK, chunk) == rank && chunk[0] > 0) {
          rows_per_block = std::max(chunk[0], rows_per_block / chunk[0] * chunk[0]);
        }
      }
      for (hsize_t r0 = 0; r0 < rows; r0 += rows_per_block) {
        const hsize_t nb = std::min(rows_per_block, rows - r0);
        const hsize_t nelem = nb * row_elems;
        hsize_t start[H5S_MAX_RANK] = {};
        hsize_t count[H5S_MAX_RANK] = {};
        start[0] = r0;
        count[0] = nb;
        for (int d = 1; d < rank; ++d) count[d] = dims[d];
        if (rank > 0) {
          check(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
                what);
        }
        // The memory space has the shape of the selection (HDF5 then copies whole rows).
        Handle mspace(check_id(rank > 0 ? H5Screate_simple(rank, count, nullptr)
                                        : H5Screate_simple(1, &nelem, nullptr),
                               what),
                      H5Sclose);
        if (r.kind == Kind::Str) {
          strings.assign(nelem, nullptr);
          check(H5Dread(ds.get(), str_type.get(), mspace.get(), fspace.get(), H5P_DEFAULT,
                        strings.data()),
                what);
          for (const char* sp : strings) {
            if (sp != nullptr) sha.update(sp, std::strlen(sp));
            sha.update(&nul, 1);
          }
          check(H5Dvlen_reclaim(str_type.get(), mspace.get(), H5P_DEFAULT, strings.data()), what);
        } else {
          block.resize(nelem * esize);
          check(H5Dread(ds.get(), le_type(r.kind), mspace.get(), fspace.get(), H5P_DEFAULT,
                        block.data()),
                what);
          sha.update(block.data(), block.size());
        }
      }
      check(ds.close(), what);
    }
    return sha.hex_digest();
  }

  void write_provenance(const Provenance& prov, const std::string& hash) {
    const std::string gp = "/provenance";
    Handle g = make_group(file.get(), "provenance", gp);
    set_str_attr(g.get(), "description",
                 "Scenario text as given and fully resolved; run metadata is on the root group",
                 gp);
    auto scalar = [&](const char* name, const std::string& text, const char* description) {
      Handle ds = create_ds(g.get(), gp, name, Kind::Str, 0, nullptr, nullptr, nullptr, false, "-",
                            description, /*result=*/false);
      const char* p = text.c_str();
      check(H5Dwrite(ds.get(), str_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p),
            "writing dataset " + gp + "/" + name);
      check(ds.close(), "closing " + gp + "/" + name);
    };
    scalar("scenario_input", prov.scenario_input, "Scenario file text as given");
    scalar("scenario_resolved", prov.scenario_resolved,
           "Resolved scenario with every default filled in");
    if (!prov.geography_csv.empty())
      scalar("geography_csv", prov.geography_csv,
             "Village table (CSV) the geography was read from");
    check(g.close(), "closing " + gp);

    const hid_t root = file.get();
    for (const auto& [key, value] : prov.attrs) set_str_attr(root, key, value, "/");
    set_str_attr(root, "content_hash", hash, "/");
    set_str_attr(root, "content_hash_algorithm", kHashAlgorithm, "/");
    set_int_attr(root, "ticks_per_year", ticks_per_year, "/");
    set_int_attr(root, "start_year", start_year, "/");
    set_str_attr(root, "format", kFormat, "/");
  }

  // Closes every handle, the file last. Returns false if anything failed.
  bool close_all() noexcept {
    bool good = true;
    auto close_series_quiet = [&](Series& s) {
      for (Column& c : s.cols) good = c.ds.close() >= 0 && good;
      good = s.entity_scale.close() >= 0 && good;
      good = s.group.close() >= 0 && good;
    };
    close_series_quiet(national);
    close_series_quiet(province);
    close_series_quiet(county);
    if (village) close_series_quiet(*village);
    good = str_type.close() >= 0 && good;
    good = gcpl.close() >= 0 && good;
    good = file.close() >= 0 && good;
    return good;
  }

  void require_open(const char* op) const {
    if (committed || !file.valid()) {
      throw std::logic_error(std::string("HDF5 recorder: ") + op + " after commit() for file '" +
                             final_path + "'");
    }
  }

  // ---- construction ------------------------------------------------------------------------

  void open(const World& world) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    if (ticks_per_year <= 0) {
      throw std::invalid_argument("HDF5 recorder: ticks_per_year must be positive (file '" +
                                  final_path + "')");
    }
    const auto& table = output_table();
    nvars = table.size();
    for (std::size_t i = 0; i < nvars; ++i) {
      all_vars.push_back(static_cast<int>(i));
      if (table[i].village) village_vars.push_back(static_cast<int>(i));
    }
    provinces = world.geo.provinces();
    counties = world.geo.counties();
    villages = world.geo.villages();

    const fs::path parent = fs::path(partial_path).parent_path();
    if (!parent.empty()) {
      std::error_code ec;
      fs::create_directories(parent, ec);
      if (ec) {
        throw std::runtime_error("HDF5 recorder: cannot create directory '" + parent.string() +
                                 "' for file '" + final_path + "': " + ec.message());
      }
    }

    const std::string what = "creating the file";
    str_type = Handle(check_id(H5Tcopy(H5T_C_S1), what), H5Tclose);
    check(H5Tset_size(str_type.get(), H5T_VARIABLE), what);
    check(H5Tset_cset(str_type.get(), H5T_CSET_UTF8), what);
    gcpl = Handle(check_id(H5Pcreate(H5P_GROUP_CREATE), what), H5Pclose);
    check(H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
          what);
    Handle fcpl(check_id(H5Pcreate(H5P_FILE_CREATE), what), H5Pclose);
    check(H5Pset_link_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
          what);
    Handle fapl(check_id(H5Pcreate(H5P_FILE_ACCESS), what), H5Pclose);
    check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18), what);
    check(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), what);
    // A .partial left by a killed run is removed; one another process is writing is not touched
    // (H5F_ACC_TRUNC would truncate it before noticing the lock).
    remove_stale_partial(partial_path);
    file = Handle(
        check_id(H5Fcreate(partial_path.c_str(), H5F_ACC_EXCL, fcpl.get(), fapl.get()), what),
        H5Fclose);
    created = true;

    write_geography(world);
    open_series(national, "national", "National totals and means, one record per recorded tick",
                "time", Kind::F64, "year", "Decimal calendar year at the end of the recorded tick",
                true, nullptr, 0, nullptr, all_vars);
    link_at_root(national);
    open_series(province, "province", "Per-province values, one record per recorded tick", "time",
                Kind::F64, "year", "Decimal calendar year at the end of the recorded tick", true,
                "province", provinces, "Province index (0-based, see /geography/provinces)",
                all_vars);
    open_series(county, "county", "Per-county values, one record per recorded tick", "time",
                Kind::F64, "year", "Decimal calendar year at the end of the recorded tick", true,
                "county", counties, "County index (0-based, see /geography/counties)", all_vars);
  }
};

// ---- Recorder ------------------------------------------------------------------------------

Recorder::Recorder(const std::string& final_path, const World& world, int ticks_per_year,
                   int start_year)
    : impl_(std::make_unique<Impl>(final_path, ticks_per_year, start_year)) {
  // If open() throws, impl_ is destroyed and removes the partial file.
  impl_->open(world);
}

Recorder::~Recorder() = default;

void Recorder::append(std::int32_t tick, double time, const std::vector<double>& national,
                      const std::vector<double>& province, const std::vector<double>& county) {
  Impl& im = *impl_;
  im.require_open("append()");
  im.check_writer();  // a block write that failed stops the run at the next record
  auto size_check = [&](const char* what, std::size_t got, std::size_t entities) {
    if (got != entities * im.nvars) {
      throw std::invalid_argument("HDF5 recorder: " + std::string(what) + " record has " +
                                  std::to_string(got) + " values, expected " +
                                  std::to_string(entities * im.nvars) + " (file '" + im.final_path +
                                  "')");
    }
  };
  size_check("national", national.size(), 1);
  size_check("province", province.size(), im.provinces);
  size_check("county", county.size(), im.counties);
  for (Series* s : {&im.national, &im.province, &im.county}) {
    Impl::push_value(s->cols[0], time);
    Impl::push_value(s->cols[1], tick);
    Impl::push_value(s->cols[2],
                     static_cast<std::int32_t>(im.start_year + tick / im.ticks_per_year));
  }
  im.push_vars(im.national, national);
  im.push_vars(im.province, province);
  im.push_vars(im.county, county);
  im.end_record(im.national);
  im.end_record(im.province);
  im.end_record(im.county);
}

void Recorder::append_village_snapshot(std::int32_t year, const std::vector<double>& village) {
  Impl& im = *impl_;
  im.require_open("append_village_snapshot()");
  im.drain();
  if (village.size() != im.villages * im.nvars) {
    throw std::invalid_argument("HDF5 recorder: village snapshot has " +
                                std::to_string(village.size()) + " values, expected " +
                                std::to_string(im.villages * im.nvars) + " (file '" +
                                im.final_path + "')");
  }
  im.open_village_series();
  Impl::push_value(im.village->cols[0], year);
  im.push_vars(*im.village, village);
  im.end_record(*im.village);
}

void Recorder::append_entity_snapshot(const EntitySnapshot& snapshot) {
  Impl& im = *impl_;
  im.require_open("append_entity_snapshot()");
  im.drain();
  im.write_entity_snapshot(snapshot);
}

std::string Recorder::commit(const std::vector<Event>& events, Provenance prov) {
  Impl& im = *impl_;
  im.require_open("commit()");
  im.flush(im.national);
  im.flush(im.province);
  im.flush(im.county);
  if (im.village) im.flush(*im.village);
  im.drain();
  im.stop_writer(false);
  im.write_events(events);
  const std::string hash = im.content_hash();
  im.write_provenance(prov, hash);

  im.close_series(im.national);
  im.close_series(im.province);
  im.close_series(im.county);
  if (im.village) im.close_series(*im.village);
  im.check(im.str_type.close(), "closing a datatype");
  im.check(im.gcpl.close(), "closing a property list");
  im.check(im.file.close(), "closing the file");

  std::error_code ec;
  fs::rename(im.partial_path, im.final_path, ec);
  if (ec) {
    throw std::runtime_error("HDF5 recorder: cannot rename '" + im.partial_path + "' to '" +
                             im.final_path + "': " + ec.message());
  }
  im.committed = true;
  return hash;
}

const std::string& Recorder::final_path() const {
  return impl_->final_path;
}

namespace {

void put_u64(std::string& out, std::uint64_t v) {
  out.append(reinterpret_cast<const char*>(&v), 8);
}

// The buffered records of a series: their count, then each column's bytes.
void put_pending(std::string& out, const Series& s) {
  put_u64(out, s.pending);
  for (const Column& c : s.cols) {
    put_u64(out, c.buf.size());
    out.append(reinterpret_cast<const char*>(c.buf.data()), c.buf.size());
  }
}

struct PendingReader {
  const std::string& in;
  std::size_t at = 0;
  std::uint64_t u64() {
    if (in.size() - at < 8) throw std::runtime_error("HDF5 recorder: buffered records are cut");
    std::uint64_t v = 0;
    std::memcpy(&v, in.data() + at, 8);
    at += 8;
    return v;
  }
  // The number of records of the next series, which is skipped.
  std::uint64_t skip_series_of(std::size_t columns) {
    const std::uint64_t n = u64();
    for (std::size_t c = 0; c < columns; ++c) {
      const std::uint64_t bytes = u64();
      if (in.size() - at < bytes)
        throw std::runtime_error("HDF5 recorder: buffered records are cut");
      at += bytes;
    }
    return n;
  }
  void series(Series& s) {
    const std::uint64_t n = u64();
    if (n >= s.flush_rows)
      throw std::runtime_error("HDF5 recorder: too many buffered records in " + s.path);
    for (Column& c : s.cols) {
      const std::uint64_t bytes = u64();
      if (bytes != n * c.width * elem_size(c.kind) || in.size() - at < bytes)
        throw std::runtime_error("HDF5 recorder: buffered records of " + c.path +
                                 " have the wrong size");
      c.buf.assign(in.data() + at, in.data() + at + bytes);
      at += bytes;
    }
    s.pending = n;
  }
};

}  // namespace

RecorderPosition Recorder::checkpoint(std::vector<unsigned char>& image) {
  Impl& im = *impl_;
  im.require_open("checkpoint()");
  im.drain();
  RecorderPosition pos;
  pos.records = im.national.on_disk;
  pos.snapshots = im.village ? im.village->on_disk : 0;
  for (const Series* s : {&im.national, &im.province, &im.county}) put_pending(pos.pending, *s);
  pos.pending.push_back(im.village ? '\1' : '\0');
  if (im.village) put_pending(pos.pending, *im.village);
  // After a flush the file on disk is complete and consistent (superblock, metadata, data);
  // its bytes are the image.
  im.check(H5Fflush(im.file.get(), H5F_SCOPE_GLOBAL), "flushing the file for a checkpoint");
  std::ifstream in(im.partial_path, std::ios::binary);
  image.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof())
    throw std::runtime_error("cannot read '" + im.partial_path + "' for a checkpoint");
  return pos;
}

bool output_image_opens(const std::vector<unsigned char>& image) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  if (image.empty()) return false;
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0) return false;
  bool ok = H5Pset_fapl_core(fapl, 1 << 20, 0) >= 0 &&
            H5Pset_file_image(fapl, const_cast<unsigned char*>(image.data()), image.size()) >= 0;
  const hid_t f = ok ? H5Fopen("checkpoint-output-image", H5F_ACC_RDONLY, fapl) : -1;
  H5Pclose(fapl);
  if (f < 0) return false;
  for (const char* g : {"national", "province", "county"})
    ok = ok && H5Lexists(f, g, H5P_DEFAULT) > 0;
  H5Fclose(f);
  return ok;
}

void Recorder::restore(const std::vector<unsigned char>& image, const RecorderPosition& pos) {
  Impl& im = *impl_;
  im.require_open("restore()");
  im.drain();
  if (im.national.on_disk + im.national.pending != 0 || im.village)
    throw std::logic_error("HDF5 recorder: restore() after records were appended");
  const std::string what = "opening the output image of the checkpoint";
  // The image is opened with the core (in-memory) driver, which takes a copy of it
  // (H5LTopen_file_image without copying leaks its bookkeeping in HDF5 1.10).
  Handle fapl(im.check_id(H5Pcreate(H5P_FILE_ACCESS), what), H5Pclose);
  im.check(H5Pset_fapl_core(fapl.get(), 1 << 20, 0), what);
  im.check(H5Pset_file_image(fapl.get(), const_cast<unsigned char*>(image.data()), image.size()),
           what);
  Handle src(im.check_id(H5Fopen("checkpoint-output-image", H5F_ACC_RDONLY, fapl.get()), what),
             H5Fclose);
  // Every record went to the three series, but each writes its blocks at its own size: a
  // series' records on disk are all records less those it still buffered.
  PendingReader peek{pos.pending};
  std::uint64_t buffered[3];
  {
    int k = 0;
    for (const Series* s : {&im.national, &im.province, &im.county})
      buffered[k++] = peek.skip_series_of(s->cols.size());
  }
  const std::uint64_t total = pos.records + buffered[0];
  PendingReader pending{pos.pending};
  int k = 0;
  for (Series* s : {&im.national, &im.province, &im.county}) {
    if (buffered[k] > total)
      throw std::runtime_error("HDF5 recorder: buffered records of " + s->path + " are too many");
    im.copy_series(src.get(), *s, total - buffered[k++]);
    pending.series(*s);
  }
  if (pending.at >= pos.pending.size())
    throw std::runtime_error("HDF5 recorder: buffered records are cut");
  if (pos.pending[pending.at++] != '\0') {
    im.open_village_series();
    im.copy_series(src.get(), *im.village, pos.snapshots);
    pending.series(*im.village);
  }
  if (pending.at != pos.pending.size())
    throw std::runtime_error("HDF5 recorder: buffered records have extra bytes");
  // Store and livestreamer snapshots already written (whole years): copied as they are, and
  // their datasets registered for the content hash as when they were written.
  if (im.check(H5Lexists(src.get(), "snapshots", H5P_DEFAULT), what) > 0) {
    const std::string swhat = "restoring /snapshots from the checkpoint";
    im.check(H5Ocopy(src.get(), "snapshots", im.file.get(), "snapshots", H5P_DEFAULT, H5P_DEFAULT),
             swhat);
    Handle g(im.check_id(H5Gopen2(im.file.get(), "snapshots", H5P_DEFAULT), swhat), H5Gclose);
    std::vector<std::string> names;
    im.check(H5Ovisit(
                 g.get(), H5_INDEX_NAME, H5_ITER_INC,
                 [](hid_t, const char* name, const H5O_info_t* info, void* data) -> herr_t {
                   if (info->type == H5O_TYPE_DATASET)
                     static_cast<std::vector<std::string>*>(data)->push_back(name);
                   return 0;
                 },
                 &names),
             swhat);
    for (const std::string& n : names) {
      const std::string path = "/snapshots/" + n;
      Handle ds(im.check_id(H5Dopen2(g.get(), n.c_str(), H5P_DEFAULT), swhat), H5Dclose);
      Handle t(im.check_id(H5Dget_type(ds.get()), swhat), H5Tclose);
      const H5T_class_t cls = H5Tget_class(t.get());
      const std::size_t size = H5Tget_size(t.get());
      Kind kind;
      if (cls == H5T_FLOAT && (size == 8 || size == 4))
        kind = size == 8 ? Kind::F64 : Kind::F32;
      else if (cls == H5T_INTEGER && size == 8)
        kind = Kind::I64;
      else if (cls == H5T_INTEGER && size == 4)
        kind = Kind::I32;
      else if (cls == H5T_INTEGER && size == 1)
        kind = Kind::U8;
      else if (cls == H5T_STRING)
        kind = Kind::Str;
      else
        throw std::runtime_error("HDF5 recorder: " + swhat + ": " + path +
                                 " has a type it never writes");
      im.results.push_back({path, kind});
    }
  }
  im.check(src.close(), what);
}

}  // namespace ruralsim
