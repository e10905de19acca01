#pragma once
// Recognition rules as data: a boolean expression over named criteria, e.g.
// "sales and (stores or share)". Grammar: expr = term {"or" term}; term = factor {"and" factor};
// factor = name | "(" expr ")". Names are the criteria of the rule (village: sales, stores,
// share; town: villages, sales, stores); "and" binds tighter than "or".
#include <cstdint>
#include <string>
#include <vector>

namespace ruralsim {

class RuleExpr {
 public:
  // Throws std::invalid_argument with a message that names the problem and the valid names.
  RuleExpr(const std::string& text, const std::vector<std::string>& names);
  // values[i] is the truth of names[i].
  bool eval(const std::vector<bool>& values) const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::vector<std::int32_t> rpn_;  // >= 0: name index; -1: and; -2: or
};

inline const std::vector<std::string>& village_criteria() {
  static const std::vector<std::string> n = {"sales", "stores", "share"};
  return n;
}
inline const std::vector<std::string>& town_criteria() {
  static const std::vector<std::string> n = {"villages", "sales", "stores"};
  return n;
}

}  // namespace ruralsim
