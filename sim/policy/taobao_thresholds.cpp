// Taobao thresholds: from a given year on, replaces some of the recognition thresholds or
// benefits in force (w.rules). Only the keys given in the entry override the scenario values.
#include <optional>
#include <stdexcept>

#include "core/format.hpp"
#include "model/rule_expr.hpp"
#include "policy/common.hpp"
#include "policy/types.hpp"

namespace ruralsim {
namespace {

class TaobaoThresholds final : public Intervention {
 public:
  explicit TaobaoThresholds(EntryReader& r) {
    from_year_ = r.real("from_year", 2020, 1900, 2200,
                        "calendar year from which the rules below are in force");
    village_sales_ = opt_real(r, "village_sales", 0, 1.0e15,
                              "Taobao Village: minimum annual e-commerce sales, RMB/yr");
    village_stores_ = opt_int(r, "village_stores", 0, 1000000000,
                              "Taobao Village: active stores (alternative to the share rule)");
    village_store_share_ = opt_real(r, "village_store_share", 0, 1,
                                    "Taobao Village: stores as share of households (alternative)");
    town_villages_ =
        opt_int(r, "town_villages", 0, 1000000, "Taobao Town: minimum Taobao Villages in the town");
    town_sales_ = opt_real(r, "town_sales", 0, 1.0e15,
                           "Taobao Town: sales strictly above this (or the store rule), RMB/yr");
    town_stores_ = opt_int(r, "town_stores", 0, 1000000000,
                           "Taobao Town: active stores strictly above this (or the sales rule)");
    visibility_boost_ = opt_real(r, "visibility_boost", 0, 100,
                                 "attractiveness boost of stores in a Taobao Village");
    fixed_cost_subsidy_ = opt_real(r, "fixed_cost_subsidy", 0, 1,
                                   "share of store fixed cost subsidised in a Taobao Village");
    const std::string cl = r.choice("can_lose", "unchanged", {"unchanged", "true", "false"});
    if (cl != "unchanged") can_lose_ = cl == "true";
    village_rule_ =
        opt_rule(r, "village_rule", village_criteria(),
                 "how the village criteria combine, e.g. 'sales and (stores or share)'");
    town_rule_ = opt_rule(r, "town_rule", town_criteria(),
                          "how the town criteria combine, e.g. 'villages and (sales or stores)'");
  }
  std::string type() const override { return "taobao_thresholds"; }
  void initialize(World&, const Params&, std::uint64_t) const override {}
  void emit_events(World& w, const Clock& clk) const override {
    if (in_tick(clk, from_year_))
      w.events.push_back({clk.tick, static_cast<std::int32_t>(EventKind::InterventionStart), -1,
                          static_cast<double>(index)});
  }
  void apply(World& w, const Params&, const Clock& clk, std::uint64_t) const override {
    if (clk.time_mid() < from_year_) return;
    auto& ru = w.rules;
    if (village_sales_) ru.village_sales = *village_sales_;
    if (village_stores_) ru.village_stores = *village_stores_;
    if (village_store_share_) ru.village_store_share = *village_store_share_;
    if (town_villages_) ru.town_villages = *town_villages_;
    if (town_sales_) ru.town_sales = *town_sales_;
    if (town_stores_) ru.town_stores = *town_stores_;
    if (visibility_boost_) ru.visibility_boost = *visibility_boost_;
    if (fixed_cost_subsidy_) ru.fixed_cost_subsidy = *fixed_cost_subsidy_;
    if (can_lose_) ru.can_lose = *can_lose_;
    if (village_rule_) ru.village_rule = *village_rule_;
    if (town_rule_) ru.town_rule = *town_rule_;
  }
  std::string yaml() const override {
    std::ostringstream os;
    os << "{type: " << type() << ", from_year: " << num(from_year_);
    auto put = [&os](const char* key, const auto& value) {
      if (value) os << ", " << key << ": " << num(*value);
    };
    put("village_sales", village_sales_);
    put("village_stores", village_stores_);
    put("village_store_share", village_store_share_);
    put("town_villages", town_villages_);
    put("town_sales", town_sales_);
    put("town_stores", town_stores_);
    put("visibility_boost", visibility_boost_);
    put("fixed_cost_subsidy", fixed_cost_subsidy_);
    if (can_lose_) os << ", can_lose: " << (*can_lose_ ? "true" : "false");
    if (village_rule_) os << ", village_rule: \"" << *village_rule_ << "\"";
    if (town_rule_) os << ", town_rule: \"" << *town_rule_ << "\"";
    os << "}";
    return os.str();
  }

 private:
  // Reads the key (so that it counts as known) and keeps the value only if it is given.
  static std::optional<double> opt_real(EntryReader& r, const char* key, double min, double max,
                                        const char* doc) {
    const double v = r.real(key, min, min, max, doc);
    return r.has(key) ? std::optional<double>(v) : std::nullopt;
  }
  static std::optional<std::int64_t> opt_int(EntryReader& r, const char* key, std::int64_t min,
                                             std::int64_t max, const char* doc) {
    const std::int64_t v = r.integer(key, min, min, max, doc);
    return r.has(key) ? std::optional<std::int64_t>(v) : std::nullopt;
  }

  static std::optional<std::string> opt_rule(EntryReader& r, const char* key,
                                             const std::vector<std::string>& names,
                                             const char* doc) {
    const std::string v = r.text(key, "", doc);
    if (!r.has(key)) return std::nullopt;
    try {
      RuleExpr check(v, names);
    } catch (const std::invalid_argument& e) {
      r.fail(key, e.what());
    }
    return v;
  }

  double from_year_;
  std::optional<double> village_sales_, village_store_share_, town_sales_, visibility_boost_,
      fixed_cost_subsidy_;
  std::optional<std::int64_t> village_stores_, town_villages_, town_stores_;
  std::optional<bool> can_lose_;
  std::optional<std::string> village_rule_, town_rule_;
};

}  // namespace

std::unique_ptr<Intervention> make_taobao_thresholds(EntryReader& r) {
  return std::make_unique<TaobaoThresholds>(r);
}

}  // namespace ruralsim
