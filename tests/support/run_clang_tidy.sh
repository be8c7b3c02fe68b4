#!/usr/bin/env bash
# clang-tidy, with the checks listed in .clang-tidy, on the C++ files this branch changed since
# its merge-base with main (in a clone of main itself: the files of the last commit).
# Usage: tests/support/run_clang_tidy.sh BUILD_DIR [JOBS]   (BUILD_DIR has compile_commands.json)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
jobs=${2:-2}
command -v clang-tidy >/dev/null || { echo "clang-tidy is not installed (apt-get install clang-tidy)" >&2; exit 1; }
cd "$here"
base=""
for ref in main origin/main; do
  base=$(git merge-base HEAD "$ref" 2>/dev/null) && break
done
if [ -z "$base" ] || [ "$base" = "$(git rev-parse HEAD)" ]; then
  base=$(git rev-parse -q --verify HEAD~1 || true)
fi
if [ -n "$base" ]; then
  mapfile -t files < <(git diff --name-only --diff-filter=d "$base" -- 'src/*.cpp' 'tests/*.cpp' 'bench/*.cpp')
else
  mapfile -t files < <(git ls-files 'src/*.cpp' 'tests/*.cpp' 'bench/*.cpp')
fi
# Uncommitted changes count too when run by hand.
mapfile -t -O "${#files[@]}" files < <(git diff --name-only --diff-filter=d HEAD -- 'src/*.cpp' 'tests/*.cpp' 'bench/*.cpp')
mapfile -t files < <(printf '%s\n' "${files[@]+"${files[@]}"}" | sort -u | grep -v '^$' || true)
if [ ${#files[@]} -eq 0 ]; then
  echo "clang-tidy: no C++ file changed since ${base:-the start}"
  exit 0
fi
echo "clang-tidy: ${#files[@]} changed file(s) since ${base:0:12}"
status=0
output=$(printf '%s\n' "${files[@]}" |
  xargs -P "$jobs" -n 1 clang-tidy -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option 2>&1) || status=$?
printf '%s\n' "$output" | grep -v '^[0-9]* warnings\? \(and [0-9]* errors\? \)\?generated\.$' || true
exit "$status"
