#!/usr/bin/env bash
# Installs claude-container (binary, completions, man page) into a prefix and registers the
# Claude Code plugin. Safe under `curl ... | bash`: it never reads stdin; it asks only through
# /dev/tty, and every question has a flag. Running it again gives the same result.
set -euo pipefail

prefix="${HOME:?HOME is not set}/.local"
source_dir=""
binary=""
deps=1
plugin=1
assume_yes=0

usage() {
  cat <<'EOF'
Usage: install.sh [options]
  --prefix DIR        install into DIR/bin, DIR/share (default: ~/.local)
  --from-source DIR   build from the checkout in DIR (default: the checkout holding this script)
  --binary PATH       install this already built claude-container instead of building
  --no-deps           do not install build dependencies
  --no-plugin         do not register the Claude Code plugin
  --yes               answer yes to every question
  --help              show this help
EOF
}

die() {
  echo "install.sh: $1" >&2
  exit "${2:-1}"
}
usage_error() {
  echo "install.sh: $1; run install.sh --help for the options." >&2
  exit 2
}
say() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || usage_error "--prefix needs a directory"; prefix="$2"; shift 2 ;;
    --from-source) [ $# -ge 2 ] || usage_error "--from-source needs a directory"; source_dir="$2"; shift 2 ;;
    --binary) [ $# -ge 2 ] || usage_error "--binary needs a path"; binary="$2"; shift 2 ;;
    --no-deps) deps=0; shift ;;
    --no-plugin) plugin=0; shift ;;
    --yes | -y) assume_yes=1; shift ;;
    --help | -h) usage; exit 0 ;;
    *) usage_error "unknown option '$1'" ;;
  esac
