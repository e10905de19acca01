// 6.8 Recognition (last tick of each year): Taobao Village and Taobao Town evaluation.
#include <cmath>

#include "model/rule_expr.hpp"
#include "model/submodels.hpp"

namespace ruralsim {

bool meets_taobao_village(double annual_sales, std::int64_t stores, std::int64_t households,
                          const RecognitionRules& r, const RuleExpr& rule) {
  const double h = static_cast<double>(households);
  const bool share_ok = households > 0 && static_cast<double>(stores) >=
                                              r.village_store_share * h - 1e-9 * std::max(1.0, h);
  return rule.eval({annual_sales >= r.village_sales, stores >= r.village_stores, share_ok});
}

bool meets_taobao_village(double annual_sales, std::int64_t stores, std::int64_t households,
                          const RecognitionRules& r) {
  return meets_taobao_village(annual_sales, stores, households, r,
                              RuleExpr(r.village_rule, village_criteria()));
}

bool meets_taobao_town(std::int64_t taobao_villages, double town_sales, std::int64_t town_stores,
                       const RecognitionRules& r, const RuleExpr& rule) {
  return rule.eval(
      {taobao_villages >= r.town_villages, town_sales > r.town_sales, town_stores > r.town_stores});
}

bool meets_taobao_town(std::int64_t taobao_villages, double town_sales, std::int64_t town_stores,
                       const RecognitionRules& r) {
  return meets_taobao_town(taobao_villages, town_sales, town_stores, r,
                           RuleExpr(r.town_rule, town_criteria()));
}

void update_taobao_neighbours(World& w) {
  const auto& g = w.geo;
  for (std::size_t v = 0; v < g.villages(); ++v) {
    std::uint8_t any = 0;
    for (auto k = g.nbr_offset[v]; k < g.nbr_offset[v + 1] && !any; ++k)
      any = w.v.taobao[g.nbr_index[k]];
    w.v.taobao_nbr[v] = any;
  }
}

void recognition_step(World& w, const StepCtx& ctx) {
  const auto& g = w.geo;
  const auto& rules = w.rules;
  const auto tick = ctx.clk.tick;
  const auto year = ctx.clk.year();
  // The rules were validated when the scenario was read.
  const RuleExpr village_rule(rules.village_rule, village_criteria());
  const RuleExpr town_rule(rules.town_rule, town_criteria());
  for (std::size_t v = 0; v < g.villages(); ++v) {
    const bool ok = meets_taobao_village(w.v.sales_year[v], w.v.stores[v], g.households[v], rules,
                                         village_rule);
    if (ok && !w.v.taobao[v]) {
      w.v.taobao[v] = 1;
      if (!w.v.taobao_year[v]) w.v.taobao_year[v] = year;
      w.events.push_back({tick, static_cast<std::int32_t>(EventKind::TaobaoVillage),
                          static_cast<std::int64_t>(v), w.v.sales_year[v]});
    } else if (!ok && w.v.taobao[v] && rules.can_lose) {
      w.v.taobao[v] = 0;
      w.events.push_back({tick, static_cast<std::int32_t>(EventKind::TaobaoVillageLost),
                          static_cast<std::int64_t>(v), w.v.sales_year[v]});
    }
  }
  for (std::size_t t = 0; t < g.towns(); ++t) {
    std::int64_t tv = 0, stores = 0;
    double sales = 0;
    for (auto v = g.town_village_begin[t]; v < g.town_village_end[t]; ++v) {
      tv += w.v.taobao[v];
      stores += w.v.stores[v];
      sales += w.v.sales_year[v];
    }
    const bool ok = meets_taobao_town(tv, sales, stores, rules, town_rule);
    if (ok && !w.t.taobao[t]) {
      w.t.taobao[t] = 1;
      if (!w.t.taobao_year[t]) w.t.taobao_year[t] = year;
      w.events.push_back({tick, static_cast<std::int32_t>(EventKind::TaobaoTown),
                          static_cast<std::int64_t>(t), sales});
    } else if (!ok && w.t.taobao[t] && rules.can_lose) {
      w.t.taobao[t] = 0;
      w.events.push_back({tick, static_cast<std::int32_t>(EventKind::TaobaoTownLost),
                          static_cast<std::int64_t>(t), sales});
    }
  }
  for (auto& s : w.v.sales_year) s = 0.0;
  update_taobao_neighbours(w);
}

}  // namespace ruralsim
