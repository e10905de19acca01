// Statistical checks of the keyed streams and of the distributions the model draws from.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/distributions.hpp"
#include "core/rng.hpp"

using namespace ruralsim;

TEST_CASE("stream is a pure function of its key", "[rng]") {
  Stream a(1, Purpose::Adoption, 5, 10), b(1, Purpose::Adoption, 5, 10);
  for (int i = 0; i < 100; ++i) REQUIRE(a() == b());
  Stream c(1, Purpose::Adoption, 5, 11), d(1, Purpose::Exit, 5, 10), e(2, Purpose::Adoption, 5, 10),
      f(1, Purpose::Adoption, 6, 10);
  Stream a2(1, Purpose::Adoption, 5, 10);
  const auto x = a2();
  REQUIRE(x != c());
  REQUIRE(x != d());
  REQUIRE(x != e());
  REQUIRE(x != f());
}

TEST_CASE("uniforms: moments and chi-square over 100 bins", "[rng]") {
  const int n = 200000, bins = 100;
  std::vector<int> count(bins, 0);
  double sum = 0, sum2 = 0;
  // Many short streams, as the model uses them (one per village and tick).
  for (int e = 0; e < n / 4; ++e) {
    Stream s(42, Purpose::Adoption, static_cast<std::uint64_t>(e), 3);
    for (int k = 0; k < 4; ++k) {
      const double u = s.uniform();
      REQUIRE(u >= 0.0);
      REQUIRE(u < 1.0);
      sum += u;
      sum2 += u * u;
      ++count[static_cast<int>(u * bins)];
    }
  }
  const double mean = sum / n, var = sum2 / n - mean * mean;
  CHECK(mean == Approx(0.5).margin(0.005));
  CHECK(var == Approx(1.0 / 12).margin(0.002));
  double chi2 = 0;
  const double expect = static_cast<double>(n) / bins;
  for (int c : count) chi2 += (c - expect) * (c - expect) / expect;
  // 99 degrees of freedom: the 99.9% quantile is about 148.
  CHECK(chi2 < 148.0);
}

TEST_CASE("distributions on top of the streams have the right moments", "[rng]") {
  const int n = 100000;
  double bs = 0, bs2 = 0, ps = 0, ns = 0, ns2 = 0;
  for (int i = 0; i < n; ++i) {
    Stream s(7, Purpose::Exit, static_cast<std::uint64_t>(i), 0);
    boost::random::binomial_distribution<int> bin(50, 0.1);
    boost::random::poisson_distribution<int> pois(3.5);
    boost::random::normal_distribution<double> norm(0.0, 1.0);
    const double b = bin(s), p = pois(s), z = norm(s);
    bs += b;
    bs2 += b * b;
    ps += p;
    ns += z;
    ns2 += z * z;
  }
  CHECK(bs / n == Approx(5.0).margin(0.03));
  CHECK(bs2 / n - (bs / n) * (bs / n) == Approx(4.5).margin(0.1));
  CHECK(ps / n == Approx(3.5).margin(0.03));
  CHECK(ns / n == Approx(0.0).margin(0.01));
  CHECK(ns2 / n == Approx(1.0).margin(0.02));
}

TEST_CASE("neighbouring keys are uncorrelated", "[rng]") {
  const int n = 50000;
  double sxy = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
  for (int i = 0; i < n; ++i) {
    const double x = Stream(1, Purpose::Adoption, static_cast<std::uint64_t>(i), 0).uniform();
    const double y = Stream(1, Purpose::Adoption, static_cast<std::uint64_t>(i + 1), 0).uniform();
    sx += x, sy += y, sxy += x * y, sxx += x * x, syy += y * y;
  }
  const double cov = sxy / n - sx / n * sy / n;
  const double r = cov / std::sqrt((sxx / n - sx / n * sx / n) * (syy / n - sy / n * sy / n));
  CHECK(std::fabs(r) < 0.02);
}
