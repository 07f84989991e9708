#!/usr/bin/env bash
# test.sh: sets up, builds and tests cpose; the last lines printed are CTest's summary and the exit status
# is CTest's.
#
#   bash scripts/test.sh [--werror]      (from any directory)
#
# --werror (or CI=1 in the environment) builds with -DCPOSE_WERROR=ON: warnings are errors.
set -euo pipefail

readonly ME="test.sh"
readonly BUILD_DIR="build"

say() { echo "$ME: $*" >&2; }

usage() {
  echo "usage: bash scripts/test.sh [--werror]" >&2
  exit 2
}

# Prints ON when warnings must be errors (--werror or CI=1), OFF otherwise.
werror_setting() {
  local arg werror=OFF
  [ "${CI:-}" = 1 ] && werror=ON
  for arg in "$@"; do
    case "$arg" in
      --werror) werror=ON ;;
      -h | --help) usage ;;
      *) say "unknown argument '$arg'"; usage ;;
    esac
  done
  echo "$werror"
}

main() {
  local werror
  werror=$(werror_setting "$@")
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  bash scripts/setup.sh
  # CPOSE_WERROR is always passed so that a cached value from an earlier run does not linger.
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCPOSE_WERROR="$werror" ||
    { say "cmake configure failed"; exit 1; }
  cmake --build "$BUILD_DIR" -j2 || { say "build failed"; exit 1; }
  # Nothing may print after this: CTest's summary is the last thing a reader sees.
  ctest --test-dir "$BUILD_DIR" --output-on-failure
}

main "$@"
