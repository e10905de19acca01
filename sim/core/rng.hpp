#pragma once
// Counter-based random streams. A stream is keyed by (seed, purpose, entity, tick); the n-th
// 64-bit output is a strong mix of (key, n). No state is shared between streams, so results
// do not depend on thread scheduling, and a draw made for one entity never moves the draws
// of another (common random numbers across scenarios).
#include <cstdint>
#include <limits>

namespace ruralsim {

// Every use of randomness has its own purpose tag. Append new tags at the end: the numeric
// values are part of the stream keys, so changing one changes results.
enum class Purpose : std::uint32_t {
  GeoProvince = 1,
  GeoCounty,
  GeoTown,
  GeoVillage,
  SeedMerchants,
  Adoption,
  NewMerchant,
  Exit,
  LivestreamEntry,
  LivestreamSession,
  LivestreamExit,
  Intervention,
  StationProgramme,
  CentreProgramme,
  SeedAttributes,
  StreamerAttributes,
  StoreChoice,
  StationPlacement,
  SeedChoice,
};

inline constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// The part of a stream key set by (seed, purpose), for loops that key many streams.
struct StreamPrefix {
  std::uint64_t k;
};
inline constexpr StreamPrefix stream_prefix(std::uint64_t seed, Purpose purpose) {
  const std::uint64_t k = splitmix64(seed ^ 0x5DEECE66DULL);
  return {splitmix64(k ^ (static_cast<std::uint64_t>(purpose) * 0xD1B54A32D192ED03ULL))};
}
inline constexpr std::uint64_t stream_key(StreamPrefix prefix, std::uint64_t entity,
                                          std::uint64_t tick) {
  const std::uint64_t k = splitmix64(prefix.k ^ entity);
  return splitmix64(k ^ (tick * 0x8CB92BA72F3D8DD7ULL));
}
inline constexpr std::uint64_t stream_key(std::uint64_t seed, Purpose purpose, std::uint64_t entity,
                                          std::uint64_t tick) {
  return stream_key(stream_prefix(seed, purpose), entity, tick);
}

// A UniformRandomBitGenerator over one keyed stream; Boost.Random distributions sit on top.
class Stream {
 public:
  using result_type = std::uint64_t;
  constexpr Stream(std::uint64_t seed, Purpose purpose, std::uint64_t entity, std::uint64_t tick)
      : key_(stream_key(seed, purpose, entity, tick)) {}
  // The same stream from the key's prefix (stream_prefix(seed, purpose)).
  constexpr Stream(StreamPrefix prefix, std::uint64_t entity, std::uint64_t tick)
      : key_(stream_key(prefix, entity, tick)) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  // The n-th output mixes the key with a hashed counter: streams with nearby keys share no
  // shifted subsequences (as they would with key + n * constant).
  constexpr result_type operator()() {
    return splitmix64(key_ ^ splitmix64(++counter_ ^ 0xA0761D6478BD642FULL));
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t key_;
  std::uint64_t counter_ = 0;
};

}  // namespace ruralsim
