#!/bin/sh
# Fuzzes the config reader for a fixed time: tests/fuzz/run_config_fuzz.sh SECONDS
# Needs clang++ with libFuzzer (Debian: apt-get install clang; libclang-rt-14-dev comes with it).
# Builds in $FUZZ_BUILD_DIR (default build-fuzz), seeds the corpus from the golden configs and
# exits non-zero when the fuzzer finds a crash, a sanitizer report or an escaped exception;
# the input that did it is left in $FUZZ_BUILD_DIR/artifacts/.
set -eu
seconds=${1:?usage: run_config_fuzz.sh SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
build_dir=${FUZZ_BUILD_DIR:-$source_dir/build-fuzz}
command -v clang++ >/dev/null || { echo "run_config_fuzz.sh: clang++ not found (apt-get install clang)" >&2; exit 2; }

cmake -S "$source_dir" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DCC_FUZZ=ON -DCC_BUILD_TESTS=OFF -DCC_BUILD_BENCH=OFF >/dev/null
cmake --build "$build_dir" --target config_fuzz

corpus=$build_dir/corpus
mkdir -p "$corpus" "$build_dir/artifacts"
for config in "$source_dir"/tests/data/golden/*/.claude-container/config.json "$here"/corpus/*; do
  [ -f "$config" ] && cp "$config" "$corpus/seed-$(basename "$(dirname "$(dirname "$config")")")-$(basename "$config")"
done
# -rss_limit_mb and -max_len keep one run bounded; the config limit is 4 MiB, larger inputs
# are refused by size before parsing, which the fuzzer need not rediscover.
exec "$build_dir/tests/fuzz/config_fuzz" "$corpus" -dict="$here/config.dict" -max_total_time="$seconds" \
  -max_len=65536 -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$build_dir/artifacts/" -print_final_stats=1