done
case "$prefix" in /*) ;; *) prefix="$PWD/$prefix" ;; esac

# Asks a yes/no question on the terminal; with no terminal (or --yes) the answer is yes, since
# every step can be turned off by a flag instead.
confirm() {
  [ "$assume_yes" = 1 ] && return 0
  { [ -r /dev/tty ] && [ -w /dev/tty ]; } 2>/dev/null || return 0
  local answer=""
  printf '%s [Y/n] ' "$1" >/dev/tty
  read -r answer </dev/tty || answer=""
  case "$answer" in [nN]*) return 1 ;; *) return 0 ;; esac
}

check_platform() {
  local os arch
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$os/$arch" in
    Linux/x86_64 | Linux/aarch64 | Linux/arm64 | Darwin/x86_64 | Darwin/arm64) ;;
    *) die "$os on $arch is not supported; claude-container runs on Linux (x86_64, arm64) and macOS." ;;
  esac
  platform="$os"
}

# The checkout this script lives in, when it is run from a file rather than from a pipe.
script_checkout() {
  local self="${BASH_SOURCE[0]:-}" dir
  [ -n "$self" ] && [ -f "$self" ] || return 1
  dir="$(cd "$(dirname "$self")" && pwd)"
  [ -f "$dir/CMakeLists.txt" ] && [ -d "$dir/src" ] || return 1
  source_dir="$dir"
}

find_source() {
  if [ -n "$source_dir" ]; then
    if [ ! -f "$source_dir/CMakeLists.txt" ] || [ ! -d "$source_dir/src" ]; then
      die "$source_dir is not a claude-container checkout (no CMakeLists.txt and src/); pass the directory of a clone." 2
    fi
    source_dir="$(cd "$source_dir" && pwd)"
    return
  fi
  script_checkout && return
  die "no checkout to build from (the script was not run from one); clone the repository and pass --from-source DIR." 2
}

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "installing packages needs root and sudo is missing; install them yourself and rerun with --no-deps."
  fi
}

install_deps() {
  if [ "$platform" = Darwin ]; then
    command -v brew >/dev/null 2>&1 || die "Homebrew is missing; install it or the build tools yourself and rerun with --no-deps."
    confirm "Install build dependencies with Homebrew?" || return 0
    brew install cmake ninja pkg-config nlohmann-json cli11 fmt openssl@3
  elif command -v apt-get >/dev/null 2>&1; then
    confirm "Install build dependencies with apt-get (needs root)?" || return 0
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      build-essential cmake ninja-build pkg-config git \
      nlohmann-json3-dev libcli11-dev libfmt-dev libseccomp-dev libssl-dev \
      passt tar ca-certificates openssl </dev/null
  else
    die "only apt-get (Debian, Ubuntu) and Homebrew are supported for dependencies; install cmake, ninja, a C++20 compiler, nlohmann-json, CLI11, fmt, libseccomp and OpenSSL, then rerun with --no-deps."
  fi
}

build() {
  local dir="$source_dir/build-install"
  say "building in $dir"
  cmake -S "$source_dir" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCC_BUILD_TESTS=OFF -DCC_BUILD_BENCH=OFF </dev/null >/dev/null
  cmake --build "$dir" --target claude-container </dev/null
  binary="$dir/claude-container"
}

# Writes a copy to a temporary file beside the target, then
# renames it into place, so a reader never sees half a file.
put_file() { # put_file MODE TARGET SOURCE_FILE
  local mode="$1" target="$2" from="$3" tmp
  mkdir -p "$(dirname "$target")"
  tmp="$(mktemp "$target.tmp.XXXXXX")"
  if cp "$from" "$tmp" && chmod "$mode" "$tmp" && mv -f "$tmp" "$target"; then
    say "installed $target"
  else
    rm -f "$tmp"
    die "could not write $target; check that $(dirname "$target") is writable."
  fi
}
put_output() { # put_output TARGET COMMAND...
  local target="$1" tmp
  shift
  mkdir -p "$(dirname "$target")"
  tmp="$(mktemp "$target.tmp.XXXXXX")"
  if "$@" >"$tmp" </dev/null && [ -s "$tmp" ] && chmod 644 "$tmp" && mv -f "$tmp" "$target"; then
    say "installed $target"
  else
    rm -f "$tmp"
    die "could not generate $target with '$*'."
  fi
}

register_plugin() {
  if ! command -v claude >/dev/null 2>&1; then
    say "claude is not on PATH; skipped the plugin (rerun install.sh once Claude Code is installed)"
    return 0
  fi
  if [ -z "$source_dir" ] || [ ! -f "$source_dir/.claude-plugin/marketplace.json" ]; then
    say "no checkout with .claude-plugin/marketplace.json; skipped the plugin"
    return 0
  fi
  confirm "Register the Claude Code plugin container-isolation?" || return 0
  # A marketplace added before (same name) makes `add` fail; the install below still works.
  claude plugin marketplace add "$source_dir" </dev/null ||
    echo "install.sh: warning: 'claude plugin marketplace add $source_dir' failed; continuing" >&2
  if claude plugin install container-isolation@claude-container </dev/null; then
    say "registered the plugin container-isolation@claude-container"
  else
    echo "install.sh: warning: 'claude plugin install container-isolation@claude-container' failed; run it yourself" >&2
  fi
}

check_platform
if [ -n "$binary" ]; then
  [ -x "$binary" ] || die "$binary is not an executable file; pass the built claude-container." 2
  # The plugin comes from a checkout: the given one, else the one holding this script.
  if [ -n "$source_dir" ]; then find_source; else script_checkout || true; fi
else
  find_source
  [ "$deps" = 1 ] && install_deps
  build
fi

installed="$prefix/bin/claude-container"
put_file 755 "$installed" "$binary"
put_output "$prefix/share/bash-completion/completions/claude-container" "$installed" completion bash
put_output "$prefix/share/zsh/site-functions/_claude-container" "$installed" completion zsh
put_output "$prefix/share/man/man1/claude-container.1" "$installed" man

if [ "$plugin" = 1 ]; then register_plugin; fi

case ":${PATH:-}:" in
  *":$prefix/bin:"*) ;;
  *) say "add $prefix/bin to PATH, for example: echo 'export PATH=\"$prefix/bin:\$PATH\"' >> ~/.profile" ;;
esac
say "done; run 'claude-container init' in a project to set one up"
