#!/usr/bin/env bash
# Runs every benchmark script in bench/ (bench/*_bench.sh) with the given options.
# Example: bench/run.sh --binary build/claude-container
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for script in "$here"/*_bench.sh; do
  echo "== $(basename "$script")"
  "$script" "$@"
done
