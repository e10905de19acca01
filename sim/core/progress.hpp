#pragma once
// Progress line on stderr: a live, rewritten line on a terminal; plain lines (every 10% of the
// run) otherwise; nothing when quiet.
#include <chrono>
#include <cstdio>
#include <string>

namespace ruralsim {

class Progress {
 public:
  Progress(int total_ticks, bool quiet, std::FILE* out = stderr);
  void update(int ticks_done, int year, int tick_in_year, double stores, double taobao_villages);
  void finish();

 private:
  int total_;
  bool quiet_, tty_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_, last_, rate_time_;
  int rate_done_ = 0;
  double sec_per_tick_ = -1;  // recent rate (ticks get slower as stores accumulate)
  int next_decile_ = 1;
  bool dirty_ = false;
};

std::string format_duration(double seconds);

}  // namespace ruralsim
