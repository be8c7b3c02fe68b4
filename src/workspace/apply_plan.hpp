#pragma once
// Which changes apply takes and why it leaves the others: held back (.git, host-control
// files) until asked for, refused (FIFOs, sockets, devices; conflicts unless --force).
#include <string>
#include <vector>

#include "workspace/change_set.hpp"

namespace cc::workspace {

struct ApplyOptions {
  bool include_git = false;                // take changes under .git/ too
  std::vector<std::string> include_paths;  // take held-back control paths at or below these
  bool force = false;                      // take conflicting changes
};

struct Decision {
  enum class Verdict { take, held_back, refused };
  Verdict verdict = Verdict::take;
  std::string why;  // for held_back and refused: one short clause
};

Decision decide(const Change& change, const ApplyOptions& options);

}  // namespace cc::workspace
