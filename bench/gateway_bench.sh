#!/usr/bin/env bash
# Runs the credential gateway benchmark (bench/gateway_bench.cpp, in cc_bench): a streamed
# Messages request through the gateway versus straight to the API stand-in over TLS. Extra
# arguments go to Google Benchmark. CC_BENCH_SMOKE=1 runs each benchmark once (tests/run.sh).
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
parse_bench_options "$@"
require_cc_bench gateway_bench.sh
"$bench" --benchmark_filter='BM_Gateway' --benchmark_counters_tabular=true "${bench_args[@]+"${bench_args[@]}"}"
