#include "cli/config_trust.hpp"

#include <unistd.h>

#include <algorithm>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "config/approval.hpp"
#include "config/config_changes.hpp"
#include "config/config_io.hpp"
#include "config/config_paths.hpp"
#include "config/container_env.hpp"
#include "config/limits.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::cli {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kChangesInOneSentence = 8;

std::string joined(const std::vector<std::string>& lines, std::size_t at_most) {
  std::string out;
  for (std::size_t i = 0; i < lines.size() && i < at_most; ++i) out += (out.empty() ? "" : "; ") + lines[i];
  if (lines.size() > at_most) out += "; and " + std::to_string(lines.size() - at_most) + " more";
  return out;
}

std::string headline(const TrustReview& review) {
  const std::string file = (review.project_dir / config::kConfigFile).string();
  return review.ever_approved ? file + " changed since you approved it" : file + " has not been approved by you yet";
}

// y/yes on the terminal approves; anything else (or end of input) does not.
bool ask_on_terminal(const TrustReview& review, const std::string& command) {
  std::cerr << headline(review) << ":\n";
  for (const auto& line : review.changes) std::cerr << "  - " << line << "\n";
  std::cerr << "Approve this configuration and " << command << "? [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes" || answer == "YES" || answer == "Yes";
}

// What the approved config makes the host read, checked before anything is created.
void check_host_reads(const engine::ProjectContext& ctx, const std::string& command) {
  try {
    config::container_env(ctx.config, ctx.project_dir, config::host_environment());
    if (!ctx.config.credentials.ca_file.empty() &&
        !config::read_config_path(ctx.project_dir, "credentials.ca_file", ctx.config.credentials.ca_file,
                                  config::kMaxCaFileBytes))
      throw usage_error("credentials.ca_file \"" + ctx.config.credentials.ca_file.substr(0, 200) +
                        "\" does not exist; create it or clear it in .claude-container/config.json");
    // The Containerfile stays inside the project; a link there is never followed.
    config::read_containerfile(ctx.project_dir, ctx.config);
  } catch (const Error& e) {
    throw Error(command + " refused: " + e.what() + ".", e.code() == ExitCode::failure ? ExitCode::usage : e.code());
  }
}

// The Containerfile digest of the approval just checked (or recorded), handed to the engine,
// which builds only content with this digest.
std::string approved_containerfile(const fs::path& project_dir) {
  const auto approval = config::load_approval(project_dir);
  return approval ? approval->containerfile_sha256 : "";
}

}  // namespace

TrustReview review_config(const fs::path& project_dir) {
  TrustReview review;
  review.project_dir = project_dir;
  review.current = config::read_config(project_dir);
  const auto approval = config::load_approval(project_dir);
  review.ever_approved = approval.has_value();
  review.approved = approval && config::is_approved(project_dir, review.current.text);
  if (review.approved) return review;
  std::optional<config::Config> before;
  if (approval) {
    try {
      before = config::parse_config(approval->config_text, "the approved copy");
    } catch (const Error&) {
      // An approved copy this version cannot read: describe the current config as new.
    }
  }
  review.changes = config::describe_config_changes(before, review.current.config, project_dir);
  // The config may be as approved while the CA file it names is not: say so, since a CA the
  // repository swapped in can read the API key on its way upstream.
  const std::string& ca_file = review.current.config.credentials.ca_file;
  if (approval && !ca_file.empty() &&
      approval->ca_file_sha256 != config::ca_file_digest(project_dir, review.current.text)) {
    std::string line = "credentials.ca_file: the content of " + nlohmann::json(ca_file).dump(-1, ' ', false,
                           nlohmann::json::error_handler_t::replace) +
                       " changed since you approved it (the certificate authorities in it are trusted to receive "
                       "your API key)";
    if (before && config::serialize_config(*before) == config::serialize_config(review.current.config))
      review.changes.clear();  // not "only formatting changed": the CA file did
    review.changes.push_back(std::move(line));
  }
  // Likewise the Containerfile an image engine builds: a record from before it was covered has
  // no digest of it, so it was never shown to the user.
  if (approval && config::builds_image(review.current.config) &&
      approval->containerfile_sha256 != config::containerfile_digest(project_dir, review.current.text)) {
    std::string line = "image.containerfile: the content of " +
                       nlohmann::json(review.current.config.image.containerfile)
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                       (approval->containerfile_sha256.empty() ? " has not been approved by you yet"
                                                               : " changed since you approved it") +
                       "; its RUN steps run on this machine when the image is built";
    if (before && config::serialize_config(*before) == config::serialize_config(review.current.config))
      review.changes.erase(std::remove_if(review.changes.begin(), review.changes.end(),
                                          [](const std::string& c) { return c.rfind("credentials.ca_file", 0) != 0; }),
                           review.changes.end());
    review.changes.push_back(std::move(line));
  }
  return review;
}

