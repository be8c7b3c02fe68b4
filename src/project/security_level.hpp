#pragma once
// The security level of a configuration, 1 to 5 stars, and the reasons for each star lost.
// Used by CONTAINER-SPEC.md; the CLI may show it in status or after init.
#include <string>
#include <vector>

#include "config/config.hpp"
#include "project/feature_status.hpp"

namespace cc::project {

struct StarLoss {
  int stars = 1;        // how many stars this costs
  std::string reason;   // one sentence
};

struct SecurityLevel {
  int stars = 5;                    // 1..5, after the losses (never below 1)
  std::vector<StarLoss> losses;     // why stars were lost
  std::vector<std::string> notes;   // weaknesses that cost no star but are worth knowing
};

// Judges what the container really gets in this build (`features`), not what is planned.
SecurityLevel assess_security(const config::Config& config, const FeatureStatus& features = kFeatures);

// "★★★★☆" for 4.
std::string star_text(int stars);

}  // namespace cc::project
