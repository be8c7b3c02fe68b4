#pragma once
// Skips that CI can turn into failures. A test that cannot run because the machine lacks
// something names that feature:
//
//   CC_SKIP_UNLESS_FEATURE(env.usable(), "rootless-engine") << env.why_unusable();
//
// When CC_REQUIRED_FEATURES (space separated, set by .ci/run and passed on by tests/run.sh)
// lists the feature, the test fails instead of skipping: a machine that must exercise the
// feature and silently does not is a regression, not a skip. The message always starts with
// "[feature:NAME]" so tests/run.sh can list skips by feature and re-check the rule.
#include <gtest/gtest.h>

#include <string>

namespace cc::test {

// True when CC_REQUIRED_FEATURES names `feature`.
bool feature_required(const std::string& feature);

// "[feature:NAME]" plus, when required, why this is a failure. gtest prints the streamed
// reason on the next line.
std::string feature_skip_prefix(const std::string& feature);

}  // namespace cc::test

// Returns from the test (like GTEST_SKIP) unless `available`; streams the reason.
#define CC_SKIP_UNLESS_FEATURE(available, feature)                                                      \
  switch (0)                                                                                            \
  case 0:                                                                                               \
  default:                                                                                              \
    if (available) {                                                                                    \
    } else                                                                                              \
      return ::testing::internal::AssertHelper(::cc::test::feature_required(feature)                   \
                                                   ? ::testing::TestPartResult::kFatalFailure          \
                                                   : ::testing::TestPartResult::kSkip,                 \
                                               __FILE__, __LINE__,                                     \
                                               ::cc::test::feature_skip_prefix(feature).c_str()) =     \
                 ::testing::Message()
