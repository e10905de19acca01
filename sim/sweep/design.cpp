// Space-filling designs for sweeps: Latin hypercube (seeded, stratified in every dimension) and
// the unscrambled Sobol sequence (Joe & Kuo direction numbers, new-joe-kuo-6.21201).
#include <algorithm>
#include <numeric>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "sweep/sweep.hpp"

namespace ruralsim {

std::vector<std::vector<double>> latin_hypercube(std::size_t n, std::size_t dims,
                                                 std::uint64_t seed) {
  std::vector<std::vector<double>> pts(n, std::vector<double>(dims, 0.0));
  for (std::size_t d = 0; d < dims; ++d) {
    Stream s(seed, Purpose::Intervention, 0x5EEDD00Dull + d, 0);
    std::vector<std::size_t> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    for (std::size_t i = n; i > 1; --i) {  // Fisher-Yates
      const auto j = static_cast<std::size_t>(s.uniform() * static_cast<double>(i));
      std::swap(perm[i - 1], perm[std::min(j, i - 1)]);
    }
    for (std::size_t i = 0; i < n; ++i)
      pts[i][d] = (static_cast<double>(perm[i]) + s.uniform()) / static_cast<double>(n);
  }
  return pts;
}

namespace {
struct SobolDim {
  unsigned s, a;
  std::vector<unsigned> m;
};
// Dimensions 2..12 of new-joe-kuo-6.21201 (dimension 1 is the van der Corput sequence).
const SobolDim kSobol[] = {
    {1, 0, {1}},
    {2, 1, {1, 3}},
    {3, 1, {1, 3, 1}},
    {3, 2, {1, 1, 1}},
    {4, 1, {1, 1, 3, 3}},
    {4, 4, {1, 3, 5, 13}},
    {5, 2, {1, 1, 5, 5, 17}},
    {5, 4, {1, 1, 5, 5, 5}},
    {5, 7, {1, 1, 7, 11, 19}},
    {5, 11, {1, 1, 5, 1, 1}},
    {5, 13, {1, 1, 1, 3, 11}},
};
}  // namespace

std::vector<std::vector<double>> sobol_points(std::size_t n, std::size_t dims) {
  if (dims > kSobolMaxDims)
    throw InputError("a Sobol design supports at most " + std::to_string(kSobolMaxDims) +
                     " dimensions");
  constexpr unsigned kBits = 32;
  std::vector<std::vector<std::uint32_t>> v(dims, std::vector<std::uint32_t>(kBits));
  for (unsigned i = 0; i < kBits; ++i) v[0][i] = 1u << (31 - i);
  for (std::size_t d = 1; d < dims; ++d) {
    const SobolDim& sd = kSobol[d - 1];
    for (unsigned i = 0; i < kBits; ++i) {
      if (i < sd.s) {
        v[d][i] = sd.m[i] << (31 - i);
      } else {
        std::uint32_t x = v[d][i - sd.s] ^ (v[d][i - sd.s] >> sd.s);
        for (unsigned k = 1; k < sd.s; ++k)
          if ((sd.a >> (sd.s - 1 - k)) & 1u) x ^= v[d][i - k];
        v[d][i] = x;
      }
    }
  }
  std::vector<std::vector<double>> pts(n, std::vector<double>(dims, 0.0));
  std::vector<std::uint32_t> x(dims, 0);
  for (std::size_t i = 1; i < n; ++i) {
    // Gray code: flip the direction number of the lowest zero bit of i-1.
    unsigned c = 0;
    for (std::size_t k = i - 1; k & 1u; k >>= 1) ++c;
    for (std::size_t d = 0; d < dims; ++d) {
      x[d] ^= v[d][c];
      pts[i][d] = static_cast<double>(x[d]) / 4294967296.0;
    }
  }
  return pts;
}

}  // namespace ruralsim
