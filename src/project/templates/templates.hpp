#pragma once
// One renderer per generated artifact (DESIGN.md section 4). Each is pure: the same config
// gives the same bytes, with no time or host detail in them, so re-running init rewrites
// nothing that is identical.
#include <string>

#include "config/config.hpp"
#include "project/feature_status.hpp"

namespace cc::project {

// CONTAINER-SPEC.md, true for the features of this build.
std::string render_container_spec(const config::Config& config, const FeatureStatus& features = kFeatures);
std::string render_containerfile(const config::Config& config);      // Containerfile
std::string render_mcp_config(const config::Config& config);         // mcp-config.json
std::string render_container_script();                               // scripts/container
std::string render_setup_mcp_script(const config::Config& config);   // scripts/setup-mcp.sh
std::string render_sync_skills_script(const config::Config& config,  // scripts/sync-skills.sh
                                      const FeatureStatus& features = kFeatures);
std::string render_gitignore_block();                                // the .gitignore block, markers included

}  // namespace cc::project
