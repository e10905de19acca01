#include "model/rule_expr.hpp"

#include <cctype>
#include <stdexcept>

namespace ruralsim {
namespace {

struct Parser {
  const std::string& s;
  const std::vector<std::string>& names;
  std::size_t pos = 0;
  std::vector<std::int32_t>& out;

  std::string valid() const {
    std::string v;
    for (const auto& n : names) v += (v.empty() ? "" : ", ") + n;
    return v + ", and, or, ( )";
  }
  [[noreturn]] void fail(const std::string& msg) const {
    throw std::invalid_argument("rule '" + s + "': " + msg + " at character " +
                                std::to_string(pos + 1) + "; valid words: " + valid());
  }
  void skip() {
    while (pos < s.size() && std::isspace(static_cast<unsigned char>(s[pos]))) ++pos;
  }
  // Next token without consuming it: a word, "(", ")" or "" at the end.
  std::string peek() {
    skip();
    if (pos >= s.size()) return "";
    if (s[pos] == '(' || s[pos] == ')') return std::string(1, s[pos]);
    std::size_t e = pos;
    while (e < s.size() && (std::isalnum(static_cast<unsigned char>(s[e])) || s[e] == '_')) ++e;
    if (e == pos) fail("unexpected character '" + std::string(1, s[pos]) + "'");
    return s.substr(pos, e - pos);
  }
  void take(const std::string& tok) { pos += tok.size(); }
  void expr(int depth) {
    term(depth);
    while (peek() == "or") {
      take("or");
      term(depth);
      out.push_back(-2);
    }
  }
  void term(int depth) {
    factor(depth);
    while (peek() == "and") {
      take("and");
      factor(depth);
      out.push_back(-1);
    }
  }
  void factor(int depth) {
    if (depth > 32) fail("parentheses nested too deeply");
    const std::string t = peek();
    if (t.empty()) fail("expected a criterion, found the end");
    if (t == "(") {
      take(t);
      expr(depth + 1);
      if (peek() != ")") fail("expected ')'");
      take(")");
      return;
    }
    for (std::size_t i = 0; i < names.size(); ++i)
      if (t == names[i]) {
        take(t);
        out.push_back(static_cast<std::int32_t>(i));
        return;
      }
    fail("unknown word '" + t + "'");
  }
};

}  // namespace

RuleExpr::RuleExpr(const std::string& text, const std::vector<std::string>& names) : text_(text) {
  Parser p{text, names, 0, rpn_};
  p.expr(0);
  if (!p.peek().empty()) p.fail("unexpected '" + p.peek() + "'");
}

bool RuleExpr::eval(const std::vector<bool>& values) const {
  std::vector<char> stack;
  stack.reserve(rpn_.size());
  for (auto op : rpn_) {
    if (op >= 0) {
      stack.push_back(values[static_cast<std::size_t>(op)] ? 1 : 0);
    } else {
      const bool b = stack.back();
      stack.pop_back();
      const bool a = stack.back();
      stack.back() = op == -1 ? (a && b) : (a || b);
    }
  }
  return stack.size() == 1 && stack[0];
}

}  // namespace ruralsim
