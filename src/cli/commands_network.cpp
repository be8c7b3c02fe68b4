// allow, deny: change the network policy's domain lists, live when the container runs.
#include <algorithm>

#include <CLI/CLI.hpp>

#include "cli/cli_context.hpp"
#include "cli/config_trust.hpp"
#include "config/approval.hpp"
#include "config/config_io.hpp"
#include "net/domain_policy.hpp"
#include "project/project_files.hpp"
#include "util/error.hpp"

namespace cc::cli {

namespace {

enum class ListChange { allow, deny };

bool remove_entry(std::vector<std::string>& list, const std::string& entry) {
  auto it = std::find(list.begin(), list.end(), entry);
  if (it == list.end()) return false;
  list.erase(it);
  return true;
}

int change_domain_list(const GlobalOptions& options, ListChange change, const std::string& pattern) {
  Console console(options);
  const char* verb = change == ListChange::allow ? "allow" : "deny";
  try {
    net::parse_domain_rule(pattern);
  } catch (const Error& error) {
    throw usage_error(std::string(verb) + " failed: " + error.what());
  }
  // The lists are added to the config this user approved, and the result is approved too:
  // the tool wrote it at the user's word.
  auto ctx = require_trusted_project(options, verb);
  auto& network = ctx.config.network;
  auto& target = change == ListChange::allow ? network.allow : network.deny;
  auto& opposite = change == ListChange::allow ? network.deny : network.allow;
  // The same pattern in both lists would be contradictory (deny wins); the newest word counts.
  bool removed_from_opposite = remove_entry(opposite, pattern);
  bool already_listed = std::find(target.begin(), target.end(), pattern) != target.end();
  if (!already_listed) target.push_back(pattern);
  // Through the manifest, so a later init or purge still knows config.json as ours.
  if (!already_listed || removed_from_opposite) {
    project::save_config_tracked(ctx.project_dir, ctx.config);
    config::record_approval(ctx.project_dir, config::serialize_config(ctx.config));
  }

  // Apply it to a running container now; otherwise it takes effect at the next start.
  // The change is saved either way; an engine that cannot run here just means "at next start".
  bool live = false;
  std::unique_ptr<engine::Engine> engine;
  try {
    engine = engine::make_engine(ctx.config);
  } catch (const Error& error) {
    console.note(std::string("note: cannot reach the engine to apply it now: ") + error.what());
  }
  if (engine && engine->status(ctx).state == engine::ContainerState::running) {
    engine->reload_network_policy(ctx);
    live = true;
  }
  if (console.json()) {
    console.print_json({{"pattern", pattern},
                        {"list", verb},
                        {"changed", !already_listed || removed_from_opposite},
                        {"live", live},
                        {"allow", network.allow},
                        {"deny", network.deny}});
  } else {
    std::string what = change == ListChange::allow ? "Allowed " : "Denied ";
    if (already_listed && !removed_from_opposite) {
      console.say(pattern + " was already in the " + verb + " list.");
    } else {
      console.say(what + pattern + (removed_from_opposite ? " (removed from the " +
                                                                std::string(change == ListChange::allow ? "deny" : "allow") +
                                                                " list)"
                                                          : "") +
                  ".");
    }
    console.say(live ? "The running container uses the new policy now."
                     : "It takes effect when the container starts.");
  }
  return 0;
}

}  // namespace

void add_network_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options) {
  auto domain = std::make_shared<std::string>();
  const char* pattern_help = "example.com (exact), *.example.com (subdomains only), optional :port";

  auto* allow = app.add_subcommand("allow", "let the container reach DOMAIN (live when running)");
  allow->add_option("DOMAIN", *domain, pattern_help)->required()->type_name("");
  table[allow] = [&options, domain] { return change_domain_list(options, ListChange::allow, *domain); };

  auto* deny = app.add_subcommand("deny", "stop the container reaching DOMAIN (live when running; deny wins)");
  deny->add_option("DOMAIN", *domain, pattern_help)->required()->type_name("");
  table[deny] = [&options, domain] { return change_domain_list(options, ListChange::deny, *domain); };
}

}  // namespace cc::cli
