#include "workspace/review.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "util/error.hpp"
#include "util/hex.hpp"
#include "util/unique_fd.hpp"
#include "workspace/quoted_name.hpp"

extern char** environ;

namespace cc::workspace {

namespace {

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode));
  return buf;
}

// The notes after a name: type, link target, mode, binary, what apply drops.
std::string details(const Change& c) {
  std::vector<std::string> notes;
  const FileState& a = c.before;
  const FileState& b = c.after;
  if (a.type != FileType::none && b.type != FileType::none && a.type != b.type) {
    notes.push_back(std::string(type_name(a.type)) + " -> " + type_name(b.type));
  }
  const FileState& shown = b.type != FileType::none ? b : a;
  if (shown.type != FileType::regular && shown.type != FileType::symlink &&
      !(a.type != FileType::none && b.type != FileType::none && a.type != b.type)) {
    notes.push_back(type_name(shown.type));
  }
  if (is_special(b.type)) notes.push_back("never applied");
  if (a.type != FileType::none && b.type != FileType::none && a.mode != b.mode && !is_special(b.type)) {
    notes.push_back("mode " + octal_mode(a.mode) + " -> " + octal_mode(b.mode));
  } else if (a.type == FileType::none && b.type == FileType::regular && (b.mode & 0111) != 0) {
    notes.push_back("mode " + octal_mode(b.mode));
  }
  if ((b.type == FileType::regular || b.type == FileType::directory) && (b.mode & 07000) != 0) {
    notes.push_back("setuid/setgid/sticky dropped, applied as " + octal_mode(applied_mode(b.mode)));
  }
  if (b.capabilities) notes.push_back("file capabilities dropped");
  if (b.type == FileType::regular && b.binary) {
    notes.push_back("binary, " + std::to_string(b.size) + " bytes, sha256 " + b.sha256.substr(0, 16));
  }
  if (c.conflict) notes.push_back("CONFLICT: the project's copy changed too");
  std::string out;
  for (const auto& n : notes) out += (out.empty() ? "" : "; ") + n;
  return out;
}

std::string link_suffix(const Change& c) {
  const FileState& shown = c.after.type != FileType::none ? c.after : c.before;
  if (shown.type != FileType::symlink) return "";
  return " -> " + quote_path(shown.link_target);
}

