// Station programme: every calendar year of the window, opens `per_year` village stations in
// each targeted county (largest trailing-year parcel volume first, or in villages drawn at random
// with `placement: random`), each with an operating subsidy for `subsidy_years`.
#include <cmath>

#include "core/format.hpp"
#include "policy/common.hpp"
#include "policy/types.hpp"

namespace ruralsim {
namespace {

class StationProgramme final : public CountyIntervention {
 public:
  explicit StationProgramme(EntryReader& r) {
    window_ = Window::read(r, 2015, 7, false);
    target_ = Targeting::read(r);
    per_year_ =
        r.integer("per_year", 5, 0, 1000000, "stations opened per targeted county per year");
    subsidy_years_ =
        r.real("subsidy_years", 2, 0, 100, "years a new station's operating cost is subsidised");
    placement_ = r.choice("placement", "volume", {"volume", "random"},
                          "which villages get the stations: largest trailing-year parcel volume "
                          "first, or drawn at random within each targeted county");
  }
  std::string type() const override { return "station_programme"; }
  void apply(World& w, const Params& p, const Clock& clk, std::uint64_t seed) const override {
    if (per_year_ <= 0 || !window_.year_start(clk)) return;
    const auto subsidy_ticks = static_cast<std::int32_t>(
        std::lround(subsidy_years_ * static_cast<double>(p.simulation.ticks_per_year)));
    const StationPlacement where{placement_ == "random", seed, static_cast<std::uint64_t>(index)};
    for (Id c : targets(w)) open_stations(w, c, per_year_, subsidy_ticks, clk.tick, where);
  }
  std::string yaml() const override {
    std::ostringstream os;
    os << "{" << base_yaml() << ", per_year: " << num(per_year_)
       << ", subsidy_years: " << num(subsidy_years_) << ", placement: " << placement_ << "}";
    return os.str();
  }

 private:
  std::int64_t per_year_;
  double subsidy_years_;
  std::string placement_;
};

}  // namespace

std::unique_ptr<Intervention> make_station_programme(EntryReader& r) {
  return std::make_unique<StationProgramme>(r);
}

}  // namespace ruralsim
