#include "workspace/volume_changes.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/hex.hpp"
#include "workspace/file_tree.hpp"

namespace cc::workspace {

namespace fs = std::filesystem;

namespace {

using Tree = std::map<std::string, FileState>;

std::string join(const std::string& rel, const std::string& name) { return rel.empty() ? name : rel + "/" + name; }

void collect(int dir_fd, const std::string& rel, bool keep, Tree& out) {
  for (const auto& name : list_directory(dir_fd)) {
    std::string path = join(rel, name);
    FileState state = read_state(dir_fd, name, false, keep);
    if (state.type == FileType::none) continue;
    bool dir = state.type == FileType::directory;
    out[path] = std::move(state);
    if (dir) {
      UniqueFd sub = open_directory(dir_fd, name);
      if (sub) collect(sub.get(), path, keep, out);
    }
  }
}

Tree collect_tree(const fs::path& root, bool keep) {
  Tree tree;
  UniqueFd fd = beneath::open_root(root);
  collect(fd.get(), "", keep, tree);
  return tree;
}

// "x" first: an empty name or target is never an empty field.
std::string field_hex(const std::string& bytes) { return "x" + to_hex(bytes); }
std::optional<std::string> field_unhex(const std::string& text) {
  if (text.empty() || text[0] != 'x') return std::nullopt;
  return from_hex(std::string_view(text).substr(1));
}

FileType type_from(int v) { return static_cast<FileType>(v); }

void write_manifest(const fs::path& manifest, const Tree& tree) {
  std::string text = "cc-seed-base 1\n";
  for (const auto& [path, s] : tree) {
    text += field_hex(path) + " " + std::to_string(static_cast<int>(s.type)) + " " + std::to_string(s.mode) + " " +
            (s.sha256.empty() ? "-" : s.sha256) + " " + field_hex(s.link_target) + "\n";
  }
  write_file_atomic(manifest, text, 0600);
}

std::optional<Tree> read_manifest(const fs::path& manifest) {
  auto text = read_file_if_exists(manifest);
  if (!text) return std::nullopt;
  Tree tree;
  std::istringstream lines(*text);
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string path, sha, target;
    int type = 0;
    unsigned mode = 0;
    if (!(fields >> path >> type >> mode >> sha >> target)) continue;
    FileState s;
    s.type = type_from(type);
    s.mode = static_cast<mode_t>(mode);
    if (sha != "-") s.sha256 = sha;
    auto name = field_unhex(path), link_target = field_unhex(target);
    if (!name || !link_target) continue;  // damaged: that path counts as not seeded
    s.link_target = std::move(*link_target);
    tree[std::move(*name)] = s;
  }
  return tree;
}

}  // namespace

void record_seed_base(const fs::path& volume, const fs::path& manifest) {
  write_manifest(manifest, collect_tree(volume, false));
}

std::vector<Change> volume_changes(const fs::path& project, const fs::path& volume, const fs::path& manifest,
                                   bool keep_content) {
  Tree container = collect_tree(volume, keep_content);
  Tree host = collect_tree(project, keep_content);
  std::optional<Tree> recorded = read_manifest(manifest);
  const Tree& base = recorded ? *recorded : host;
  auto state_in = [](const Tree& tree, const std::string& path) {
    auto it = tree.find(path);
    return it == tree.end() ? FileState{} : it->second;
  };
  std::vector<Change> out;
  auto consider = [&](const std::string& path) {
    FileState was = state_in(base, path);
    FileState after = state_in(container, path);
    if (same_state(was, after)) return;  // the container left it as seeded
    FileState before = state_in(host, path);
    if (same_state(before, after)) return;  // the project has it like this already
    Change c;
    c.path = path;
    c.before = before;
    c.after = after;
    c.kind = before.type == FileType::none ? Change::Kind::added
             : after.type == FileType::none ? Change::Kind::deleted
                                            : Change::Kind::modified;
    c.conflict = !same_state(before, was);
    out.push_back(std::move(c));
  };
  for (const auto& [path, _] : container) consider(path);
  for (const auto& [path, _] : base) {
    if (!container.count(path)) consider(path);
  }
  sort_changes(out);
  return out;
}

void advance_seed_base(const fs::path& manifest, const std::vector<const Change*>& applied) {
  auto tree = read_manifest(manifest);
  if (!tree) return;
  for (const Change* c : applied) {
    if (c->after.type == FileType::none) {
      tree->erase(c->path);
    } else {
      // The container's side as it is (setuid bit and all), so the change is not shown again.
      FileState s = c->after;
      s.content.reset();
      (*tree)[c->path] = s;
    }
  }
  write_manifest(manifest, *tree);
}

void reseed_volume(const fs::path& project, const fs::path& volume, const fs::path& manifest) {
  fs::path partial = volume.parent_path() / "workspace.reseed";
  remove_tree(partial);
  copy_tree(project, partial);
  fs::path old = volume.parent_path() / "workspace.discarded";
  remove_tree(old);
  std::error_code ec;
  fs::rename(volume, old, ec);
  if (ec) throw Error("cannot replace the workspace volume " + volume.string() + ": " + ec.message());
  fs::rename(partial, volume, ec);
  if (ec) throw Error("cannot replace the workspace volume " + volume.string() + ": " + ec.message());
  record_seed_base(volume, manifest);
  remove_tree(old);
}

}  // namespace cc::workspace
