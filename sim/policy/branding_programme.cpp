// Branding programme: raises the brand factor of the county specialty in targeted counties;
// the effect decays after the window ends.
#include "core/format.hpp"
#include "policy/common.hpp"
#include "policy/types.hpp"

namespace ruralsim {
namespace {

class BrandingProgramme final : public CountyIntervention {
 public:
  explicit BrandingProgramme(EntryReader& r) {
    window_ = Window::read(r, 2019, 3, true);
    target_ = Targeting::read(r);
    brand_ = r.real("brand", 1.15, 1, 10, "brand multiplier for the county specialty");
  }
  std::string type() const override { return "branding_programme"; }
  void apply(World& w, const Params&, const Clock& clk, std::uint64_t) const override {
    const double s = window_.strength(clk.time_mid());
    if (s <= 0) return;
    each_village(w, [&](Id, Id v) { w.v.brand_mult[v] *= 1.0 + (brand_ - 1.0) * s; });
  }
  std::string yaml() const override {
    std::ostringstream os;
    os << "{" << base_yaml() << ", brand: " << num(brand_) << "}";
    return os.str();
  }

 private:
  double brand_;
};

}  // namespace

std::unique_ptr<Intervention> make_branding_programme(EntryReader& r) {
  return std::make_unique<BrandingProgramme>(r);
}

}  // namespace ruralsim
