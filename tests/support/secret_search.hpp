#pragma once
// Searches a running container for a secret: every place the sandbox can read it from
// (each process's environ and cmdline, its own environment, every file outside the host's
// read-only system directories, the system files changed since `since`, pid 1's memory).
// Runs with python3 inside; the secret goes in on stdin, so no command line holds it.
#include <ctime>
#include <string>
#include <vector>

#include "support/engine_env.hpp"

namespace cc::test {

struct SecretSearch {
  bool completed = false;             // the search ran to its end
  bool pid1_memory_readable = false;  // /proc/1/mem could be read (and was searched)
  std::vector<std::string> leaks;     // "LEAK <where>" lines
  std::string output;                 // everything the search printed, for failure messages
};

// `marker` must be longer than 16 bytes; `since`: before the secret existed anywhere.
SecretSearch search_container_for_secret(const EngineEnv& env, const std::string& marker, std::time_t since);

}  // namespace cc::test
