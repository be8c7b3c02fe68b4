# shellcheck shell=bash
# Sourced by the bench/*_bench.sh scripts that run cc_bench (Google Benchmark).
# bench/run.sh passes every script the same options: --binary locates the build directory,
# the engine benchmark's --runs/--as do not apply here. Sets `build` and `bench_args`.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-"$here/build"}
bench_args=()
parse_bench_options() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --binary) build=$(cd "$(dirname "$2")" && pwd); shift 2 ;;
      --runs|--as) shift 2 ;;
      *) bench_args+=("$1"); shift ;;
    esac
  done
  bench="$build/bench/cc_bench"
}
# The cc_bench binary, or a clear error naming the target to build.
require_cc_bench() {
  [ -x "$bench" ] || { echo "$1: build first: cmake --build $build --target cc_bench" >&2; exit 1; }
}
