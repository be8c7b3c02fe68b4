#!/usr/bin/env bash
# Runs the credential gateway benchmark (bench/gateway_bench.cpp, in cc_bench): a streamed
# Messages request through the gateway versus straight to the API stand-in over TLS. Extra
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
[ -x "$bench" ] || { echo "gateway_bench.sh: build first: cmake --build $build --target cc_bench" >&2; exit 1; }
"$bench" --benchmark_filter='BM_Gateway' --benchmark_counters_tabular=true "$@"
