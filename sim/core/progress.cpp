#include "core/progress.hpp"

#include <unistd.h>

#include <cmath>

namespace ruralsim {

std::string format_duration(double s) {
  char buf[64];
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600,
                  (static_cast<int>(s) % 3600) / 60);
  return buf;
}

Progress::Progress(int total_ticks, bool quiet, std::FILE* out)
    : total_(total_ticks),
      quiet_(quiet),
      tty_(isatty(fileno(out)) != 0),
      out_(out),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void Progress::update(int done, int year, int tick_in_year, double stores, double tvs) {
  if (quiet_ || total_ <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  // Recent seconds per tick, smoothed over about a second of wall time.
  if (done > rate_done_) {
    const double dt =
        std::chrono::duration<double>(now - (rate_done_ ? rate_time_ : start_)).count();
    if (dt >= 0.25 || sec_per_tick_ < 0) {
      const double r = dt / (done - rate_done_);
      sec_per_tick_ = sec_per_tick_ < 0 ? r : 0.5 * sec_per_tick_ + 0.5 * r;
      rate_done_ = done;
      rate_time_ = now;
    }
  }
  const bool end = done >= total_;
  if (tty_) {
    if (!end && now - last_ < std::chrono::milliseconds(200)) return;
  } else {
    if (done * 10 < next_decile_ * total_ && !end) return;
    while (next_decile_ * total_ <= done * 10) ++next_decile_;
  }
  last_ = now;
  const double eta = sec_per_tick_ >= 0 ? sec_per_tick_ * (total_ - done) : NAN;
  std::fprintf(
      out_,
      "%s[%3d%%] year %d tick %d | stores %.0f | Taobao Villages %.0f | elapsed %s | ETA %s%s",
      tty_ ? "\r" : "", static_cast<int>(100.0 * done / total_), year, tick_in_year + 1, stores,
      tvs, format_duration(elapsed).c_str(), format_duration(eta).c_str(), tty_ ? "\033[K" : "\n");
  std::fflush(out_);
  dirty_ = tty_;
}

void Progress::finish() {
  if (dirty_) std::fputc('\n', out_);
  dirty_ = false;
}

}  // namespace ruralsim
