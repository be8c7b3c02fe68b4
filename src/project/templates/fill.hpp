#pragma once
// Fills {{KEY}} slots in a template. Every slot must have a value and every value a slot, so
// no template can ship with a placeholder left in it or a value silently dropped.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cc::project {

using TemplateValues = std::vector<std::pair<std::string, std::string>>;

// Throws cc::Error naming the slot when one is left unfilled or a value has no slot.
std::string fill_template(std::string_view text, const TemplateValues& values);

}  // namespace cc::project
