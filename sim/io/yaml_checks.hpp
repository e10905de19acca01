#pragma once
// YAML parsing with the checks yaml-cpp leaves out: exactly one document, no key twice in a
// map (at any depth), a bounded nesting depth, and parser messages made printable.
#include <yaml-cpp/yaml.h>

#include <string>

namespace ruralsim {

// Deepest nesting of maps and lists accepted in a scenario.
inline constexpr int kMaxYamlDepth = 64;

// Parses `text` as a single YAML document; returns a null node for a document without content.
// Throws InputError located at `label`:line:column for a syntax error, a second document, a key
// that appears twice in one map, or nesting deeper than kMaxYamlDepth.
YAML::Node load_single_yaml_document(const std::string& text, const std::string& label);

}  // namespace ruralsim
