#include "project/manifest.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>

#include "config/limits.hpp"
#include "project/container_layout.hpp"
#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::project {
namespace {

constexpr int kManifestSchema = 1;

std::string mode_text(mode_t mode) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%04o", static_cast<unsigned>(mode & 07777));
  return buffer;
}

}  // namespace

ManifestEntry* Manifest::find(const std::string& path) {
  for (auto& entry : files)
    if (entry.path == path) return &entry;
  return nullptr;
}

const ManifestEntry* Manifest::find(const std::string& path) const {
  return const_cast<Manifest*>(this)->find(path);
}

void Manifest::remove(const std::string& path) {
  files.erase(std::remove_if(files.begin(), files.end(), [&](const ManifestEntry& e) { return e.path == path; }),
              files.end());
}

std::string iso8601_utc(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::string serialize_manifest(const Manifest& m) {
  nlohmann::ordered_json j;
  j["schema_version"] = kManifestSchema;
  j["tool"] = "claude-container";
  j["tool_version"] = m.tool_version;
  j["created_at"] = m.created_at;
  j["updated_at"] = m.updated_at;
  j["gitignore"] = {{"block", m.gitignore_block}, {"created_file", m.gitignore_created_file}};
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const auto& e : m.files)
    files.push_back({{"path", e.path},
                     {"sha256", e.sha256},
                     {"mode", mode_text(e.mode)},
                     {"created_at", e.created_at},
                     {"updated_at", e.updated_at}});
  j["files"] = files;
  return j.dump(2) + "\n";
}

Manifest parse_manifest(const std::string& text, const std::string& source) {
  auto broken = [&](const std::string& why) {
    return usage_error(source + ": " + why +
                       "; it is claude-container's record of the files it wrote. Restore it from version "
                       "control, or delete it and run `claude-container init --force`");
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw broken("malformed JSON at byte " + std::to_string(e.byte));
  }
  try {
    if (!j.is_object()) throw broken("found " + std::string(j.type_name()) + " instead of an object");
    const int schema = j.at("schema_version").get<int>();
    if (schema != kManifestSchema)
      throw broken("schema_version is " + std::to_string(schema) + ", this claude-container reads 1");
    Manifest m;
    m.tool_version = j.at("tool_version").get<std::string>();
    m.created_at = j.at("created_at").get<std::string>();
    m.updated_at = j.at("updated_at").get<std::string>();
    m.gitignore_block = j.at("gitignore").at("block").get<bool>();
    m.gitignore_created_file = j.at("gitignore").at("created_file").get<bool>();
    auto is_sha256 = [](const std::string& text) {
      return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
    };
    auto is_mode = [](const std::string& text) {
      return text.size() == 4 && text[0] == '0' && text.find_first_not_of("01234567") == std::string::npos;
    };
    if (j.at("files").size() > config::kMaxManifestEntries)
      throw broken("lists more than " + std::to_string(config::kMaxManifestEntries) + " files");
    for (const auto& f : j.at("files")) {
      ManifestEntry e;
      e.path = f.at("path").get<std::string>();
      e.sha256 = f.at("sha256").get<std::string>();
      const std::string mode_string = f.at("mode").get<std::string>();
      e.created_at = f.at("created_at").get<std::string>();
      e.updated_at = f.at("updated_at").get<std::string>();
      // Clean and relative; whether it lies below a link is checked beneath the root at use.
      const bool inside = e.path.size() <= config::kMaxStringBytes && beneath::is_clean_relative(e.path);
      if (!inside)
        throw broken("lists \"" + e.path.substr(0, 200) + "\", which is not a path inside the project");
      if (!is_sha256(e.sha256)) throw broken("has a malformed sha256 for \"" + e.path + "\"");
      if (!is_mode(mode_string)) throw broken("has a malformed mode for \"" + e.path + "\"");
      e.mode = static_cast<mode_t>(std::stoul(mode_string, nullptr, 8));
      m.files.push_back(std::move(e));
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw broken(std::string("is missing a key or has one of the wrong type (") + e.what() + ")");
  }
}

std::optional<Manifest> load_manifest(const std::filesystem::path& project_dir) {
  const auto path = project_dir / kManifestFile;
  std::optional<std::string> text;
  try {
    UniqueFd root = beneath::open_root(project_dir);
    text = beneath::read_file(root.get(), kManifestFile, config::kMaxManifestBytes);
  } catch (const Error& e) {
    throw usage_error(path.string() + " cannot be read: " + e.what() +
                      ". Restore it from version control, or delete it and run `claude-container init --force`");
  }
  if (!text) return std::nullopt;
  return parse_manifest(*text, path.string());
}

void save_manifest(const std::filesystem::path& project_dir, const Manifest& manifest) {
  UniqueFd root = beneath::open_root(project_dir);
  beneath::write_file(root.get(), kManifestFile, serialize_manifest(manifest), 0644);
}

}  // namespace cc::project
