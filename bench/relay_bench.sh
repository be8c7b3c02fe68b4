#!/usr/bin/env bash
# Runs the relay benchmark (bench/relay_bench.cpp, in cc_bench): a request through the image
# engines' socat relay and unix socket versus the proxy's own TCP listener. Extra
# arguments go to Google Benchmark. CC_BENCH_SMOKE=1 runs each benchmark once (tests/run.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-"$here/build"}
# bench/run.sh passes every script the same options: --binary locates the build directory,
# the engine benchmark's --runs/--as do not apply here.
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) build=$(cd "$(dirname "$2")" && pwd); shift 2 ;;
    --runs|--as) shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
set -- "${args[@]+"${args[@]}"}"
bench="$build/bench/cc_bench"
[ -x "$bench" ] || { echo "relay_bench.sh: build first: cmake --build $build --target cc_bench" >&2; exit 1; }
"$bench" --benchmark_filter='BM_Relay' --benchmark_counters_tabular=true "$@"
