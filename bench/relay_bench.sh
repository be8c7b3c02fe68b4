#!/usr/bin/env bash
# Runs the relay benchmark (bench/relay_bench.cpp, in cc_bench): a request through the image
# engines' socat relay and unix socket versus the proxy's own TCP listener. Extra
# arguments go to Google Benchmark. CC_BENCH_SMOKE=1 runs each benchmark once (tests/run.sh).
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
parse_bench_options "$@"
require_cc_bench relay_bench.sh
"$bench" --benchmark_filter='BM_Relay' --benchmark_counters_tabular=true "${bench_args[@]+"${bench_args[@]}"}"
