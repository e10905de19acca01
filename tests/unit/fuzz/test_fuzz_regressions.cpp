// Replays the inputs that fuzzing found (tests/fuzz/regressions/<target>/) and the seed corpora
// through the fuzz targets: each must return normally (bad input as an InputError, caught by the
// target). A crash, a sanitizer report or a failed property fails the test.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz/targets.hpp"
#include "support.hpp"

namespace fs = std::filesystem;

namespace {

using Target = int (*)(const std::uint8_t*, std::size_t);

int replay(const fs::path& dir, Target target, const char* extension = nullptr) {
  int n = 0;
  if (!fs::is_directory(dir)) return 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    if (extension && e.path().extension() != extension) continue;
    if (e.path().filename() == "README.md") continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(e.path().string());
    CHECK(target(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()) == 0);
    ++n;
  }
  return n;
}

const fs::path kFuzz = fs::path(RURALSIM_SOURCE_DIR) / "tests" / "fuzz";

}  // namespace

TEST_CASE("fuzz regressions and seeds: scenario parser round trip", "[fuzz]") {
  int n = replay(kFuzz / "regressions" / "scenario", ruralsim::fuzz::scenario);
  n += replay(fs::path(RURALSIM_SOURCE_DIR) / "scenarios", ruralsim::fuzz::scenario, ".yaml");
  n += replay(fs::path(RURALSIM_TEST_DATA_DIR) / "bad", ruralsim::fuzz::scenario, ".yaml");
  CHECK(n > 40);
}

TEST_CASE("fuzz regressions and seeds: --set overrides", "[fuzz]") {
  int n = replay(kFuzz / "regressions" / "set_overrides", ruralsim::fuzz::set_overrides);
  n += replay(kFuzz / "seeds" / "set_overrides", ruralsim::fuzz::set_overrides);
  CHECK(n > 3);
}

TEST_CASE("fuzz regressions and seeds: CSV village table", "[fuzz]") {
  int n = replay(kFuzz / "regressions" / "village_table", ruralsim::fuzz::village_table);
  n += replay(fs::path(RURALSIM_TEST_DATA_DIR) / "geo", ruralsim::fuzz::village_table, ".csv");
  n += replay(fs::path(RURALSIM_TEST_DATA_DIR) / "bad", ruralsim::fuzz::village_table, ".csv");
  CHECK(n > 20);
}

TEST_CASE("fuzz regressions: HDF5 readers of reproduce", "[fuzz]") {
  // The hang found by fuzzing becomes an InputError within the time limit.
  {
    std::ifstream in(kFuzz / "regressions" / "h5_reader" / "hang_global_heap_vlen_string.h5",
                     std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ruralsim::fuzz::TempInput f(reinterpret_cast<const std::uint8_t*>(data.data()), data.size(),
                                ".h5");
    CHECK_THROWS_WITH(ruralsim::read_provenance(f.path, 3),
                      Catch::Contains("damaged HDF5 file: the HDF5 library did not finish reading "
                                      "it in 3 s"));
  }
  // Inputs on which the HDF5 library itself hangs or crashes: reproduce reads in a child process.
  const int n = replay(kFuzz / "regressions" / "h5_reader", ruralsim::fuzz::h5_reader_isolated);
  CHECK(n >= 1);
  // A file that is not HDF5 at all goes through the same path.
  const std::string junk = "not an HDF5 file";
  CHECK(ruralsim::fuzz::h5_reader(reinterpret_cast<const std::uint8_t*>(junk.data()),
                                  junk.size()) == 0);
}

TEST_CASE("fuzz regressions and seeds: sweep files", "[fuzz]") {
  int n = replay(kFuzz / "regressions" / "sweep", ruralsim::fuzz::sweep);
  n += replay(kFuzz / "seeds" / "sweep", ruralsim::fuzz::sweep);
  CHECK(n >= 5);
}
