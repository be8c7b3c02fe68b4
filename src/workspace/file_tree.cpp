#include "workspace/file_tree.hpp"

#include <sys/stat.h>

#include <system_error>

#include "util/error.hpp"

namespace cc::workspace {

namespace fs = std::filesystem;

namespace {

void copy_entry(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  auto status = fs::symlink_status(from, ec);
  if (ec) throw Error("cannot read " + from.string() + ": " + ec.message());
  switch (status.type()) {
    case fs::file_type::directory: {
      fs::create_directory(to, ec);
      if (ec) throw Error("cannot create " + to.string() + ": " + ec.message());
      for (const auto& entry : fs::directory_iterator(from, ec)) copy_entry(entry.path(), to / entry.path().filename());
      if (ec) throw Error("cannot list " + from.string() + ": " + ec.message());
      fs::permissions(to, status.permissions(), ec);
      break;
    }
    case fs::file_type::regular:
      fs::copy_file(from, to, fs::copy_options::none, ec);
      if (ec) throw Error("cannot copy " + from.string() + " to " + to.string() + ": " + ec.message());
      break;
    case fs::file_type::symlink: {
      auto target = fs::read_symlink(from, ec);
      if (!ec) fs::create_symlink(target, to, ec);
      if (ec) throw Error("cannot copy the symlink " + from.string() + ": " + ec.message());
      break;
    }
    default:
      break;  // sockets, fifos, devices: not project content
  }
}

}  // namespace

void copy_tree(const fs::path& source, const fs::path& destination) {
  std::error_code ec;
  if (!fs::is_directory(source, ec)) throw Error("cannot copy " + source.string() + ": not a directory.");
  copy_entry(source, destination);
}

void remove_tree(const fs::path& path) {
  std::error_code ec;
  auto status = fs::symlink_status(path, ec);
  if (ec || status.type() == fs::file_type::not_found) return;
  if (status.type() == fs::file_type::directory) {
    // Directories made read-only (or 000, like overlayfs' work/work) must be opened up first.
    if ((status.permissions() & fs::perms::owner_all) != fs::perms::owner_all) {
      ::chmod(path.c_str(), static_cast<mode_t>(status.permissions() | fs::perms::owner_all));
    }
    for (const auto& entry : fs::directory_iterator(path, ec)) remove_tree(entry.path());
  }
  fs::remove(path, ec);
  if (ec) throw Error("cannot remove " + path.string() + ": " + ec.message());
}

}  // namespace cc::workspace
