// Livestream training: every calendar year of the window, each targeted county gets a cohort
// of trained livestreamers with given initial followers and a skill multiplier. They join the
// livestreamer store at step 4 of the same tick.
#include "core/format.hpp"
#include "policy/common.hpp"
#include "policy/types.hpp"

namespace ruralsim {
namespace {

class LivestreamTraining final : public CountyIntervention {
 public:
  explicit LivestreamTraining(EntryReader& r) {
    window_ = Window::read(r, 2019, 3, false);
    target_ = Targeting::read(r);
    per_year_ = r.integer("per_county_per_year", 30, 0, 1000000,
                          "livestreamers trained per targeted county per year");
    followers_ = r.real("initial_followers", 1000, 0, 1e9, "initial followers of a trainee");
    skill_ = r.real("skill", 1.2, 0.01, 100, "multiplier of a trainee's drawn skill");
  }
  std::string type() const override { return "livestream_training"; }
  void apply(World& w, const Params&, const Clock& clk, std::uint64_t) const override {
    if (per_year_ <= 0 || !window_.year_start(clk)) return;
    const auto n = static_cast<std::int32_t>(per_year_);
    for (Id c : targets(w)) queue_trainees(w, c, n, followers_, skill_);
  }
  std::string yaml() const override {
    std::ostringstream os;
    os << "{" << base_yaml() << ", per_county_per_year: " << num(per_year_)
       << ", initial_followers: " << num(followers_) << ", skill: " << num(skill_) << "}";
    return os.str();
  }

 private:
  std::int64_t per_year_;
  double followers_, skill_;
};

}  // namespace

std::unique_ptr<Intervention> make_livestream_training(EntryReader& r) {
  return std::make_unique<LivestreamTraining>(r);
}

}  // namespace ruralsim
