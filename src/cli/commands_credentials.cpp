// login, logout: keep the Anthropic credential the gateway adds (and `shared` passes in) in the
// user's config directory, for when the host's environment has none. No project needed.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/cli_context.hpp"
#include "cli/hidden_input.hpp"
#include "config/container_env.hpp"
#include "integrations/api_credential.hpp"
#include "integrations/credential_store.hpp"
#include "util/error.hpp"

namespace cc::cli {

namespace {

// Far more than any credential; what is longer is refused by its shape anyway.
constexpr std::size_t kMaxInputBytes = 4096;

const char* const kExpected =
    "an Anthropic API key (sk-ant-api..., from the Console) or an OAuth token (sk-ant-oat..., from `claude "
    "setup-token`)";

void wipe(std::string& text) {
  if (!text.empty()) ::explicit_bzero(text.data(), text.size());
  text.clear();
}

std::string trimmed(std::string text) {
  const char* space = " \t\r\n";
  std::size_t first = text.find_first_not_of(space);
  std::size_t last = text.find_last_not_of(space);
  std::string out = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
  wipe(text);
  return out;
}

// One line from stdin (a pipe or file): what `--stdin` reads.
std::string read_stdin_line() {
  std::string line;
  line.reserve(kMaxInputBytes + 1);
  char c = 0;
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("login failed: cannot read standard input");
    if (n == 0 || c == '\n') break;
    if (line.size() >= kMaxInputBytes) {
      wipe(line);
      throw usage_error(std::string("login failed: the line on standard input is longer than ") + kExpected +
                        " could be; nothing was stored.");
    }
    line.push_back(c);
  }
  return line;
}

std::string read_credential(bool from_stdin) {
  // --stdin on a terminal would show the key as it is typed: read it hidden there too.
  if (from_stdin && ::isatty(STDIN_FILENO) == 0) return read_stdin_line();
  if (::isatty(STDIN_FILENO) == 0) {
    throw usage_error("login failed: standard input is not a terminal, so the key cannot be typed hidden; pipe it "
                      "in with `claude-container login --stdin`.");
  }
  auto line = read_hidden_line(STDIN_FILENO,
                               std::string("Paste ") + kExpected + " (input is hidden), then press Enter: ",
                               kMaxInputBytes);
  if (!line) throw usage_error("login cancelled: nothing was typed; nothing was stored.");
  return *line;
}

int login_command(const GlobalOptions& options, bool from_stdin) {
  Console console(options);
  std::string value = trimmed(read_credential(from_stdin));
  auto kind = integrations::credential_kind_of(value);
  if (!kind) {
    wipe(value);
    throw usage_error(std::string("login failed: what was given is not ") + kExpected +
                      "; nothing was stored. Copy the whole key or token and try again.");
  }
  const auto lookup = config::host_environment();
  const auto path = integrations::credential_store_path(lookup);
  try {
    integrations::store_credential(path, {*kind, value});
  } catch (...) {
    wipe(value);
    throw;
  }
  wipe(value);

  // The host's variables come first (DESIGN.md section 7): say so when one hides what we stored.
  std::optional<std::string> overridden_by;
  for (const char* name : {"ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"}) {
    if (auto set = lookup(name); set && !set->empty()) {
      overridden_by = name;
      break;
    }
  }
  const char* kind_word = *kind == net::CredentialKind::api_key ? "api_key" : "oauth_token";
  if (console.json()) {
    console.print_json({{"stored", true},
                        {"kind", kind_word},
                        {"path", path.string()},
                        {"overridden_by", overridden_by ? nlohmann::json(*overridden_by) : nlohmann::json(nullptr)}});
    return 0;
  }
  console.say("Stored " + integrations::describe_kind(*kind) + " in " + path.string() +
              " (mode 0600, readable only by you).");
  console.say("It is used when ANTHROPIC_API_KEY and CLAUDE_CODE_OAUTH_TOKEN are not set: the credential gateway "
              "adds it to the agent's requests outside the container (credentials.api \"gateway\"), \"shared\" passes "
              "it in; `claude-container logout` removes it.");
  if (overridden_by) {
    console.note("note: " + *overridden_by + " is set in this shell and is used before the stored credential; unset "
                 "it to use the one just stored.");
  }
  return 0;
}

int logout_command(const GlobalOptions& options) {
  Console console(options);
  const auto path = integrations::credential_store_path(config::host_environment());
  const bool removed = integrations::remove_stored_credential(path);
  if (console.json()) {
    console.print_json({{"removed", removed}, {"path", path.string()}});
    return 0;
  }
  console.say(removed ? "Removed the stored credential " + path.string() +
                            ". A container started with it keeps using it until it stops."
                      : "No credential is stored (" + path.string() + " does not exist); nothing to remove.");
  return 0;
}

}  // namespace

void add_credentials_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options) {
  auto from_stdin = std::make_shared<bool>(false);
  auto* login = app.add_subcommand(
      "login", "store an Anthropic API key or OAuth token (`claude setup-token`) for the credential gateway");
  login->add_flag("--stdin", *from_stdin, "read the key or token as one line from standard input instead of typing it");
  table[login] = [&options, from_stdin] { return login_command(options, *from_stdin); };

  auto* logout = app.add_subcommand("logout", "remove the credential `login` stored");
  table[logout] = [&options] { return logout_command(options); };
}

}  // namespace cc::cli
