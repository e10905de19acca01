// Rural commissioner posted to a county: raises adoption intensity, brands the county
// specialty, runs a livestream academy and pushes station building; effects decay after the
// posting ends.
#include "core/format.hpp"
#include "policy/common.hpp"
#include "policy/types.hpp"

namespace ruralsim {
namespace {

class RuralCommissioner final : public CountyIntervention {
 public:
  explicit RuralCommissioner(EntryReader& r) {
    window_ = Window::read(r, 2019, 2, true);
    target_ = Targeting::read(r);
    tau_ = r.real("tau", 0.5, 0, 100, "extra adoption intensity in the county, 1/yr");
    brand_ = r.real("brand", 1.15, 1, 10, "brand multiplier for the county specialty");
    trainees_ = r.integer("academy_trainees_per_year", 20, 0, 1000000,
                          "livestreamers trained per county per year");
    followers_ = r.real("academy_followers", 1000, 0, 1e9, "initial followers of a trainee");
    stations_ =
        r.integer("stations_per_year", 2, 0, 1000000, "stations opened per county per year");
  }
  std::string type() const override { return "rural_commissioner"; }
  void apply(World& w, const Params& p, const Clock& clk, std::uint64_t) const override {
    const double s = window_.strength(clk.time_mid());
    if (s <= 0) return;
    each_village(w, [&](Id, Id v) {
      w.v.tau[v] += tau_ * s;
      w.v.brand_mult[v] *= 1.0 + (brand_ - 1.0) * s;
    });
    if (!window_.year_start(clk)) return;
    for (Id c : targets(w)) {
      queue_trainees(w, c, static_cast<std::int32_t>(trainees_), followers_, 1.0);
      open_stations(w, c, stations_, static_cast<std::int32_t>(p.simulation.ticks_per_year),
                    clk.tick);
    }
  }
  std::string yaml() const override {
    std::ostringstream os;
    os << "{" << base_yaml() << ", tau: " << num(tau_) << ", brand: " << num(brand_)
       << ", academy_trainees_per_year: " << num(trainees_)
       << ", academy_followers: " << num(followers_) << ", stations_per_year: " << num(stations_)
       << "}";
    return os.str();
  }

 private:
  double tau_, brand_, followers_;
  std::int64_t trainees_, stations_;
};

}  // namespace

std::unique_ptr<Intervention> make_rural_commissioner(EntryReader& r) {
  return std::make_unique<RuralCommissioner>(r);
}

}  // namespace ruralsim
