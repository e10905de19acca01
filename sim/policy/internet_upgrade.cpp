// Internet upgrade: raises internet access I_v (computed at step 1 of the tick) in the
// villages of targeted counties, capped at 1; the effect decays after the window ends.
#include <algorithm>

#include "core/format.hpp"
#include "policy/common.hpp"
#include "policy/types.hpp"

namespace ruralsim {
namespace {

class InternetUpgrade final : public CountyIntervention {
 public:
  explicit InternetUpgrade(EntryReader& r) {
    window_ = Window::read(r, 2015, 3, true);
    target_ = Targeting::read(r);
    boost_ = r.real("boost", 0.2, 0, 1, "added internet access share (capped at 1)");
  }
  std::string type() const override { return "internet_upgrade"; }
  void apply(World& w, const Params&, const Clock& clk, std::uint64_t) const override {
    const double s = window_.strength(clk.time_mid());
    if (s <= 0) return;
    each_village(w,
                 [&](Id, Id v) { w.v.internet[v] = std::min(1.0, w.v.internet[v] + boost_ * s); });
  }
  std::string yaml() const override {
    std::ostringstream os;
    os << "{" << base_yaml() << ", boost: " << num(boost_) << "}";
    return os.str();
  }

 private:
  double boost_;
};

}  // namespace

std::unique_ptr<Intervention> make_internet_upgrade(EntryReader& r) {
  return std::make_unique<InternetUpgrade>(r);
}

}  // namespace ruralsim
