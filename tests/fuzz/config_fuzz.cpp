// libFuzzer entry point for the config reader. Any input must end in a Config or a cc::Error:
// a crash, a sanitizer report, another exception type or a round trip that changes meaning is
// a bug. Run it with tests/fuzz/run_config_fuzz.sh SECONDS.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/config_changes.hpp"
#include "config/config_io.hpp"
#include "config/container_env.hpp"
#include "config/text_shapes.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  using namespace cc::config;

  // The hand-written matchers see every input directly as well.
  shapes::contains_token_shape(text);
  shapes::contains_url_password(text);
  shapes::is_domain_rule(text);
  shapes::is_https_url(text);
  shapes::is_email(text);
  parse_memory(text);
  try {
    parse_env_file(text, "fuzz.env");
  } catch (const cc::Error&) {
  }

  Config config;
  try {
    config = parse_config(text, "fuzz/config.json");
  } catch (const cc::Error&) {
    return 0;  // refused with a sentence: fine
  }
  // Whatever was accepted writes back to a file that reads back to the same thing.
  const std::string written = serialize_config(config);
  try {
    if (serialize_config(parse_config(written, "fuzz/rewritten.json")) != written) std::abort();
  } catch (const cc::Error&) {
    std::abort();  // we wrote a config we refuse to read
  }
  describe_config_changes(std::nullopt, config, "/project");
  describe_config_changes(preset(Mode::playground, "p"), config, "/project");
  env_passes_api_key(config);
  env_secret_references(config);
  try {
    // Nothing is set: every reference is a missing variable, which must be a cc::Error.
    Config no_files = config;
    no_files.env_file.clear();  // the fuzzer does not read host files
    container_env(no_files, "/nonexistent-project",
                  [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  } catch (const cc::Error&) {
  }
  return 0;
}
