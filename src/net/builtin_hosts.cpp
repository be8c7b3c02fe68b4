// The hosts each network policy allows before the user's entries.
//
// isolated: Claude Code's API and sign-in hosts (its documented network requirements), HTTPS
// only. Optional telemetry, the Chrome bridge and generic storage buckets are left out on
// purpose: a bucket host would let anything inside upload anywhere.
// development: isolated plus the common package registries and git hosts over HTTPS (and plain
// HTTP for the distribution archives that serve signed packages that way).
#include "net/domain_policy.hpp"

namespace cc::net {

std::vector<std::string> builtin_allow_list(config::NetworkPolicy policy) {
  static const std::vector<std::string> isolated = {
      "api.anthropic.com:443",   "claude.ai:443",       "api.claude.ai:443",
      "platform.claude.com:443", "claude.com:443",      "code.claude.com:443",
      "mcp-proxy.anthropic.com:443", "downloads.claude.ai:443",
  };
  static const std::vector<std::string> development_extra = {
      // JavaScript
      "registry.npmjs.org:443", "registry.yarnpkg.com:443",
      // Python
      "pypi.org:443", "files.pythonhosted.org:443",
      // Rust
      "crates.io:443", "index.crates.io:443", "static.crates.io:443",
      // Go
      "proxy.golang.org:443", "sum.golang.org:443",
      // Debian / Ubuntu archives (signed packages, also served over plain HTTP)
      "deb.debian.org", "security.debian.org", "archive.ubuntu.com", "security.ubuntu.com",
      "ports.ubuntu.com",
      // Ruby
      "rubygems.org:443", "index.rubygems.org:443",
      // Java
      "repo.maven.apache.org:443", "repo1.maven.org:443",
      // git hosts over HTTPS
      "github.com:443", "api.github.com:443", "codeload.github.com:443",
      "objects.githubusercontent.com:443", "raw.githubusercontent.com:443",
      "gitlab.com:443", "bitbucket.org:443",
  };
  switch (policy) {
    case config::NetworkPolicy::none:
    case config::NetworkPolicy::full:
      return {};
    case config::NetworkPolicy::isolated:
      return isolated;
    case config::NetworkPolicy::development: {
      auto all = isolated;
      all.insert(all.end(), development_extra.begin(), development_extra.end());
      return all;
    }
  }
  return {};
}

}  // namespace cc::net
