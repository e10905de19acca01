// Exact Gini and audience concentration.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "core/rng.hpp"
#include "model/submodels.hpp"

using namespace ruralsim;

namespace {
// O(n^2) definition: G = sum_i sum_j w_i w_j |x_i - x_j| / (2 W^2 mean).
double gini_bruteforce(const std::vector<std::pair<double, double>>& c) {
  double W = 0, S = 0, acc = 0;
  for (auto& [x, w] : c) W += w, S += w * x;
  for (auto& [xi, wi] : c)
    for (auto& [xj, wj] : c) acc += wi * wj * std::fabs(xi - xj);
  return acc / (2 * W * S);
}
}  // namespace

TEST_CASE("Gini: equal incomes give 0", "[welfare]") {
  std::vector<std::pair<double, double>> c = {{5, 1}, {5, 1}, {5, 1}, {5, 3}};
  CHECK(gini(c) == Approx(0.0).margin(1e-15));
}

TEST_CASE("Gini: one holder of n gives (n-1)/n", "[welfare]") {
  for (int n : {2, 3, 10, 101}) {
    std::vector<std::pair<double, double>> c(n, {0.0, 1.0});
    c[n / 2].first = 1000.0;
    CHECK(gini(c) == Approx((n - 1.0) / n).epsilon(1e-12));
  }
}

TEST_CASE("Gini: weighted classes equal the expanded population", "[welfare]") {
  // 3 households at 10, 1 at 50: expanded {10,10,10,50}; mean 20;
  // sum|xi-xj| over ordered pairs = 2*3*40 = 240; G = 240 / (2*16*20) = 0.375.
  std::vector<std::pair<double, double>> c = {{50, 1}, {10, 3}};
  CHECK(gini(c) == Approx(0.375).epsilon(1e-12));
  std::vector<std::pair<double, double>> e = {{10, 1}, {10, 1}, {50, 1}, {10, 1}};
  CHECK(gini(e) == Approx(0.375).epsilon(1e-12));
}

TEST_CASE("Gini: matches the pairwise definition on irregular classes", "[welfare]") {
  std::vector<std::pair<double, double>> c = {
      {12000, 310}, {15500, 4}, {-2000, 1}, {48000, 1}, {13000, 7.5}};
  const double expect = gini_bruteforce(c);
  CHECK(gini(c) == Approx(expect).epsilon(1e-12));
}

TEST_CASE("top-decile share", "[welfare]") {
  std::vector<double> v(20, 1.0);
  v[3] = 81.0;  // top 2 of 20: 81 + 1 = 82 of 100
  CHECK(top_decile_share(v) == Approx(0.82));
  std::vector<double> one = {5.0};
  CHECK(top_decile_share(one) == Approx(1.0));
  std::vector<double> none;
  CHECK(std::isnan(top_decile_share(none)));
}

TEST_CASE("radix sort by value equals a stable sort by value", "[welfare]") {
  for (std::size_t n : {0u, 1u, 10u, 255u, 256u, 1000u, 50000u}) {
    std::vector<std::pair<double, double>> v(n), scratch;
    for (std::size_t i = 0; i < n; ++i) {
      const double u = Stream(5, Purpose::Intervention, i, n).uniform();
      double x = (u - 0.3) * 1e5;                       // negatives, positives
      if (i % 7 == 0) x = std::floor(x / 1000) * 1000;  // many ties
      if (i % 11 == 0) x = 0.0;
      if (i % 13 == 0) x = -0.0;
      if (i % 17 == 0) x = 1e300;
      v[i] = {x, static_cast<double>(i)};  // the weight records the input position
    }
    auto expect = v;
    std::stable_sort(expect.begin(), expect.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    sort_by_value(v, scratch);
    REQUIRE(v.size() == expect.size());
    for (std::size_t i = 0; i < n; ++i) {
      INFO("n " << n << " i " << i);
      CHECK(v[i].first == expect[i].first);
      if (v[i].first != 0.0) CHECK(v[i].second == expect[i].second);  // -0.0 sorts before +0.0
    }
  }
}
