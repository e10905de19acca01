// County centre programme: every calendar year of the window, opens a county logistics centre
// in the first `per_year` targeted counties (in target order) that have none yet.
#include "core/format.hpp"
#include "model/submodels.hpp"
#include "policy/common.hpp"
#include "policy/types.hpp"

namespace ruralsim {
namespace {

class CountyCentreProgramme final : public CountyIntervention {
 public:
  explicit CountyCentreProgramme(EntryReader& r) {
    window_ = Window::read(r, 2015, 7, false);
    target_ = Targeting::read(r);
    per_year_ = r.integer("per_year", 10, 0, 1000000, "county centres opened per year");
  }
  std::string type() const override { return "county_centre_programme"; }
  void apply(World& w, const Params&, const Clock& clk, std::uint64_t) const override {
    if (per_year_ <= 0 || !window_.year_start(clk)) return;
    std::int64_t opened = 0;
    for (Id c : targets(w)) {
      if (opened >= per_year_) break;
      if (w.c.centre[c]) continue;
      open_centre(w, c, clk.tick, 0.0);
      ++opened;
    }
  }
  std::string yaml() const override {
    std::ostringstream os;
    os << "{" << base_yaml() << ", per_year: " << num(per_year_) << "}";
    return os.str();
  }

 private:
  std::int64_t per_year_;
};

}  // namespace

std::unique_ptr<Intervention> make_county_centre_programme(EntryReader& r) {
  return std::make_unique<CountyCentreProgramme>(r);
}

}  // namespace ruralsim
