#pragma once
#include <cstdint>

namespace ruralsim {

// Calendar of a run. Tick n covers [start_year + n*dt, start_year + (n+1)*dt).
struct Clock {
  std::int32_t tick = 0;
  std::int32_t ticks_per_year = 52;
  std::int32_t start_year = 2009;
  std::int32_t total_ticks = 0;

  double dt() const { return 1.0 / ticks_per_year; }
  double weeks() const { return 52.0 / ticks_per_year; }
  // Calendar time at the middle of the tick (decimal years).
  double time_mid() const { return start_year + (tick + 0.5) / ticks_per_year; }
  // Calendar time at the end of the tick.
  double time_end() const { return start_year + (tick + 1.0) / ticks_per_year; }
  std::int32_t year() const { return start_year + tick / ticks_per_year; }
  bool year_end() const { return (tick + 1) % ticks_per_year == 0; }
  double years_elapsed() const { return (tick + 0.5) / ticks_per_year; }
};

}  // namespace ruralsim
