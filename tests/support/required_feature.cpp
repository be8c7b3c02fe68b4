#include "support/required_feature.hpp"

#include <cstdlib>
#include <sstream>

namespace cc::test {

bool feature_required(const std::string& feature) {
  const char* list = std::getenv("CC_REQUIRED_FEATURES");
  if (list == nullptr) return false;
  std::istringstream words(list);
  for (std::string word; words >> word;)
    if (word == feature) return true;
  return false;
}

std::string feature_skip_prefix(const std::string& feature) {
  std::string prefix = "[feature:" + feature + "]";
  if (feature_required(feature)) prefix += " required by CC_REQUIRED_FEATURES, but unavailable here:";
  return prefix;
}

}  // namespace cc::test
