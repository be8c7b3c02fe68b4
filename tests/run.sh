#!/usr/bin/env bash
# Builds everything and runs the whole test suite. As root it also creates the unprivileged
# user the engine tests run as (cc-tester), so the engine is tested both ways.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-"$here/build"}
jobs=${JOBS:-$(nproc)}

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

cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$jobs"
chmod -R a+rX "$build" 2>/dev/null || true
cd "$build"
ctest --output-on-failure -j "$jobs" --timeout 600 "$@"
