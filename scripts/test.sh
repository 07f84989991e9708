#!/usr/bin/env bash
# test.sh: sets up, builds and tests cpose; the last lines printed are CTest's summary and the exit status
# is CTest's.
#
#   bash scripts/test.sh [--werror] [--sanitize]      (from any directory)
#
# --werror (or CI=1 in the environment) builds with -DCPOSE_WERROR=ON: warnings are errors.
# --sanitize (or CI=1) first runs the sanitizer stage: the tests built with AddressSanitizer (leak checking
# on) and UndefinedBehaviorSanitizer (-DCPOSE_SANITIZE=ON) in build-asan/. A memory error, a leak or
# undefined behaviour fails that test; a failure there ends the run before the main tests. About 3 minutes
# on 2 cores from a clean build-asan/ (the tests take 2).
# The main tests (build/, the normal Release build) always run last, so that their summary ends the output.
set -euo pipefail

readonly ME="test.sh"
readonly BUILD_DIR="build"
readonly ASAN_BUILD_DIR="build-asan"
# detect_leaks is on by default on x86-64 Linux; said here so that it is on wherever this runs. A failing
# UBSan check stops the test (the build also has -fno-sanitize-recover) with a stack trace.
readonly SANITIZER_ASAN_OPTIONS="detect_leaks=1"
readonly SANITIZER_UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

say() { echo "$ME: $*" >&2; }

usage() {
  echo "usage: bash scripts/test.sh [--werror] [--sanitize]" >&2
  exit 2
}

WERROR=OFF
SANITIZE=0

parse_args() {
  local arg
  if [ "${CI:-}" = 1 ]; then
    WERROR=ON
    SANITIZE=1
  fi
  for arg in "$@"; do
    case "$arg" in
      --werror) WERROR=ON ;;
      --sanitize) SANITIZE=1 ;;
      -h | --help) usage ;;
      *) say "unknown argument '$arg'"; usage ;;
    esac
  done
}

# Configures and builds $1 with the extra cmake arguments that follow. CPOSE_WERROR is always passed so that a
# cached value from an earlier run does not linger.
build() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCPOSE_WERROR="$WERROR" "$@" ||
    { say "cmake configure of $dir failed"; exit 1; }
  cmake --build "$dir" -j2 || { say "build of $dir failed"; exit 1; }
}

# The sanitizer stage: every test under ASan + UBSan. -g makes the reports name files and lines.
sanitizer_stage() {
  local start=$EPOCHREALTIME
  build "$ASAN_BUILD_DIR" -DCPOSE_SANITIZE=ON -DCMAKE_C_FLAGS=-g
  say "sanitizer stage: the tests under AddressSanitizer and UndefinedBehaviorSanitizer ($ASAN_BUILD_DIR)"
  if ! ASAN_OPTIONS="$SANITIZER_ASAN_OPTIONS" UBSAN_OPTIONS="$SANITIZER_UBSAN_OPTIONS" \
    ctest --test-dir "$ASAN_BUILD_DIR" --output-on-failure; then
    # Nothing may print after CTest's failure report: it is what a reader needs to see.
    exit 1
  fi
  local seconds
  seconds=$(echo "$EPOCHREALTIME - $start" | LC_ALL=C awk '{ printf "%.0f", $1 - $3 }')
  say "sanitizer stage passed ($seconds s); now the main tests"
}

main() {
  parse_args "$@"
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  bash scripts/setup.sh
  build "$BUILD_DIR"
  if [ "$SANITIZE" = 1 ]; then sanitizer_stage; fi
  # Nothing may print after this: CTest's summary is the last thing a reader sees.
  ctest --test-dir "$BUILD_DIR" --output-on-failure
}

main "$@"
