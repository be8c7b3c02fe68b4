#pragma once
// What this version of claude-container actually does with each setting. CONTAINER-SPEC.md
// must state only what is true, so its text (and the security level) follows these flags:
// flip a flag in the same commit that lands the feature, then regenerate the golden files
// (CC_UPDATE_GOLDEN=1, see tests/unit/project_golden_test.cpp).
namespace cc::project {

struct FeatureStatus {
  bool credential_gateway = false;  // credentials.api "gateway": key added outside the sandbox
  bool api_key_passing = false;     // credentials.api "shared": host key passed in
  bool git_identity = false;        // git.name / git.email set inside
  bool git_credentials = false;     // git.credentials "pat" helper and "ssh" agent forwarding
  bool skills_sync_at_start = false;  // skills.sync shares the skills at start, without a command
  bool image_engines = false;       // the apple engine
  bool docker_podman = false;       // the docker and podman engines
};

// The features of this build.
inline constexpr FeatureStatus kFeatures{.credential_gateway = true, .api_key_passing = true, .git_identity = true,
                                         .git_credentials = true, .skills_sync_at_start = true,
                                         .docker_podman = true};

}  // namespace cc::project
