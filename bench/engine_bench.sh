#!/usr/bin/env bash
# Native engine start-up benchmark (DESIGN.md section 9): in one run, with hyperfine -N,
#   plain `true` (the floor), `claude-container --version` (the binary's own start),
#   `exec -- true` in a running container, a cold `start`, `run -- true` (start+exec+stop),
#   and bwrap --unshare-all as the peer; then the supervisor's and pid 1's idle RSS.
# Usage: bench/engine_bench.sh [--binary PATH] [--as USER] [--runs N] [--policy P] [--out FILE]
#   --policy: the container's network.policy (default none; isolated adds the egress proxy).
#   --as USER runs everything as that unprivileged user (rootless); needs root.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
binary="$here/build/claude-container"
as_user=""
runs=50
policy=none
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --as) as_user=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --policy) policy=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v hyperfine >/dev/null || { echo "hyperfine is needed: apt-get install hyperfine" >&2; exit 2; }
command -v bwrap >/dev/null || { echo "bwrap is needed: apt-get install bubblewrap" >&2; exit 2; }
[ -x "$binary" ] || { echo "no binary at $binary (build it, or pass --binary)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cc-engine-bench.XXXXXX")
name="bench-$$"
mkdir -p "$work/project/.claude-container" "$work/run" "$work/data" "$work/state"
chmod 700 "$work/run"
cat > "$work/project/.claude-container/config.json" <<JSON
{"schema_version": 1, "name": "$name", "mode": "custom", "engine": "native",
 "network": {"policy": "$policy", "allow": [], "deny": []}, "storage": {"type": "volume"},
 "credentials": {"api": "separate"}, "resources": {"cpus": 1, "memory": "1g", "pids": 1024}}
JSON
echo "hello" > "$work/project/README.md"
runner=(env -i PATH=/usr/bin:/bin HOME="$work" XDG_RUNTIME_DIR="$work/run" XDG_DATA_HOME="$work/data"
        XDG_STATE_HOME="$work/state" LANG=C.UTF-8)
if [ -n "$as_user" ]; then
  chown -R "$as_user": "$work"
  runner=(setpriv --reuid "$as_user" --regid "$as_user" --clear-groups "${runner[@]}")
fi
cc=("${runner[@]}" "$binary" --project "$work/project")
cleanup() { "${cc[@]}" destroy --yes >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

q() { printf '%q ' "$@"; }
bwrap_cmd=(bwrap --unshare-all --die-with-parent --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib
           --symlink usr/lib64 /lib64 --proc /proc --dev /dev --tmpfs /tmp true)

# A config written by hand takes effect only once its user approved it (`trust`).
"${cc[@]}" trust >/dev/null
"${cc[@]}" start >/dev/null
"${cc[@]}" exec -- true
hyperfine -N --warmup 5 --runs "$runs" --export-markdown "$work/hot.md" \
  -n "true" "$(q "${runner[@]}" true)" \
  -n "claude-container --version" "$(q "${cc[@]}" --version)" \
  -n "exec -- true (running)" "$(q "${cc[@]}" exec -- true)" \
  -n "bwrap --unshare-all ... true" "$(q "${runner[@]}" "${bwrap_cmd[@]}")"
hyperfine -N --warmup 3 --runs "$runs" --export-markdown "$work/cold.md" \
  --prepare "$(q "${cc[@]}" stop)" \
  -n "start (cold, stopped before)" "$(q "${cc[@]}" start)" \
  -n "run -- true (start+exec+stop)" "$(q "${cc[@]}" run -- true)"

"${cc[@]}" start >/dev/null 2>&1
sleep 2
# status --json, not the state file: where state lives depends on the user and the project path.
status=$("${cc[@]}" --json status)
supervisor=$(printf '%s' "$status" | sed -n 's/.*"supervisor_pid": *\([0-9]*\).*/\1/p')
init=$(printf '%s' "$status" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
# Idle: a moment after the status request above (the supervisor trims itself once idle).
sleep 2
rss() { awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} END {print "RSS " r " KiB (PSS " p " KiB)"}' "/proc/$1/smaps_rollup"; }
{
  echo "### policy $policy, $(if [ -n "$as_user" ]; then echo "rootless (as $as_user)"; else echo "as $(id -un)"; fi), $(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs"
  echo
  cat "$work/hot.md"
  echo
  cat "$work/cold.md"
  echo
  echo "Idle resident memory: supervisor $(rss "$supervisor"), container pid 1 $(rss "$init")."
} | tee ${out:+"$out"}