engine::ProjectContext require_trusted_project(const GlobalOptions& options, const std::string& command) {
  auto root = discover_project_root(options);
  if (!root) throw not_set_up_error(not_set_up_sentence(options));
  TrustReview review = review_config(*root);
  if (!review.approved) {
    const bool terminal = is_terminal(STDIN_FILENO) && is_terminal(STDERR_FILENO) && !options.json;
    if (!terminal)
      throw usage_error(command + " refused: " + headline(review) + " (" + joined(review.changes, kChangesInOneSentence) +
                        "). Review it, then run `claude-container trust` to approve it.");
    if (!ask_on_terminal(review, command))
      throw usage_error(command + " cancelled: the configuration was not approved and nothing was started. Run "
                        "`claude-container trust` once you have reviewed it.");
    config::record_approval(*root, review.current.text);
  }
  engine::ProjectContext ctx{*root, std::move(review.current.config), approved_containerfile(*root)};
  check_host_reads(ctx, command);
  return ctx;
}

std::optional<engine::ProjectContext> find_managed_project(const GlobalOptions& options, const Console& console) {
  auto root = discover_project_root(options);
  if (!root) return std::nullopt;
  const auto approval = config::load_approval(*root);
  std::optional<config::LoadedConfig> current;
  std::optional<Error> problem;
  try {
    current = config::read_config(*root);
  } catch (const Error& e) {
    if (!approval || e.code() == ExitCode::not_set_up) throw;
    problem = e;
  }
  if (current && (!approval || approval->config_sha256 == sha256_hex(current->text)))
    return engine::ProjectContext{*root, std::move(current->config), approval ? approval->containerfile_sha256 : ""};
  // The project's file is not what this user approved (changed, maybe by the container, or
  // broken): manage the container the approved config describes.
  engine::ProjectContext ctx{*root,
                             config::parse_config(approval->config_text, "the approved copy of " +
                                                                             (*root / config::kConfigFile).string()),
                             approval->containerfile_sha256};
  console.note("note: using the configuration you approved on " + approval->approved_at + "; " +
               (*root / config::kConfigFile).string() +
               (problem ? " cannot be used (" + std::string(problem->what()).substr(0, 300) + ")"
                        : " changed since then (run `claude-container trust` to review and approve it)") +
               ".");
  return ctx;
}

namespace {

int trust_command(const GlobalOptions& options) {
  Console console(options);
  auto root = discover_project_root(options);
  if (!root) throw not_set_up_error(not_set_up_sentence(options));
  TrustReview review = review_config(*root);
  if (!review.approved) config::record_approval(*root, review.current.text);
  if (console.json()) {
    console.print_json({{"project", root->string()},
                        {"already_approved", review.approved},
                        {"changes", review.changes},
                        {"config_sha256", sha256_hex(review.current.text)}});
    return 0;
  }
  if (review.approved) {
    console.say((*root / config::kConfigFile).string() + " is already approved; nothing changed since.");
    return 0;
  }
  console.say(headline(review) + ":");
  for (const auto& line : review.changes) console.say("  - " + line);
  console.say("Approved. start, shell, claude, run and exec use this configuration now.");
  return 0;
}

}  // namespace

void add_trust_command(CLI::App& app, CommandTable& table, const GlobalOptions& options) {
  auto* trust = app.add_subcommand(
      "trust", "show what the project's config changes and approve it for this user (start/exec need approval)");
  table[trust] = [&options] { return trust_command(options); };
}

}  // namespace cc::cli
