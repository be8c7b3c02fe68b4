#pragma once
// The file `claude-container login` keeps the credential in (credential_store_path): one line,
// mode 0600 in a 0700 directory, both owned by the user. A link, another owner, a mode that
// lets others in or content that is not one credential is an error naming the file and the
// fix, never silently skipped or followed.
#include <filesystem>
#include <optional>

#include "net/credential_gateway.hpp"

namespace cc::integrations {

// The credential in `file`, or nothing when neither the file nor its directory exists.
std::optional<net::UpstreamCredential> read_stored_credential(const std::filesystem::path& file);

// Creates the directory (0700) when missing and replaces the file (0600) temp+rename.
void store_credential(const std::filesystem::path& file, const net::UpstreamCredential& credential);

// True when a stored credential was removed, false when there was none.
bool remove_stored_credential(const std::filesystem::path& file);

}  // namespace cc::integrations
