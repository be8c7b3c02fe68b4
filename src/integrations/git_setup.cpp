#include "integrations/git_setup.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>

#include "net/proxy_listener.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/unique_fd.hpp"

namespace cc::integrations {

namespace fs = std::filesystem;

namespace {

// A git config value in double quotes: backslash and quote escaped. Line breaks never get here
// (config validation refuses them in git.name; git.email has no whitespace at all).
std::string quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n' || c == '\r') continue;
    out += c;
  }
  return out + "\"";
}

// OpenBSD netcat speaks HTTP CONNECT (-X connect -x proxy): git-over-ssh can then go through
// the egress proxy. The `host` image is the host's system directories, so look here.
const char* proxy_netcat() {
  for (const char* path : {"/usr/bin/nc.openbsd", "/bin/nc.openbsd"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return nullptr;
}

bool uses_proxy(const config::Config& config) {
  return config.network.policy == config::NetworkPolicy::isolated ||
         config.network.policy == config::NetworkPolicy::development;
}

// Whether `path` is a unix socket this process can connect to (the agent answers).
bool agent_answers(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) return false;
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

std::string credentials_field(const config::Config& config) {
  return "git.credentials is \"" + config::to_string(config.git.credentials) + "\"";
}

}  // namespace

const std::vector<std::string>& git_token_variables() {
  static const std::vector<std::string> names = {"GH_TOKEN", "GITHUB_TOKEN"};
  return names;
}

std::string git_host_name(const std::string& host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    return close == std::string::npos ? host : host.substr(0, close + 1);
  }
  auto colon = host.find(':');
  return colon == std::string::npos ? host : host.substr(0, colon);
}

GitHostCredentials find_git_credentials(const config::Config& config, const config::EnvLookup& lookup) {
  GitHostCredentials found;
  switch (config.git.credentials) {
    case config::GitCredentials::none:
      break;
    case config::GitCredentials::pat: {
      for (const auto& name : git_token_variables()) {
        auto value = lookup(name);
        if (value && !value->empty()) {
          found.token = std::move(*value);
          found.token_variable = name;
          break;
        }
      }
      if (found.token.empty()) {
        throw Error("cannot start " + config.name + ": " + credentials_field(config) +
                    " and no token was found in the host's GH_TOKEN or GITHUB_TOKEN; export one of them (a "
                    "personal access token for " + config.git.host + ") before `claude-container start`, or set "
                    "git.credentials to \"none\" or \"ssh\" in .claude-container/config.json.");
      }
      if (found.token.find_first_of("\r\n") != std::string::npos) {
        throw Error("cannot start " + config.name + ": the git token holds a line break, which the git credential "
                    "protocol cannot carry; export the token alone.");
      }
      if (::access("/usr/bin/curl", X_OK) != 0) {
        throw Error("cannot start " + config.name + ": " + credentials_field(config) +
                    ", whose credential helper inside uses curl, and /usr/bin/curl is not installed on this machine "
                    "(the container's `host` image); install curl (e.g. `apt install curl`).");
      }
      break;
    }
    case config::GitCredentials::ssh: {
      auto sock = lookup("SSH_AUTH_SOCK");
      if (!sock || sock->empty()) {
        throw Error("cannot start " + config.name + ": " + credentials_field(config) +
                    " and SSH_AUTH_SOCK is not set, so there is no ssh-agent to forward; start one (`eval "
                    "\"$(ssh-agent)\"` and `ssh-add`) before `claude-container start`, or set git.credentials to "
                    "\"none\" or \"pat\" in .claude-container/config.json.");
      }
      if (!agent_answers(*sock)) {
        throw Error("cannot start " + config.name + ": " + credentials_field(config) + " and SSH_AUTH_SOCK (" + *sock +
                    ") is not a socket an ssh-agent answers on; start the agent again (`eval \"$(ssh-agent)\"` and "
                    "`ssh-add`) and export its SSH_AUTH_SOCK.");
      }
      found.agent_socket = std::move(*sock);
      break;
    }
  }
  return found;
}

std::string git_config_text(const config::Config& config) {
  std::string text =
      "# Generated by claude-container at every start; read-only. ~/.gitconfig and each repository's\n"
      "# config override it. The image's own system config comes first.\n"
      "[include]\n\tpath = /etc/gitconfig\n";
  if (!config.git.name.empty() || !config.git.email.empty()) {
    text += "[user]\n";
    if (!config.git.name.empty()) text += "\tname = " + quoted(config.git.name) + "\n";
    if (!config.git.email.empty()) text += "\temail = " + quoted(config.git.email) + "\n";
  }
  if (config.git.credentials == config::GitCredentials::pat) {
    // Only for https://<git.host>; the empty helper first drops helpers of lower configs for it.
    text += "[credential " + quoted("https://" + config.git.host) + "]\n\thelper =\n\thelper = " +
            std::string(kGitDirInside) + "/" + kGitHelperName + "\n";
  }
  return text;
}

