#pragma once
// Internal to sim/io: the random draws shared by the generated geography and the CSV loader, so
// that both consume the keyed streams in exactly the same way.
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "core/distributions.hpp"
#include "core/rng.hpp"

namespace ruralsim::geo_detail {

// Mean-one lognormal factor (no draw when sigma <= 0).
inline double lognormal1(Stream& rs, double sigma) {
  if (sigma <= 0) return 1.0;
  boost::random::normal_distribution<double> n(0.0, 1.0);
  return std::exp(sigma * n(rs) - 0.5 * sigma * sigma);
}

// Category drawn from cumulative weights `cum` (must not be empty).
inline std::uint8_t draw_category(Stream& rs, const std::vector<double>& cum) {
  const double u = rs.uniform() * cum.back();
  for (std::size_t k = 0; k < cum.size(); ++k)
    if (u < cum[k]) return static_cast<std::uint8_t>(k);
  return static_cast<std::uint8_t>(cum.size() - 1);
}

// Uniform point in a disc of radius r around (x, y).
inline void in_disc(Stream& rs, double r, double& x, double& y) {
  const double a = 2.0 * std::numbers::pi * rs.uniform();
  const double d = r * std::sqrt(rs.uniform());
  x += d * std::cos(a);
  y += d * std::sin(a);
}

}  // namespace ruralsim::geo_detail
