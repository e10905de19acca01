// Shipping subsidy: a fixed amount per parcel off the shipping cost of every village in the
// targeted counties while the window is open.
#include "core/format.hpp"
#include "policy/common.hpp"
#include "policy/types.hpp"

namespace ruralsim {
namespace {

class ShippingSubsidy final : public CountyIntervention {
 public:
  explicit ShippingSubsidy(EntryReader& r) {
    window_ = Window::read(r, 2019, 3, false);
    target_ = Targeting::read(r);
    rmb_ = r.real("rmb_per_parcel", 1.0, 0, 1000, "shipping subsidy, RMB per parcel");
  }
  std::string type() const override { return "shipping_subsidy"; }
  void apply(World& w, const Params&, const Clock& clk, std::uint64_t) const override {
    const double s = window_.strength(clk.time_mid());
    if (s <= 0) return;
    each_village(w, [&](Id, Id v) { w.v.ship_subsidy[v] += rmb_ * s; });
  }
  std::string yaml() const override {
    std::ostringstream os;
    os << "{" << base_yaml() << ", rmb_per_parcel: " << num(rmb_) << "}";
    return os.str();
  }

 private:
  double rmb_;
};

}  // namespace

std::unique_ptr<Intervention> make_shipping_subsidy(EntryReader& r) {
  return std::make_unique<ShippingSubsidy>(r);
}

}  // namespace ruralsim
