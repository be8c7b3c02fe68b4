#!/usr/bin/env bash
# Builds everything and runs the whole test suite. As root it also creates the unprivileged
# user the engine tests run as (cc-tester), so the engine is tested both ways.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-"$here/build"}
jobs=${JOBS:-$(nproc)}

if [ "$(id -u)" = 0 ] && ! id cc-tester >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash cc-tester
fi

cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$jobs"
# The unprivileged test user must be able to reach the binary and the test data.
chmod -R a+rX "$build" "$here" 2>/dev/null || true
cd "$build"
ctest --output-on-failure -j "$jobs" --timeout 600 "$@"
