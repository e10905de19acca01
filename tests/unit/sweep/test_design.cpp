// Sweep designs and the content hash recomputed from a file.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <algorithm>
#include <filesystem>

#include "run/run.hpp"
#include "run/verify.hpp"
#include "support.hpp"
#include "sweep/sweep.hpp"

using namespace ruralsim;

TEST_CASE("a Latin hypercube has one point per stratum in every dimension", "[sweep]") {
  for (std::size_t n : {1u, 7u, 64u}) {
    const auto pts = latin_hypercube(n, 3, 42);
    REQUIRE(pts.size() == n);
    for (std::size_t d = 0; d < 3; ++d) {
      std::vector<std::size_t> strata;
      for (const auto& p : pts) {
        CHECK(p[d] >= 0.0);
        CHECK(p[d] < 1.0);
        strata.push_back(static_cast<std::size_t>(p[d] * static_cast<double>(n)));
      }
      std::sort(strata.begin(), strata.end());
      for (std::size_t i = 0; i < n; ++i) CHECK(strata[i] == i);
    }
  }
  CHECK(latin_hypercube(8, 2, 1) == latin_hypercube(8, 2, 1));
  CHECK(latin_hypercube(8, 2, 1) != latin_hypercube(8, 2, 2));
}

TEST_CASE("Sobol points: 16 points have one point per 1/16 interval in every dimension",
          "[sweep]") {
  const auto pts = sobol_points(16, kSobolMaxDims);
  CHECK(pts[0] == std::vector<double>(kSobolMaxDims, 0.0));
  // first dimension is the van der Corput sequence
  CHECK(pts[1][0] == 0.5);
  CHECK(pts[2][0] == 0.75);
  CHECK(pts[3][0] == 0.25);
  // each of the 16 points falls in its own 1/16 interval in every dimension
  for (std::size_t d = 0; d < kSobolMaxDims; ++d) {
    std::vector<int> cells;
    for (const auto& p : pts) cells.push_back(static_cast<int>(p[d] * 16));
    std::sort(cells.begin(), cells.end());
    for (int i = 0; i < 16; ++i) CHECK(cells[static_cast<std::size_t>(i)] == i);
  }
  CHECK_THROWS(sobol_points(4, kSobolMaxDims + 1));
}

TEST_CASE("the content hash recomputed from a file equals the one the recorder stored",
          "[verify]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("ruralsim-test-verify-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string out = (dir / "t.h5").string();
  const RunOutcome o = run_scenario(test::scenario_file("scenarios/tiny.yaml"), out, {});
  CHECK(hash_datasets(out) == o.hash);
  const FileCheck c = verify_result_file(out);
  CHECK(c.ok);
  CHECK(c.stored == o.hash);
  CHECK(geography_hash(out) != o.hash);
  CHECK_FALSE(verify_result_file((dir / "missing.h5").string()).ok);
  std::filesystem::remove_all(dir);
}
