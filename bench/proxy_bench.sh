#!/usr/bin/env bash
# Runs the egress proxy benchmark (bench/proxy_bench.cpp) with the proxy of
# @anthropic-ai/sandbox-runtime started as the peer (installed with npm into the build dir on
# first use). Extra arguments go to Google Benchmark, e.g. --benchmark_format=json.
# CC_BENCH_NO_PEER=1 measures without the peer (no npm, no network); CC_BENCH_SMOKE=1 runs each
# benchmark once with tiny sizes (tests/run.sh does both, to show the benchmark still runs).
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
parse_bench_options "$@"
set -- "${bench_args[@]+"${bench_args[@]}"}"
peer_dir=${SRT_DIR:-"$build/srt-peer"}
require_cc_bench proxy_bench.sh

ulimit -n "$(ulimit -Hn)"
peer_env=()
if [ -n "${CC_BENCH_NO_PEER:-}" ]; then
  echo "proxy_bench.sh: CC_BENCH_NO_PEER is set; measuring without the peer" >&2
elif command -v node >/dev/null && command -v npm >/dev/null; then
  if [ ! -d "$peer_dir/node_modules/@anthropic-ai/sandbox-runtime" ]; then
    npm install --silent --no-audit --no-fund --prefix "$peer_dir" @anthropic-ai/sandbox-runtime >&2 ||
      echo "proxy_bench.sh: could not install @anthropic-ai/sandbox-runtime; measuring without the peer" >&2
  fi
  if [ -d "$peer_dir/node_modules/@anthropic-ai/sandbox-runtime" ]; then
    out=$(mktemp)
    node "$here/bench/proxy_peer_srt.mjs" "$peer_dir/node_modules" >"$out" 2>"$out.err" &
    node_pid=$!
    trap 'kill "$node_pid" 2>/dev/null || true; rm -f "$out" "$out.err"' EXIT
    for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.1; done
    if [ -s "$out" ]; then
      peer_env=(CC_BENCH_PEER="$(cat "$out")")
      echo "peer: @anthropic-ai/sandbox-runtime $(node -p "require('$peer_dir/node_modules/@anthropic-ai/sandbox-runtime/package.json').version") on node $(node --version)" >&2
    else
      echo "proxy_bench.sh: the peer proxy did not start: $(cat "$out.err")" >&2
    fi
  fi
else
  echo "proxy_bench.sh: node/npm not installed; measuring without the peer" >&2
fi
# Without the peer its benchmarks could only report an error, so they are left out.
filter='BM_Proxy'
[ ${#peer_env[@]} -gt 0 ] || filter='BM_Proxy[A-Za-z]+/(direct|claude_container)'
env "${peer_env[@]+"${peer_env[@]}"}" "$bench" --benchmark_filter="$filter" "$@"
