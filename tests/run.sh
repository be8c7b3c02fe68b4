#!/usr/bin/env bash
# The one test command (README, .ci/run). Builds and runs, in this order:
#   suite  every test (unit, engine, security, e2e) built with -Wall -Wextra -Werror, via ctest;
#          as root the engine is tested both as root and as the unprivileged user cc-tester
#   asan   an ASan+UBSan build: unit tests, CLI (e2e) tests, the proxy's hostile-input tests
#   tsan   a TSan build: the proxy tests (unit Proxy*, security ProxyHostile), which drive the
#          proxy's event loop together with its resolver threads (AsyncResolver), and the
#          credential gateway's tests (unit Gateway*: a thread per connection, shared audit/stats)
#   tidy   clang-tidy (checks in .clang-tidy) on the C++ files changed since main's merge-base
#   bench  every benchmark in bench/ once, in a short mode (nothing timed is checked)
#   fuzz   tests/fuzz/run_config_fuzz.sh for 60 seconds, when that script exists
# then checks that the run left nothing in its temporary directory (or, with CC_STRICT_TMP=1,
# anywhere in /tmp) and no process behind, and prints ONE line: "N passed, N failed, N skipped".
#
# It fails on any failed test or check, any sanitizer report, and any skip of a feature named in
# CC_REQUIRED_FEATURES (space separated; .ci/run sets it). Skips are listed with their reason.
# Knobs: BUILD_DIR (default ./build; sanitizer builds go to BUILD_DIR-asan, BUILD_DIR-tsan),
# JOBS (default nproc), CC_STAGES (default "suite asan tsan tidy bench fuzz"); arguments are
# passed to the suite's ctest (e.g. -R unit.).
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-"$here/build"}
jobs=${JOBS:-$(nproc)}
stages=" ${CC_STAGES:-suite asan tsan tidy bench fuzz} "
export CC_REQUIRED_FEATURES=${CC_REQUIRED_FEATURES:-}
started=$(date +%s)

want() { [[ "$stages" == *" $1 "* ]]; }
say() { printf '\n== %s\n' "$*"; }

if [ "$(id -u)" = 0 ]; then
  id cc-tester >/dev/null 2>&1 || useradd --create-home --shell /bin/bash cc-tester
  # The unprivileged tests run the built binary as cc-tester: if the checkout lies below a
  # directory that user cannot enter, build somewhere it can.
  mkdir -p "$build"
  if ! runuser -u cc-tester -- test -x "$build"; then
    build=/var/tmp/claude-container-build
    echo "tests/run.sh: $here is not reachable by cc-tester; building in $build"
  fi
fi
mkdir -p "$build"
results="$build/test-results"
rm -rf "$results"
mkdir -p "$results/sanitizers"
chmod 1777 "$results/sanitizers"
checks="$results/checks.tsv"  # stage, name, passed|failed|skipped, detail: for non-ctest checks
: >"$checks"
check() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >>"$checks"; }

# Everything the tests create goes below one directory of this run, and their processes carry
# this run's id, so both can be checked for leftovers at the end.
ls -A /tmp >"$results/tmp-before.txt"
run_tmp=$(mktemp -d /tmp/cc-run.XXXXXX)
chmod 755 "$run_tmp"
export CC_TEST_RUN="cc-run-$$-$started"

summarize() {
  python3 "$here/tests/support/test_summary.py" --results "$results" --required "$CC_REQUIRED_FEATURES" \
    --elapsed $(($(date +%s) - started))
  exit $?
}

