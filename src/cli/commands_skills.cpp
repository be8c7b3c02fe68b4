// sync-skills: share the host's Claude Code skills, commands, agents and CLAUDE.md with the
// running container again (integrations/skills.hpp): mounted afresh where the engine mounts,
// copied where it copies.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/cli_context.hpp"
#include "config/container_env.hpp"
#include "integrations/skills.hpp"
#include "integrations/skills_archive.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

namespace cc::cli {

namespace {

// Points our stdin at a file for the duration of an exec, then puts the terminal back.
class StdinRedirect {
 public:
  explicit StdinRedirect(int fd) : saved_(::dup(STDIN_FILENO)) {
    if (::dup2(fd, STDIN_FILENO) < 0) throw_errno("sync-skills failed: redirecting stdin");
  }
  ~StdinRedirect() {
    if (saved_.get() >= 0) ::dup2(saved_.get(), STDIN_FILENO);
  }
  StdinRedirect(const StdinRedirect&) = delete;
  StdinRedirect& operator=(const StdinRedirect&) = delete;

 private:
  UniqueFd saved_;
};

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

std::vector<std::string> item_names(const std::vector<integrations::SkillItem>& items) {
  std::vector<std::string> names;
  for (const auto& item : items) names.push_back(item.name);
  return names;
}

int sync_skills_command(const GlobalOptions& options) {
  Console console(options);
  // It may start the container (and runs tar inside on engines that copy): only an approved config.
  auto session = open_trusted_session(options, "sync-skills");
  auto dir = integrations::host_claude_dir(config::host_environment());
  if (!dir) {
    throw Error("sync-skills failed: neither CLAUDE_CONFIG_DIR nor HOME is set, so the host's skills cannot be found. Set HOME.");
  }
  std::vector<std::string> notes;
  auto items = integrations::shared_skill_items(*dir, &notes);
  auto skills = integrations::skill_names(items);
  if (items.empty()) {
    if (console.json()) {
      console.print_json(nlohmann::json{{"name", session.ctx.config.name}, {"method", nullptr}, {"shared", nlohmann::json::array()},
                          {"skills", skills}, {"source", dir->string()}, {"notes", notes}});
    } else {
      for (const auto& note : notes) console.note(note);
      console.say("Nothing to share: " + dir->string() + " has no skills, commands, agents or CLAUDE.md.");
    }
    return 0;
  }
  ensure_running(session, console);
  std::string method;
  std::vector<std::string> shared;
  std::size_t skipped_links = 0;
  if (auto refreshed = session.engine->refresh_skills(session.ctx, items)) {
    method = "mount";
    shared = std::move(refreshed->mounted);
    for (auto& note : refreshed->notes) notes.push_back(std::move(note));
  } else {
    method = "copy";
    auto archive = integrations::archive_skill_items(items);
    skipped_links = archive.report.skipped.size();
    for (auto& line : archive.report.skipped) notes.push_back("skills: not copied: " + line);
    engine::ExecRequest request;
    request.argv = {"sh", "-c", integrations::kSkillsUnpackScript};
    int status = 0;
    {
      StdinRedirect redirect(archive.fd.get());
      status = session.engine->exec(session.ctx, request);
    }
    if (status != 0) {
      throw Error("sync-skills failed: unpacking the copy inside the container exited with status " + std::to_string(status) +
                  ". Check that tar exists inside (`claude-container exec -- tar --version`).");
    }
    shared = item_names(items);
  }
  if (console.json()) {
    console.print_json(nlohmann::json{{"name", session.ctx.config.name},
                        {"method", method},
                        {"shared", shared},
                        {"skills", skills},
                        {"source", dir->string()},
                        {"skipped", skipped_links},
                        {"notes", notes}});
    return shared.empty() ? 1 : 0;
  }
  for (const auto& note : notes) console.note(note);
  if (shared.empty()) throw Error("sync-skills failed: nothing could be shared (see the notes above).");
  std::string what = joined(shared) + (skills.empty() ? "" : " (skills: " + joined(skills) + ")");
  if (method == "mount") {
    console.say("Mounted read-only again into /root/.claude of " + session.ctx.config.name + ": " + what + ", from " +
                dir->string() + ". Changes inside these directories show live; run sync-skills after creating a new "
                "one or replacing CLAUDE.md.");
  } else {
    console.say("Copied into ~/.claude of " + session.ctx.config.name + ": " + what + ", from " + dir->string() + ".");
  }
  return 0;
}

}  // namespace

void add_skills_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options) {
  auto* sync = app.add_subcommand("sync-skills",
                                  "share the host's Claude skills, commands, agents and CLAUDE.md with the container again");
  table[sync] = [&options] { return sync_skills_command(options); };
}

}  // namespace cc::cli
