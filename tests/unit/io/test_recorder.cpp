#include <hdf5.h>
#include <hdf5_hl.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "io/recorder.hpp"
#include "model/outputs.hpp"
#include "model/world.hpp"

namespace fs = std::filesystem;
using namespace ruralsim;

namespace {

// 2 provinces, 2 counties, 2 towns, 3 villages (villages 0,1 in town 0 / county 0 / province 0;
// village 2 in town 1 / county 1 / province 1), 2 categories.
World tiny_world() {
  World w;
  Geography& g = w.geo;
  g.province_name = {"Alpha", "Beta"};
  g.province_industrial_base = {1.0, 0.8};
  g.province_rollout_offset = {0.0, 0.5};
  g.county_province = {0, 1};
  g.county_code = {110101, 220202};
  g.county_x = {0.0, 300.0};
  g.county_y = {0.0, 40.0};
  g.county_poverty = {0, 1};
  g.county_specialty = {0, 1};
  g.county_village_begin = {0, 2};
  g.county_village_end = {2, 3};
  g.town_county = {0, 1};
  g.town_code = {11010101, 22020201};
  g.town_x = {1.0, 301.0};
  g.town_y = {2.0, 41.0};
  g.town_village_begin = {0, 2};
  g.town_village_end = {2, 3};
  g.village_code = {1, 2, 3};
  g.village_town = {0, 0, 1};
  g.village_county = {0, 0, 1};
  g.village_province = {0, 0, 1};
  g.village_x = {1.5, 2.5, 302.0};
  g.village_y = {2.0, 3.0, 42.0};
  g.households = {300, 250, 410};
  g.dist_seat = {2.5, 3.9, 2.2};
  g.specialty = {0, 0, 1};
  g.strength = {1.2, 0.9, 1.1};
  g.base_income = {18000.0, 17500.0, 16000.0};
  g.nbr_offset = {0, 1, 2, 2};
  g.nbr_index = {1, 0};
  Category apparel;
  apparel.name = "apparel";
  apparel.share = 0.3;
  Category food;
  food.name = "food";
  food.share = 0.2;
  food.margin = 0.2;
  food.order_value = 60.0;
  w.categories = {apparel, food};
  return w;
}

std::size_t nvars() {
  return output_table().size();
}

double national_value(int tick, std::size_t k) {
  return tick * 100.0 + static_cast<double>(k);
}
double province_value(int tick, std::size_t e, std::size_t k) {
  return 1000.0 * static_cast<double>(e) + tick + 0.5 * static_cast<double>(k);
}
double county_value(int tick, std::size_t e, std::size_t k) {
  return -1000.0 * static_cast<double>(e) - tick - 0.25 * static_cast<double>(k);
}
double village_value(int year, std::size_t v, std::size_t k) {
  return year + 10.0 * static_cast<double>(v) + 0.125 * static_cast<double>(k);
}

constexpr int kTicksPerYear = 52;
constexpr int kStartYear = 2009;

void append_records(Recorder& rec, int n) {
  const std::size_t nv = nvars();
  for (int tick = 0; tick < n; ++tick) {
    std::vector<double> nat(nv), prov(2 * nv), cty(2 * nv);
    for (std::size_t k = 0; k < nv; ++k) {
      nat[k] = national_value(tick, k);
      for (std::size_t e = 0; e < 2; ++e) {
        prov[e * nv + k] = province_value(tick, e, k);
        cty[e * nv + k] = county_value(tick, e, k);
      }
    }
    const double time = kStartYear + (tick + 1.0) / kTicksPerYear;
    rec.append(tick, time, nat, prov, cty);
  }
}

std::vector<double> village_row(int year) {
  const std::size_t nv = nvars();
  std::vector<double> row(3 * nv);
  for (std::size_t v = 0; v < 3; ++v)
    for (std::size_t k = 0; k < nv; ++k) row[v * nv + k] = village_value(year, v, k);
  return row;
}

std::vector<Event> some_events() {
  return {{10, static_cast<std::int32_t>(EventKind::StationOpened), 2, 1.0},
          {60, static_cast<std::int32_t>(EventKind::TaobaoVillage), 0, 2.0e7}};
}

Provenance some_provenance() {
  Provenance p;
  p.attrs["seed"] = "42";
  p.attrs["git_commit"] = "abc123";
  p.attrs["ruralsim_version"] = "0.1.0";
  p.scenario_input = "simulation:\n  seed: 42\n";
  p.scenario_resolved = "simulation:\n  seed: 42\n  years: 13\n";
  return p;
}

// A fresh, empty directory per call.
fs::path scratch_dir() {
  static int counter = 0;
  fs::path dir =
      fs::temp_directory_path() /
      ("ruralsim_test_recorder_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Minimal read-only access to a committed file.
class File {
 public:
  explicit File(const std::string& path) : id_(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)) {
    REQUIRE(id_ >= 0);
  }
  ~File() { H5Fclose(id_); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  bool exists(const std::string& path) const {
    return H5Lexists(id_, path.c_str(), H5P_DEFAULT) > 0;
  }
  std::vector<hsize_t> shape(const std::string& path) const {
    hid_t ds = H5Dopen2(id_, path.c_str(), H5P_DEFAULT);
    REQUIRE(ds >= 0);
    hid_t sp = H5Dget_space(ds);
    const int rank = H5Sget_simple_extent_ndims(sp);
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(sp, dims.data(), nullptr);
    H5Sclose(sp);
    H5Dclose(ds);
    return dims;
  }
  template <class T>
  std::vector<T> read(const std::string& path, hid_t mem_type) const {
    std::size_t n = 1;
    for (hsize_t d : shape(path)) n *= d;
    std::vector<T> out(n);
    hid_t ds = H5Dopen2(id_, path.c_str(), H5P_DEFAULT);
    REQUIRE(ds >= 0);
    if (n > 0) REQUIRE(H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0);
    H5Dclose(ds);
    return out;
  }
  std::vector<double> doubles(const std::string& path) const {
    return read<double>(path, H5T_NATIVE_DOUBLE);
  }
  std::string string_attr(const std::string& obj_path, const std::string& name) const {
    hid_t attr = H5Aopen_by_name(id_, obj_path.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(attr >= 0);
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    char* value = nullptr;
    REQUIRE(H5Aread(attr, type, &value) >= 0);
    std::string out = value != nullptr ? value : "";
    H5free_memory(value);
    H5Tclose(type);
    H5Aclose(attr);
    return out;
  }
  int num_scales(const std::string& path, unsigned axis) const {
    hid_t ds = H5Dopen2(id_, path.c_str(), H5P_DEFAULT);
    REQUIRE(ds >= 0);
    const int n = H5DSget_num_scales(ds, axis);
    H5Dclose(ds);
    return n;
  }
  bool is_scale(const std::string& path) const {
    hid_t ds = H5Dopen2(id_, path.c_str(), H5P_DEFAULT);
    REQUIRE(ds >= 0);
    const bool s = H5DSis_scale(ds) > 0;
    H5Dclose(ds);
    return s;
  }

 private:
  hid_t id_;
};

// Records `records` ticks and one snapshot into dir/name; optionally perturbs one county value.
std::string record(const fs::path& dir, const std::string& name, int records,
                   bool perturb = false) {
  const World w = tiny_world();
  Recorder rec((dir / name).string(), w, kTicksPerYear, kStartYear);
  append_records(rec, records);
  if (perturb) {
    const std::size_t nv = nvars();
    std::vector<double> nat(nv, 0.0), prov(2 * nv, 0.0), cty(2 * nv, 0.0);
    cty[nv + 3] = 1e-12;
    rec.append(records, kStartYear + (records + 1.0) / kTicksPerYear, nat, prov, cty);
  } else {
    const std::size_t nv = nvars();
    std::vector<double> nat(nv, 0.0), prov(2 * nv, 0.0), cty(2 * nv, 0.0);
    rec.append(records, kStartYear + (records + 1.0) / kTicksPerYear, nat, prov, cty);
  }
  rec.append_village_snapshot(kStartYear, village_row(kStartYear));
  return rec.commit(some_events(), some_provenance());
}

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

TEST_CASE("recorder writes the file under a temporary name until commit", "[recorder]") {
  const fs::path dir = scratch_dir();
  const std::string final_path = (dir / "out" / "run.h5").string();  // parent does not exist yet
  const World w = tiny_world();
  std::string hash;
  {
    Recorder rec(final_path, w, kTicksPerYear, kStartYear);
    CHECK(rec.final_path() == final_path);
    append_records(rec, 3);
    rec.append_village_snapshot(2009, village_row(2009));
    CHECK(fs::exists(final_path + ".partial"));
    CHECK_FALSE(fs::exists(final_path));
    hash = rec.commit(some_events(), some_provenance());
    CHECK(fs::exists(final_path));
    CHECK_FALSE(fs::exists(final_path + ".partial"));
    CHECK_THROWS_AS(rec.append(3, 0.0, {}, {}, {}), std::logic_error);
  }
  CHECK(fs::exists(final_path));  // destruction after commit keeps the file
  CHECK(is_hex64(hash));

  File f(final_path);
  const std::size_t nv = nvars();
  // shapes
  CHECK(f.shape("/national/time") == std::vector<hsize_t>{3});
  CHECK(f.shape("/national/tick") == std::vector<hsize_t>{3});
  CHECK(f.shape("/national/stores") == std::vector<hsize_t>{3});
  CHECK(f.shape("/province/stores") == std::vector<hsize_t>{3, 2});
  CHECK(f.shape("/province/province") == std::vector<hsize_t>{2});
  CHECK(f.shape("/county/stores") == std::vector<hsize_t>{3, 2});
  CHECK(f.shape("/county/county") == std::vector<hsize_t>{2});
  CHECK(f.shape("/village_annual/year") == std::vector<hsize_t>{1});
  CHECK(f.shape("/village_annual/stores") == std::vector<hsize_t>{1, 3});
  CHECK(f.shape("/geography/provinces/name") == std::vector<hsize_t>{2});
  CHECK(f.shape("/geography/counties/code") == std::vector<hsize_t>{2});
  CHECK(f.shape("/geography/towns/x") == std::vector<hsize_t>{2});
  CHECK(f.shape("/geography/villages/base_income") == std::vector<hsize_t>{3});
  CHECK(f.shape("/geography/categories/order_value") == std::vector<hsize_t>{2});
  CHECK(f.shape("/events/kind_name") == std::vector<hsize_t>{2});
  CHECK(f.shape("/provenance/scenario_input").empty());  // scalar

  // every output variable in the time-series groups; only village variables in the snapshots
  for (const OutputVar& var : output_table()) {
    const std::string name = var.name;
    CHECK(f.exists("/national/" + name));
    CHECK(f.exists("/county/" + name));
    CHECK(f.exists("/village_annual/" + name) == var.village);
    CHECK(f.string_attr("/county/" + name, "units") == var.unit);
    CHECK(f.string_attr("/county/" + name, "description") == var.description);
  }

  // values
  const auto time = f.doubles("/national/time");
  CHECK(time[0] == Approx(2009.0 + 1.0 / 52));
  CHECK(time[2] == Approx(2009.0 + 3.0 / 52));
  CHECK(f.read<std::int32_t>("/county/tick", H5T_NATIVE_INT32) ==
        std::vector<std::int32_t>{0, 1, 2});
  const auto& table = output_table();
  for (std::size_t k = 0; k < nv; ++k) {
    const std::string name = table[k].name;
    const auto nat = f.doubles("/national/" + name);
    const auto cty = f.doubles("/county/" + name);
    const auto prv = f.doubles("/province/" + name);
    for (int t = 0; t < 3; ++t) {
      CHECK(nat[static_cast<std::size_t>(t)] == national_value(t, k));
      for (std::size_t e = 0; e < 2; ++e) {
        CHECK(cty[static_cast<std::size_t>(t) * 2 + e] == county_value(t, e, k));
        CHECK(prv[static_cast<std::size_t>(t) * 2 + e] == province_value(t, e, k));
      }
    }
    if (table[k].village) {
      const auto vil = f.doubles("/village_annual/" + name);
      for (std::size_t v = 0; v < 3; ++v) CHECK(vil[v] == village_value(2009, v, k));
    }
  }
  CHECK(f.read<std::int32_t>("/village_annual/year", H5T_NATIVE_INT32) ==
        std::vector<std::int32_t>{2009});
  CHECK(f.read<std::int64_t>("/geography/villages/town", H5T_NATIVE_INT64) ==
        std::vector<std::int64_t>{0, 0, 1});
  CHECK(f.read<std::int32_t>("/geography/villages/households", H5T_NATIVE_INT32) ==
        std::vector<std::int32_t>{300, 250, 410});
  CHECK(f.read<std::int32_t>("/events/year", H5T_NATIVE_INT32) ==
        std::vector<std::int32_t>{2009, 2010});
  CHECK(f.read<std::int64_t>("/events/entity", H5T_NATIVE_INT64) ==
        std::vector<std::int64_t>{2, 0});

  // dimension scales attached
  CHECK(f.is_scale("/county/time"));
  CHECK(f.is_scale("/county/county"));
  CHECK(f.is_scale("/village_annual/year"));
  CHECK(f.is_scale("/village_annual/village"));
  CHECK(f.is_scale("/events/event"));
  CHECK(f.is_scale("/geography/villages/village"));
  CHECK(f.num_scales("/county/stores", 0) == 1);
  CHECK(f.num_scales("/county/stores", 1) == 1);
  CHECK(f.num_scales("/national/stores", 0) == 1);
  CHECK(f.num_scales("/county/tick", 0) == 1);
  CHECK(f.num_scales("/geography/villages/code", 0) == 1);

  // provenance
  CHECK(f.string_attr("/", "content_hash") == hash);
  CHECK(f.string_attr("/", "content_hash_algorithm") ==
        "sha256 over result datasets in path order");
  CHECK(f.string_attr("/", "format") == "ruralsim-hdf5-1");
  CHECK(f.string_attr("/", "seed") == "42");
  CHECK(f.string_attr("/", "git_commit") == "abc123");
  fs::remove_all(dir);
}

TEST_CASE("recorder content hash is deterministic and sensitive to the data", "[recorder]") {
  const fs::path dir = scratch_dir();
  const std::string a = record(dir, "a.h5", 5);
  const std::string b = record(dir, "b.h5", 5);
  const std::string c = record(dir, "c.h5", 5, /*perturb=*/true);
  CHECK(is_hex64(a));
  CHECK(a == b);
  CHECK(a != c);
  // The stored hash does not depend on the file name.
  File fa((dir / "a.h5").string());
  File fb((dir / "b.h5").string());
  CHECK(fa.string_attr("/", "content_hash") == fb.string_attr("/", "content_hash"));
  fs::remove_all(dir);
}

TEST_CASE("recorder appends across flush blocks", "[recorder]") {
  const fs::path dir = scratch_dir();
  const std::string path = (dir / "long.h5").string();
  const World w = tiny_world();
  Recorder rec(path, w, kTicksPerYear, kStartYear);
  append_records(rec, 150);
  for (int y = 2009; y < 2012; ++y) rec.append_village_snapshot(y, village_row(y));
  rec.commit({}, some_provenance());

  File f(path);
  CHECK(f.shape("/county/stores") == std::vector<hsize_t>{150, 2});
  CHECK(f.shape("/national/time") == std::vector<hsize_t>{150});
  CHECK(f.shape("/village_annual/stores") == std::vector<hsize_t>{3, 3});
  const std::size_t k = 2;  // "stores"
  REQUIRE(std::string(output_table()[k].name) == "stores");
  const auto cty = f.doubles("/county/stores");
  for (int t : {0, 63, 64, 127, 128, 149}) {
    for (std::size_t e = 0; e < 2; ++e)
      CHECK(cty[static_cast<std::size_t>(t) * 2 + e] == county_value(t, e, k));
  }
  const auto tick = f.read<std::int32_t>("/national/tick", H5T_NATIVE_INT32);
  for (int t = 0; t < 150; ++t) CHECK(tick[static_cast<std::size_t>(t)] == t);
  const auto year = f.read<std::int32_t>("/village_annual/year", H5T_NATIVE_INT32);
  CHECK(year == std::vector<std::int32_t>{2009, 2010, 2011});
  // zero events: empty datasets
  CHECK(f.shape("/events/tick") == std::vector<hsize_t>{0});
  CHECK(f.shape("/events/kind_name") == std::vector<hsize_t>{0});
  CHECK(f.shape("/events/event") == std::vector<hsize_t>{0});
  fs::remove_all(dir);
}

TEST_CASE("recorder without village snapshots has no village_annual group", "[recorder]") {
  const fs::path dir = scratch_dir();
  const std::string path = (dir / "novillage.h5").string();
  const World w = tiny_world();
  Recorder rec(path, w, kTicksPerYear, kStartYear);
  append_records(rec, 2);
  rec.commit(some_events(), some_provenance());
  File f(path);
  CHECK_FALSE(f.exists("/village_annual"));
  CHECK(f.exists("/county/stores"));
  fs::remove_all(dir);
}

TEST_CASE("recorder destroyed without commit leaves no file", "[recorder]") {
  const fs::path dir = scratch_dir();
  const std::string path = (dir / "abandoned.h5").string();
  {
    const World w = tiny_world();
    Recorder rec(path, w, kTicksPerYear, kStartYear);
    append_records(rec, 70);
    rec.append_village_snapshot(2009, village_row(2009));
    CHECK(fs::exists(path + ".partial"));
  }
  CHECK_FALSE(fs::exists(path));
  CHECK_FALSE(fs::exists(path + ".partial"));
  fs::remove_all(dir);
}

TEST_CASE("recorder rejects records of the wrong size", "[recorder]") {
  const fs::path dir = scratch_dir();
  const std::string path = (dir / "bad.h5").string();
  {
    const World w = tiny_world();
    Recorder rec(path, w, kTicksPerYear, kStartYear);
    const std::size_t nv = nvars();
    std::vector<double> nat(nv), prov(2 * nv), cty(2 * nv);
    CHECK_THROWS_AS(rec.append(0, 2009.0, nat, prov, std::vector<double>(nv)),
                    std::invalid_argument);
    CHECK_THROWS_AS(rec.append_village_snapshot(2009, std::vector<double>(nv)),
                    std::invalid_argument);
    CHECK_NOTHROW(rec.append(0, 2009.0, nat, prov, cty));
  }
  CHECK_FALSE(fs::exists(path));
  CHECK_FALSE(fs::exists(path + ".partial"));
  fs::remove_all(dir);
}

TEST_CASE("recorder reports inconsistent geography and leaves no file", "[recorder]") {
  const fs::path dir = scratch_dir();
  const std::string path = (dir / "badgeo.h5").string();
  World w = tiny_world();
  w.geo.village_x.pop_back();
  CHECK_THROWS_AS(Recorder(path, w, kTicksPerYear, kStartYear), std::runtime_error);
  CHECK_FALSE(fs::exists(path));
  CHECK_FALSE(fs::exists(path + ".partial"));
  fs::remove_all(dir);
}