# configure DIR EXTRA_CMAKE_ARGS... ; build DIR TARGETS...
configure() {
  local dir=$1
  shift
  cmake -S "$here" -B "$dir" -G Ninja "$@" >"$results/cmake-$(basename "$dir").log" 2>&1 ||
    { cat "$results/cmake-$(basename "$dir").log"; return 1; }
}
build_targets() {
  local dir=$1
  shift
  if [ $# -gt 0 ]; then cmake --build "$dir" -j "$jobs" --target "$@"; else cmake --build "$dir" -j "$jobs"; fi
}

# ctest_stage NAME DIR [ENV=VALUE...] -- [CTEST ARGS...]: runs ctest, its JUnit report is
# results/NAME.xml (read by the summary).
ctest_stage() {
  local name=$1 dir=$2
  shift 2
  local env=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do env+=("$1"); shift; done
  shift
  (cd "$dir" && env TMPDIR="$run_tmp" "${env[@]+"${env[@]}"}" \
     ctest --output-on-failure -j "$jobs" --timeout 600 --output-junit "$results/$name.xml" "$@")
  [ -f "$results/$name.xml" ] || check "$name" "ctest" failed "ctest wrote no report"
}

# --- suite: the normal build, every test --------------------------------------------------------
say "build ($build)"
if ! configure "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCC_WERROR=ON || ! build_targets "$build"; then
  check build "cmake --build $build" failed "the build failed (warnings are errors)"
  summarize
fi
check build "cmake --build $build (-Werror)" passed
chmod -R a+rX "$build" 2>/dev/null || true

if want suite; then
  say "suite"
  ctest_stage suite "$build" -- "$@"
fi

# --- sanitizers -----------------------------------------------------------------------------------
sanitizer_logs="$results/sanitizers"
if want asan; then
  say "ASan+UBSan build ($build-asan)"
  if configure "$build-asan" -DCMAKE_BUILD_TYPE=Debug -DCC_WERROR=ON -DCC_SANITIZE=address,undefined \
       -DCC_BUILD_BENCH=OFF && build_targets "$build-asan" claude-container unit_tests e2e_tests security_tests; then
    check asan "build" passed
    ctest_stage asan "$build-asan" \
      "ASAN_OPTIONS=log_path=$sanitizer_logs/asan:detect_leaks=1:detect_stack_use_after_return=1" \
      "UBSAN_OPTIONS=log_path=$sanitizer_logs/ubsan:print_stacktrace=1:halt_on_error=1" \
      -- -R '^(unit\.|e2e\.|security\.ProxyHostile\.)'
  else
    check asan "build" failed "the ASan+UBSan build failed"
  fi
fi
if want tsan; then
  say "TSan build ($build-tsan)"
  if configure "$build-tsan" -DCMAKE_BUILD_TYPE=Debug -DCC_WERROR=ON -DCC_SANITIZE=thread -DCC_BUILD_BENCH=OFF &&
     build_targets "$build-tsan" unit_tests security_tests; then
    check tsan "build" passed
    ctest_stage tsan "$build-tsan" \
      "TSAN_OPTIONS=log_path=$sanitizer_logs/tsan:halt_on_error=1:second_deadlock_stack=1" \
      -- -R '^(unit\.(Proxy|Gateway)[A-Za-z]*\.|security\.ProxyHostile\.)'
  else
    check tsan "build" failed "the TSan build failed"
  fi
fi
if want asan || want tsan; then
  reports=$(find "$sanitizer_logs" -type f | sort)
  if [ -n "$reports" ]; then
    for report in $reports; do
      echo "--- sanitizer report $report"
      head -60 "$report"
    done
    check sanitizers "no sanitizer reports" failed "$(echo "$reports" | wc -l) report(s) in $sanitizer_logs"
  else
    check sanitizers "no sanitizer reports" passed
  fi
fi

# --- static analysis ------------------------------------------------------------------------------
if want tidy; then
  say "clang-tidy"
  bash "$here/tests/support/run_clang_tidy.sh" "$build" "$jobs" && check tidy "clang-tidy on changed files" passed ||
    check tidy "clang-tidy on changed files" failed "see the clang-tidy output above"
fi

# --- benchmark smoke ------------------------------------------------------------------------------
if want bench; then
  say "benchmark smoke"
  if build_targets "$build" cc_bench >/dev/null; then
    for script in "$here"/bench/*_bench.sh; do
      log="$results/bench-$(basename "$script" .sh).log"
      if TMPDIR="$run_tmp" BUILD_DIR="$build" CC_BENCH_SMOKE=1 CC_BENCH_NO_PEER=1 \
           timeout 600 bash "$script" --binary "$build/claude-container" --runs 2 >"$log" 2>&1 &&
         ! grep -q 'ERROR OCCURRED' "$log"; then
        check bench "$(basename "$script") (smoke)" passed
      else
        cat "$log"
        check bench "$(basename "$script") (smoke)" failed "see $log"
      fi
    done
  else
    check bench "build cc_bench" failed
  fi
fi

# --- fuzzing --------------------------------------------------------------------------------------
# The script builds its own clang/libFuzzer tree (FUZZ_BUILD_DIR), fuzzes for the seconds it
# is given and exits non-zero when it found a crash or could not run.
if want fuzz && [ -f "$here/tests/fuzz/run_config_fuzz.sh" ]; then
  say "config fuzzing (60 s)"
  if TMPDIR="$run_tmp" FUZZ_BUILD_DIR="$build-fuzz" timeout 1800 sh "$here/tests/fuzz/run_config_fuzz.sh" 60; then
    check fuzz "tests/fuzz/run_config_fuzz.sh (60 s)" passed
  else
    check fuzz "tests/fuzz/run_config_fuzz.sh (60 s)" failed "the fuzzer found a crash or could not run"
  fi
fi

# --- leftovers ------------------------------------------------------------------------------------
say "leftovers"
leftover_processes=""
for environ in /proc/[0-9]*/environ; do
  pid=${environ#/proc/}
  pid=${pid%/environ}
  [ "$pid" = $$ ] && continue
  # A container's supervisor is re-executed with an environment of its own: it names its
  # project (below this run's TMPDIR) in its command line instead.
  if { tr '\0' '\n' <"$environ"; } 2>/dev/null | grep -qx "CC_TEST_RUN=$CC_TEST_RUN" ||
     { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "__supervisor $run_tmp"; then
    leftover_processes+="$pid $({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | cut -c1-120)"$'\n'
  fi
done
if [ -n "$leftover_processes" ]; then
  printf 'processes of this run still alive (a container not destroyed?):\n%s' "$leftover_processes"
  check cleanup "no process of the run left" failed "$(printf '%s' "$leftover_processes" | wc -l) process(es) alive"
else
  check cleanup "no process of the run left" passed
fi
left=$(find "$run_tmp" -mindepth 1 -maxdepth 1 2>/dev/null)
if [ -n "$left" ]; then
  printf 'left in the run'"'"'s temporary directory:\n%s\n' "$left"
  check cleanup "nothing left in TMPDIR" failed "$(echo "$left" | wc -l) entries in $run_tmp"
else
  check cleanup "nothing left in TMPDIR" passed
fi
rm -rf "$run_tmp"
ls -A /tmp >"$results/tmp-after.txt"
new_in_tmp=$(comm -13 <(sort "$results/tmp-before.txt") <(sort "$results/tmp-after.txt"))
if [ -n "$new_in_tmp" ]; then
  # Other users of a shared machine create files in /tmp too, so this fails only when asked
  # (CI, where the run is alone).
  printf 'new in /tmp since the run started:\n%s\n' "$new_in_tmp"
  if [ "${CC_STRICT_TMP:-0}" = 1 ]; then
    check cleanup "nothing new in /tmp" failed "$(echo "$new_in_tmp" | wc -l) new entries"
  fi
else
  check cleanup "nothing new in /tmp" passed
fi

summarize
