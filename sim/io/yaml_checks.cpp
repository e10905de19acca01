#include "io/yaml_checks.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <string_view>

#include "core/error.hpp"
#include "io/input_file.hpp"

namespace ruralsim {
namespace {

[[noreturn]] void fail_at(const std::string& label, const YAML::Mark& m, const std::string& msg) {
  if (m.is_null()) throw InputError(located(label, 0, 0, msg));
  throw InputError(located(label, m.line + 1, m.column + 1, msg));
}

std::string too_deep() {
  return "maps and lists are nested more than " + std::to_string(kMaxYamlDepth) +
         " levels deep; a scenario needs at most 4";
}

void check_node(const YAML::Node& n, const std::string& label, const std::string& path, int depth) {
  if (depth > kMaxYamlDepth) fail_at(label, n.Mark(), too_deep());
  if (n.IsMap()) {
    std::map<std::string, YAML::Mark> seen;
    for (const auto& kv : n) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
      const std::string full = path.empty() ? key : path + "." + key;
      if (kv.first.IsScalar()) {
        auto [it, fresh] = seen.emplace(key, kv.first.Mark());
        if (!fresh) {
          const YAML::Mark first = it->second;
          fail_at(
              label, kv.first.Mark(),
              "key '" + escape_bytes(full) + "' appears twice" +
                  (first.is_null() ? std::string()
                                   : " (first at line " + std::to_string(first.line + 1) + ")") +
                  "; a key may be given once");
        }
      } else {
        check_node(kv.first, label, full, depth + 1);
      }
      check_node(kv.second, label, full, depth + 1);
    }
  } else if (n.IsSequence()) {
    for (std::size_t i = 0; i < n.size(); ++i)
      check_node(n[i], label, path + "[" + std::to_string(i) + "]", depth + 1);
  }
}

// Records where each document starts; everything else is ignored.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

YAML::Node load_single_yaml_document(const std::string& text, const std::string& label) {
  YAML::Node root;
  DocumentStarts docs;
  try {
    root = YAML::Load(text);
    // A second document? At most two are parsed: yaml-cpp 0.7 never finishes YAML::LoadAll on
    // some inputs (a lone ',' yields empty documents forever, found by fuzzing), so documents
    // that start where the previous one started are not counted.
    std::istringstream in(text);
    YAML::Parser parser(in);
    for (int n = 0; n < 2 && parser.HandleNextDocument(docs); ++n) {
    }
  } catch (const YAML::DeepRecursion& e) {
    fail_at(label, e.mark, too_deep());
  } catch (const YAML::Exception& e) {
    fail_at(label, e.mark, "not valid YAML: " + escape_bytes(e.msg));
  }
  if (docs.starts.size() > 1 && docs.starts[1].pos > docs.starts[0].pos) {
    YAML::Mark at = docs.starts[1];
    if (at.is_null()) {  // an empty second document: point at its '---' line
      int line = 0;
      bool content = false;
      for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t end = std::min(text.find('\n', pos), text.size());
        const std::string_view l(text.data() + pos, end - pos);
        if (l.starts_with("---") && content) {
          at.pos = 0;
          at.line = line;
          at.column = 0;
          break;
        }
        const auto first = l.find_first_not_of(" \t\r");
        if (first != std::string_view::npos && l[first] != '#' && !l.starts_with("---") &&
            !l.starts_with("%"))
          content = true;
        ++line;
        pos = end + 1;
      }
    }
    fail_at(label, at,
            "the file holds more than one YAML document (a line '---' starts a new one); a "
            "scenario is one document");
  }
  if (!root || root.IsNull()) return YAML::Node();
  check_node(root, label, "", 0);
  return root;
}

}  // namespace ruralsim
