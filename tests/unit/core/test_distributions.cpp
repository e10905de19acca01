// binomial_draw must give exactly what Boost's binomial_distribution gives on the same stream,
// and leave the stream in the same state, in the fast branch (draw 0 without pow), next to its
// boundary and outside it.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/distributions.hpp"
#include "core/rng.hpp"

using namespace ruralsim;

namespace {

struct Tally {
  std::int64_t draws = 0, zeros = 0;
};

// Compares binomial_draw with Boost for `keys` streams at (n, p); counts the zero draws.
void compare(int n, double p, std::uint64_t keys, Tally& t) {
  for (std::uint64_t k = 0; k < keys; ++k) {
    Stream a(7, Purpose::Adoption, k, static_cast<std::uint64_t>(n)), b = a;
    boost::random::binomial_distribution<int> bin(n, p);
    const int expect = bin(a);
    const int got = binomial_draw(n, p, b);
    REQUIRE(got == expect);
    REQUIRE(a() == b());  // the same number of draws consumed
    ++t.draws;
    t.zeros += got == 0;
  }
}

}  // namespace

TEST_CASE("binomial_draw equals Boost's binomial draw on the same stream", "[rng]") {
  Tally t;
  // Small means (the fast branch and its fallback when u is above 1 - n p).
  for (int n : {1, 2, 10, 134, 1000, 100000})
    for (double mean : {1e-6, 1e-3, 0.01, 0.1, 0.5}) compare(n, std::min(0.5, mean / n), 2000, t);
  // Around Boost's switch from inversion to BTRD ((n + 1) p = 11) and p = 0.5.
  for (int n : {20, 21, 22, 40, 1000})
    for (double f : {10.9, 10.999999, 11.0, 11.000001, 12.0})
      compare(n, std::min(0.5, f / (n + 1)), 300, t);
  for (double p : {0.4999999, 0.5, 0.5000001, 0.7, 0.99, 1.0}) compare(30, p, 300, t);
  // Degenerate cases.
  compare(0, 0.3, 50, t);
  compare(25, 0.0, 50, t);
  REQUIRE(t.zeros > t.draws / 3);  // the fast branch was exercised
}

TEST_CASE("binomial_draw at the edge of the fast branch", "[rng]") {
  // u just below and just above 1 - n p: the fast branch must not decide inside the margin.
  // Search streams whose u falls within 1e-3 of q^n and compare them all.
  const int n = 50;
  const double p = 2e-4;
  const double qn = std::pow(1.0 - p, n);
  int near = 0;
  for (std::uint64_t k = 0; k < 200000; ++k) {
    Stream a(11, Purpose::Adoption, k, 0), b = a, probe = a;
    const double u = boost::random::uniform_01<double>()(probe);
    if (std::fabs(u - qn) > 1e-3) continue;
    ++near;
    boost::random::binomial_distribution<int> bin(n, p);
    REQUIRE(binomial_draw(n, p, b) == bin(a));
    REQUIRE(a() == b());
  }
  REQUIRE(near > 100);
}
