#pragma once
// How `status` presents a container: the JSON object of DESIGN.md section 2 and the text view.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_context.hpp"
#include "engine/engine.hpp"

namespace cc::cli {

nlohmann::json status_json(const engine::ProjectContext& ctx, const engine::Status& status);
nlohmann::json not_set_up_status_json();
std::vector<std::string> status_text(const engine::ProjectContext& ctx, const engine::Status& status,
                                     const Console& console);
// "3h 4m 5s"
std::string format_duration(long long seconds);

}  // namespace cc::cli