// Runs `diff -u` (diffutils) over two in-memory texts; status 0 and 1 are both fine.
UniqueFd memory_file(const std::optional<std::string>& text) {
  UniqueFd fd(::memfd_create("cc-review", 0));  // no CLOEXEC: diff reads it as /dev/fd/N
  if (!fd) throw_errno("memfd_create");
  if (text) {
    size_t done = 0;
    while (done < text->size()) {
      ssize_t n = ::write(fd.get(), text->data() + done, text->size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno("cannot prepare the review");
      done += static_cast<size_t>(n);
    }
  }
  ::lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

std::string unified_diff(const std::string& label_a, const std::optional<std::string>& a, const std::string& label_b,
                         const std::optional<std::string>& b) {
  UniqueFd fa = memory_file(a), fb = memory_file(b);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd rd(fds[0]), wr(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, wr.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, fa.get(), 3);
  posix_spawn_file_actions_adddup2(&actions, fb.get(), 4);
  std::vector<std::string> args = {"diff", "-u", "--label", label_a, "--label", label_b, "/dev/fd/3", "/dev/fd/4"};
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid;
  int rc = ::posix_spawnp(&pid, "diff", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw Error(errno_message("cannot run diff (install diffutils)", rc));
  wr.reset();
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(rd.get(), buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) throw Error("diff failed on " + label_a + ".");
  return out;
}

std::string describe_file(const FileState& s) {
  return std::to_string(s.size) + " bytes, sha256 " + s.sha256;
}

}  // namespace

std::string summary_text(const std::vector<Change>& changes, const ApplyOptions& options) {
  std::string out;
  for (const auto& c : changes) {
    std::string line = "  " + std::string(kind_name(c.kind));
    line.resize(12, ' ');
    line += quote_path(c.path) + link_suffix(c);
    std::string d = details(c);
    if (!d.empty()) line += "  (" + d + ")";
    Decision decision = decide(c, options);
    if (decision.verdict == Decision::Verdict::held_back) line += "  [held back: " + decision.why + "]";
    if (decision.verdict == Decision::Verdict::refused) line += "  [refused: " + decision.why + "]";
    out += line + "\n";
  }
  return out;
}

std::string names_text(const std::vector<Change>& changes) {
  std::string out;
  for (const auto& c : changes) out += std::string(kind_name(c.kind)) + "\t" + quote_path(c.path) + "\n";
  return out;
}

std::string diff_text(const std::vector<Change>& changes) {
  std::string out;
  for (const auto& c : changes) {
    const FileState& a = c.before;
    const FileState& b = c.after;
    std::string name = quote_path(c.path);
    bool a_text = a.type == FileType::regular && a.content.has_value();
    bool b_text = b.type == FileType::regular && b.content.has_value();
    bool a_file = a.type == FileType::none || a_text;
    bool b_file = b.type == FileType::none || b_text;
    if ((a_text || b_text) && a_file && b_file) {
      if (a.type == b.type && a.sha256 == b.sha256) {
        out += "mode change " + octal_mode(a.mode) + " -> " + octal_mode(b.mode) + ": " + name + "\n";
        continue;
      }
      out += visible_text(unified_diff(a.type == FileType::none ? "/dev/null" : "a/" + name, a.content,
                                       b.type == FileType::none ? "/dev/null" : "b/" + name, b.content));
      continue;
    }
    // Links, binary and large files, directories, special files: in words.
    auto side = [&](const FileState& s) -> std::string {
      switch (s.type) {
        case FileType::none: return "nothing";
        case FileType::regular: return std::string(s.binary ? "binary file" : "file") + " (" + describe_file(s) + ")";
        case FileType::symlink: return "symlink -> " + quote_path(s.link_target);
        case FileType::directory: return "directory";
        default: return type_name(s.type);
      }
    };
    if (a.type == FileType::directory && b.type == FileType::directory) continue;  // mode: in the summary
    out += "--- " + name + ": " + side(a) + "\n+++ " + name + ": " + side(b) + "\n";
  }
  return out;
}

std::string json_text(const std::string& text) { return valid_utf8(text) ? text : utf8_or_replacement(text); }

nlohmann::json changes_json(const std::vector<Change>& changes, const ApplyOptions& options) {
  auto side = [](const FileState& s) -> nlohmann::json {
    if (s.type == FileType::none) return nullptr;
    nlohmann::json j = {{"type", type_name(s.type)}, {"mode", octal_mode(s.mode)}};
    if (s.type == FileType::regular) {
      j["size"] = s.size;
      j["sha256"] = s.sha256;
      j["binary"] = s.binary;
      if (s.capabilities) j["capabilities"] = true;
    }
    if (s.type == FileType::symlink) {
      j["target"] = json_text(s.link_target);
    }
    return j;
  };
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : changes) {
    Decision d = decide(c, options);
    nlohmann::json j = {{"kind", kind_name(c.kind)},
                        {"path", json_text(c.path)},
                        {"before", side(c.before)},
                        {"after", side(c.after)},
                        {"conflict", c.conflict},
                        {"apply", d.verdict == Decision::Verdict::take        ? "take"
                                  : d.verdict == Decision::Verdict::held_back ? "held back"
                                                                              : "refused"}};
    if (!valid_utf8(c.path)) j["path_hex"] = to_hex(c.path);
    if (c.after.type == FileType::symlink && !valid_utf8(c.after.link_target)) j["after"]["target_hex"] = to_hex(c.after.link_target);
    if (c.before.type == FileType::symlink && !valid_utf8(c.before.link_target)) j["before"]["target_hex"] = to_hex(c.before.link_target);
    if (!d.why.empty()) j["why"] = d.why;
    list.push_back(std::move(j));
  }
  return list;
}

}  // namespace cc::workspace
