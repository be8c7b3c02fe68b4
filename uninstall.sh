#!/usr/bin/env bash
# Removes exactly what install.sh installed: the binary, completions, man page and the Claude
# Code plugin. Containers, their state and project files stay; it prints how to remove them.
# Never reads stdin; running it again is harmless.
set -euo pipefail

prefix="${HOME:?HOME is not set}/.local"
plugin=1

usage() {
  cat <<'EOF'
Usage: uninstall.sh [options]
  --prefix DIR   the prefix given to install.sh (default: ~/.local)
  --no-plugin    leave the Claude Code plugin registered
  --yes          accepted for symmetry with install.sh; uninstall.sh asks nothing
  --help         show this help
EOF
}
usage_error() {
  echo "uninstall.sh: $1; run uninstall.sh --help for the options." >&2
  exit 2
}
say() { echo "uninstall.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || usage_error "--prefix needs a directory"; prefix="$2"; shift 2 ;;
    --no-plugin) plugin=0; shift ;;
    --yes | -y) shift ;;
    --help | -h) usage; exit 0 ;;
    *) usage_error "unknown option '$1'" ;;
  esac
done
case "$prefix" in /*) ;; *) prefix="$PWD/$prefix" ;; esac

failed=0
for file in \
  "$prefix/bin/claude-container" \
  "$prefix/share/bash-completion/completions/claude-container" \
  "$prefix/share/zsh/site-functions/_claude-container" \
  "$prefix/share/man/man1/claude-container.1"; do
  if [ -e "$file" ] || [ -L "$file" ]; then
    if rm -f "$file"; then say "removed $file"; else failed=1; fi
  fi
done

if [ "$plugin" = 1 ] && command -v claude >/dev/null 2>&1; then
  # Either may already be gone; that is the state we want.
  if claude plugin uninstall container-isolation@claude-container </dev/null >/dev/null 2>&1; then
    say "uninstalled the plugin container-isolation@claude-container"
  fi
  if claude plugin marketplace remove claude-container </dev/null >/dev/null 2>&1; then
    say "removed the marketplace claude-container"
  fi
fi

cat <<'EOF'
uninstall.sh: containers and project files were left alone. To remove them too:
  - in each project: claude-container destroy   (run it before uninstalling, or with a kept binary)
  - then delete the project's .claude-container/ directory if you no longer want its settings
  - what is left after destroy: $XDG_RUNTIME_DIR/claude-container (else ~/.local/state/claude-container),
    ~/.local/share/claude-container (or $XDG_DATA_HOME/claude-container), and approvals in
    ~/.local/state/claude-container/approvals; as root /run/claude-container and /var/lib/claude-container
EOF
if [ "$failed" = 1 ]; then
  echo "uninstall.sh: some files could not be removed; check the permissions of $prefix and rerun." >&2
  exit 1
fi
