#include "project/templates/fill.hpp"

#include <set>

#include "util/error.hpp"

namespace cc::project {

std::string fill_template(std::string_view text, const TemplateValues& values) {
  std::string out;
  std::set<std::string> used;
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) throw Error("internal error: template has an unclosed \"{{\"");
    const std::string key(text.substr(open + 2, close - open - 2));
    const std::string* value = nullptr;
    for (const auto& [k, v] : values)
      if (k == key) value = &v;
    if (!value) throw Error("internal error: template slot {{" + key + "}} has no value");
    out.append(text.substr(pos, open - pos));
    out += *value;
    used.insert(key);
    pos = close + 2;
  }
  out.append(text.substr(pos));
  for (const auto& [k, v] : values)
    if (!used.count(k)) throw Error("internal error: template value " + k + " has no slot");
  return out;
}

}  // namespace cc::project
