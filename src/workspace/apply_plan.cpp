#include "workspace/apply_plan.hpp"

namespace cc::workspace {

namespace {

bool at_or_below(const std::string& path, const std::string& prefix) {
  std::string p = prefix;
  while (!p.empty() && p.back() == '/') p.pop_back();
  return !p.empty() && (path == p || (path.size() > p.size() && path.compare(0, p.size(), p) == 0 && path[p.size()] == '/'));
}

}  // namespace

Decision decide(const Change& change, const ApplyOptions& options) {
  if (is_special(change.after.type)) {
    return {Decision::Verdict::refused, std::string("a ") + type_name(change.after.type) + " is not project content"};
  }
  switch (hold_reason(change.path)) {
    case HoldReason::git:
      if (!options.include_git) return {Decision::Verdict::held_back, "under .git; `apply --include-git` takes it"};
      break;
    case HoldReason::control: {
      bool named = false;
      for (const auto& p : options.include_paths) named = named || at_or_below(change.path, p);
      if (!named) {
        return {Decision::Verdict::held_back, "the host runs or obeys it; `apply --include <path>` takes it"};
      }
      break;
    }
    case HoldReason::none:
      break;
  }
  if (change.conflict && !options.force) {
    return {Decision::Verdict::refused, "the project's copy changed since the container's copy was taken; `apply --force` takes it anyway"};
  }
  return {Decision::Verdict::take, ""};
}

}  // namespace cc::workspace
