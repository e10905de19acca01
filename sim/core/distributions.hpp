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
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
