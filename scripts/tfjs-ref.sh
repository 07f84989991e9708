#!/usr/bin/env bash
# tfjs-ref.sh: runs the TensorFlow.js reference runner (../shared/tools/tfjs-ref/tfjs-ref.js) with every
# argument passed through, e.g.
#
#   bash scripts/tfjs-ref.sh --model models/movenet-thunder/model.json --input in.f32 \
#        --shape 1,256,256,3 --dtype int32 --out /tmp/ref
#
# ../shared may be read-only, so the tool (package.json, package-lock.json, tfjs-ref.js) is copied into
# .cache/tfjs-ref/ and its node_modules are installed there with `npm ci` (once, and again only when the
# lock file changes). Exits 77 (skip) when ../shared/tools/tfjs-ref does not exist.
# Relative paths in the arguments are taken from the caller's directory (this script does not cd).
set -euo pipefail

readonly ME="tfjs-ref.sh"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly TOOL_SOURCE="$ROOT/../shared/tools/tfjs-ref"
readonly TOOL_DIR="$ROOT/.cache/tfjs-ref"
readonly TOOL_FILES="package.json package-lock.json tfjs-ref.js"
# Written after a successful npm ci; holds a copy of the lock file it installed.
readonly INSTALLED_LOCK="$TOOL_DIR/node_modules/.installed-package-lock.json"

say() { echo "$ME: $*" >&2; }
die() { say "error: $*"; exit 1; }

# Copies the tool's files into .cache/tfjs-ref/ when they differ from ../shared's.
copy_tool() {
  local f
  mkdir -p "$TOOL_DIR"
  for f in $TOOL_FILES; do
    [ -f "$TOOL_SOURCE/$f" ] || die "$TOOL_SOURCE/$f is missing"
    cmp -s "$TOOL_SOURCE/$f" "$TOOL_DIR/$f" || cp "$TOOL_SOURCE/$f" "$TOOL_DIR/$f"
  done
}

# Runs npm ci in .cache/tfjs-ref/ unless node_modules already match package-lock.json.
install_node_modules() {
  cmp -s "$TOOL_DIR/package-lock.json" "$INSTALLED_LOCK" && return
  command -v npm >/dev/null 2>&1 || die "npm not found: run scripts/setup.sh (as root) or install Node.js with npm"
  say "installing TensorFlow.js into .cache/tfjs-ref/ (npm ci, once)"
  if ! (cd "$TOOL_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2); then
    die "npm ci failed in $TOOL_DIR: the npm registry must be reachable once (network, proxy," \
      "npm config registry); offline, copy a node_modules/ made by npm ci from the same package-lock.json there."
  fi
  cp "$TOOL_DIR/package-lock.json" "$INSTALLED_LOCK"
}

main() {
  if [ ! -d "$TOOL_SOURCE" ]; then
    say "skipped: $TOOL_SOURCE does not exist (it comes with ../shared beside the repository)"
    exit 77
  fi
  command -v node >/dev/null 2>&1 || die "node not found: run scripts/setup.sh (as root) or install Node.js"
  copy_tool
  install_node_modules
  exec node "$TOOL_DIR/tfjs-ref.js" "$@"
}

main "$@"
