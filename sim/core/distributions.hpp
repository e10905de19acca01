#pragma once
// Boost.Random distributions used on top of the keyed streams (core/rng.hpp). Included through
// this header so that GCC's false -Wmaybe-uninitialized reports inside Boost stay silent (clang,
// used for fuzzing, has no such warning group).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/random/binomial_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/poisson_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace ruralsim {

// A Binomial(n, p) draw from `urng`: the value boost::random::binomial_distribution<int>(n, p)
// gives on the same generator, with the generator left in the same state, but cheaper when the
// draw is 0 with a small mean (most villages, most ticks). For a mean below about 10 Boost draws
// by inversion: one uniform u, and 0 when u <= (1 - p)^n, which it computes with pow(). By
// Bernoulli's inequality (1 - p)^n >= 1 - n p, so a u clearly below 1 - n p (a relative margin of
// 1e-12, far above the rounding of either side) is 0 without pow(); any other u, and every case
// outside the inversion branch, is left to Boost on the untouched generator.
template <class URNG>
int binomial_draw(int n, double p, URNG& urng) {
  if (n > 0 && p > 0.0 && p <= 0.5) {
    const int m = static_cast<int>((n + 1) * p);  // Boost: inversion when m < 11
    if (m < 11) {
      const double q = 1.0 - p;
      const double lower = 1.0 - n * (1.0 - q);  // <= q^n (Bernoulli); 1 - q is exact here
      if (lower > 0.5) {
        URNG probe = urng;
        const double u = boost::random::uniform_01<double>()(probe);
        if (u <= lower * (1.0 - 1e-12)) {
          urng = probe;
          return 0;
        }
      }
    }
  }
  boost::random::binomial_distribution<int> bin(n, p);
  return bin(urng);
}

}  // namespace ruralsim
