#pragma once
// Where things are inside the container, shared by the generated files (Containerfile,
// mcp-config.json, CONTAINER-SPEC.md) and the engines that must honour them.
namespace cc::project {

inline constexpr const char* kWorkspaceDir = "/workspace";       // the project, as the container sees it
inline constexpr const char* kContainerUser = "claude";          // non-root user of built images
inline constexpr const char* kContainerHome = "/home/claude";    // its home in built images
inline constexpr const char* kDefaultContainerfile = ".claude-container/Containerfile";
inline constexpr const char* kManifestFile = ".claude-container/manifest.json";
inline constexpr const char* kSpecFile = ".claude-container/CONTAINER-SPEC.md";
inline constexpr const char* kMcpConfigFile = ".claude-container/mcp-config.json";
inline constexpr const char* kContainerScript = "scripts/container";
inline constexpr const char* kSetupMcpScript = "scripts/setup-mcp.sh";
inline constexpr const char* kSyncSkillsScript = "scripts/sync-skills.sh";

// Claude Code version the Containerfile pins (npm `@anthropic-ai/claude-code`, needs Node >= 22).
inline constexpr const char* kClaudeCodeVersion = "2.1.332";
inline constexpr int kNodeMajor = 22;

}  // namespace cc::project