std::string git_helper_script() {
  return std::string(
             "#!/bin/sh\n"
             "# Generated by claude-container: asks the host side for the git token. It answers only for\n"
             "# https://<git.host>; nothing is stored, so store and erase do nothing.\n"
             "[ \"$1\" = get ] || exit 0\n"
             "exec /usr/bin/curl --silent --fail --noproxy '*' --max-time 20 --unix-socket ") +
         kGitDirInside + "/" + kGitCredentialSocketName + " --data-binary @- http://localhost/get\n";
}

void write_git_files(const fs::path& dir, const config::Config& config) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) throw_errno("cannot create " + dir.string());
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
    throw Error("the container's git directory " + dir.string() + " is not a directory of yours; run "
                "`claude-container destroy` and start again.");
  }
  ::chmod(dir.c_str(), 0755);
  write_file_atomic(dir / kGitConfigName, git_config_text(config), 0644);
  write_file_atomic(dir / kGitHelperName, git_helper_script(), 0755);
  for (const char* name : {kGitCredentialSocketName, kGitAgentSocketName}) ::unlink((dir / name).c_str());
}

std::map<std::string, std::string> git_environment(const config::Config& config) {
  std::map<std::string, std::string> env;
  env["GIT_CONFIG_SYSTEM"] = std::string(kGitDirInside) + "/" + kGitConfigName;
  if (config.git.credentials == config::GitCredentials::ssh) {
    env["SSH_AUTH_SOCK"] = std::string(kGitDirInside) + "/" + kGitAgentSocketName;
    const char* nc = proxy_netcat();
    if (uses_proxy(config) && nc != nullptr) {
      env["GIT_SSH_COMMAND"] = "ssh -o ProxyCommand='" + std::string(nc) + " -X connect -x 127.0.0.1:" +
                               std::to_string(net::kProxyPort) + " %h %p'";
    }
  }
  return env;
}

std::vector<std::string> git_network_entries(const config::Config& config) {
  if (config.git.credentials != config::GitCredentials::ssh) return {};
  return {git_host_name(config.git.host) + ":22"};
}

GitStatus git_status(const config::Config& config, const config::EnvLookup& lookup) {
  GitStatus status;
  status.identity = config.git.name;
  if (!config.git.email.empty()) status.identity += (status.identity.empty() ? "<" : " <") + config.git.email + ">";
  status.mode = config::to_string(config.git.credentials);
  status.host = config.git.host;
  if (config.git.credentials == config::GitCredentials::pat) {
    for (const auto& name : git_token_variables()) {
      auto value = lookup(name);
      if (value && !value->empty()) {
        status.secret_found = true;
        status.source = name;
        break;
      }
    }
  } else if (config.git.credentials == config::GitCredentials::ssh) {
    auto sock = lookup("SSH_AUTH_SOCK");
    status.secret_found = sock && !sock->empty() && agent_answers(*sock);
    if (status.secret_found) status.source = "SSH_AUTH_SOCK";
  }
  return status;
}

config::Network network_with_git(const config::Config& config) {
  config::Network network = config.network;
  for (auto& entry : git_network_entries(config)) network.allow.push_back(std::move(entry));
  return network;
}

std::string describe_git_credentials(const config::Config& config, const config::EnvLookup& lookup) {
  switch (config.git.credentials) {
    case config::GitCredentials::none:
      return "none";
    case config::GitCredentials::pat: {
      for (const auto& name : git_token_variables()) {
        auto value = lookup(name);
        if (value && !value->empty()) {
          return "pat for https://" + config.git.host + " (token from the host's " + name +
                 ", served by a credential helper; not in the container's environment or files)";
        }
      }
      return "pat for https://" + config.git.host + " (no token found: export GH_TOKEN or GITHUB_TOKEN before start)";
    }
    case config::GitCredentials::ssh: {
      auto sock = lookup("SSH_AUTH_SOCK");
      const bool found = sock && !sock->empty() && agent_answers(*sock);
      return "ssh for " + git_host_name(config.git.host) + ":22 (" +
             (found ? "agent socket found; keys stay in the host's agent" : "no agent socket found: start ssh-agent") +
             ")";
    }
  }
  return "none";
}

}  // namespace cc::integrations
