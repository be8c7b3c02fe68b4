#include "engine/native/environment.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "engine/session_environment.hpp"
#include "util/error.hpp"

namespace cc::engine::native {

std::vector<std::string> login_shell_argv() {
  if (::access("/usr/bin/bash", X_OK) == 0 || ::access("/bin/bash", X_OK) == 0) return {"/bin/bash", "-l"};
  return {"/bin/sh", "-l"};
}

std::vector<std::string> container_environment(const ProjectContext& ctx, const ExecRequest& req, bool tty,
                                               std::optional<net::CredentialKind> gateway_kind) {
  std::map<std::string, std::string> env;
  std::string path;
  for (const auto& dir : container_path_dirs()) path += (path.empty() ? "" : ":") + dir;
  env["PATH"] = path;
  env["HOME"] = "/root";
  env["USER"] = "root";
  env["LOGNAME"] = "root";
  env["SHELL"] = login_shell_argv()[0];
  for (auto& [k, v] : session_environment(ctx, req, tty, gateway_kind)) env[k] = std::move(v);
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace cc::engine::native
