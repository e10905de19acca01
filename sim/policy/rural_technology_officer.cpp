// Rural technology officers posted to a county: traceability raises the quality of the county
// specialty (the market code applies quality_mult to the village specialty) and digital-skills
// training raises adoption intensity; effects decay after the posting ends.
#include "core/format.hpp"
#include "policy/common.hpp"
#include "policy/types.hpp"

namespace ruralsim {
namespace {

class RuralTechnologyOfficer final : public CountyIntervention {
 public:
  explicit RuralTechnologyOfficer(EntryReader& r) {
    window_ = Window::read(r, 2021, 3, true);
    target_ = Targeting::read(r);
    quality_ = r.real("quality", 1.10, 1, 10, "quality multiplier for the county specialty");
    tau_ = r.real("tau", 0.3, 0, 100, "extra adoption intensity in the county, 1/yr");
  }
  std::string type() const override { return "rural_technology_officer"; }
  void apply(World& w, const Params&, const Clock& clk, std::uint64_t) const override {
    const double s = window_.strength(clk.time_mid());
    if (s <= 0) return;
    each_village(w, [&](Id, Id v) {
      w.v.tau[v] += tau_ * s;
      w.v.quality_mult[v] *= 1.0 + (quality_ - 1.0) * s;
    });
  }
  std::string yaml() const override {
    std::ostringstream os;
    os << "{" << base_yaml() << ", quality: " << num(quality_) << ", tau: " << num(tau_) << "}";
    return os.str();
  }

 private:
  double quality_, tau_;
};

}  // namespace

std::unique_ptr<Intervention> make_rural_technology_officer(EntryReader& r) {
  return std::make_unique<RuralTechnologyOfficer>(r);
}

}  // namespace ruralsim
