#pragma once
// Shape checks for strings from config files, written as plain loops. std::regex is not used
// on such input: libstdc++'s matcher recurses once per character a repetition consumes, so a
// 50 KB value overflowed the stack and crashed every command (issue 7).
#include <string_view>

namespace cc::config::shapes {

bool is_container_name(std::string_view text);   // ^[a-z0-9][a-z0-9_.-]{0,62}$
bool is_env_name(std::string_view text);         // ^[A-Za-z_][A-Za-z0-9_]*$
bool is_https_url(std::string_view text);        // ^https://[^/\s?#@]+(/\S*)?$
bool is_email(std::string_view text);            // ^[^\s@]+@[^\s@]+$
// ^(\*\.)?(label(\.label)*\.?|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$ with label = [A-Za-z0-9_-]+
bool is_domain_rule(std::string_view text);
// Well-known token prefixes (sk-ant-, ghp_, github_pat_, glpat-, xox?-, AKIA..., PEM keys).
bool contains_token_shape(std::string_view text);
// scheme://user:password@ anywhere in the text.
bool contains_url_password(std::string_view text);

}  // namespace cc::config::shapes
