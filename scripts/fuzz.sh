#!/usr/bin/env bash
# fuzz.sh: builds the libFuzzer targets of fuzz/ (clang, AddressSanitizer, UndefinedBehaviorSanitizer) in
# build-fuzz/ and runs them, one after another, each for SECONDS.
#
#   bash scripts/fuzz.sh [TARGET|all] [SECONDS]      (from any directory; default: all 600)
#   e.g. bash scripts/fuzz.sh fuzz_image 60
#
# Targets: fuzz_model_json fuzz_model_weights fuzz_image fuzz_detfile fuzz_eval fuzz_video (fuzz/README.md).
# Each run starts from the seeds fuzz/corpus/TARGET/ and the past crashes fuzz/regressions/TARGET/, and keeps
# what it learns in out/fuzz/TARGET/corpus/ (git-ignored; the next run goes on from there). A crash, leak,
# timeout or out-of-memory input is written to out/fuzz/TARGET/ and named at the end; the full log is
# out/fuzz/TARGET/fuzz.log. One fuzzer process at a time, at nice 19, so the machine stays usable.
# The exit status is 1 when any target crashed.
#
# Installs clang and libFuzzer (Debian: clang libclang-rt-dev) with apt-get when they are missing (as root;
# otherwise it prints the command). The project's other build dependencies come from scripts/setup.sh.
set -euo pipefail

readonly ME="fuzz.sh"
readonly BUILD_DIR="build-fuzz"
readonly OUT_DIR="out/fuzz"
readonly DEB_PACKAGES="clang libclang-rt-dev"
readonly DEFAULT_SECONDS=600
readonly RSS_LIMIT_MB=2048
readonly TIMEOUT_S=30 # one input running this long counts as a hang

say() { echo "$ME: $*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
  echo "usage: bash scripts/fuzz.sh [TARGET|all] [SECONDS]   (default: all $DEFAULT_SECONDS)" >&2
  exit 2
}

# The longest input libFuzzer makes for each target: room for the seeds' kind of file and its mutations.
max_len() {
  case "$1" in
    fuzz_model_json) echo 16384 ;;  # model.json of a few dozen nodes, plus weights
    fuzz_model_weights) echo 4096 ;; # the fixed models need at most 179 bytes
    fuzz_image) echo 32768 ;;       # small JPEGs and PNGs; bigger ones exercise nothing new
    fuzz_detfile) echo 8192 ;;
    fuzz_eval) echo 16384 ;;        # ground truth and results, 17 keypoints a person
    fuzz_video) echo 65536 ;;       # a few frames of a tiny video in some container
    *) echo 8192 ;;
  esac
}

# --- clang and libFuzzer --------------------------------------------------------------------------------

# True when clang can build and link a libFuzzer program with the sanitizers.
have_libfuzzer() {
  command -v clang >/dev/null 2>&1 || return 1
  local tmp status=0
  tmp=$(mktemp -d)
  printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' >"$tmp/t.c"
  clang -fsanitize=fuzzer,address,undefined "$tmp/t.c" -o "$tmp/t" >/dev/null 2>&1 || status=1
  rm -rf "$tmp"
  return "$status"
}

install_clang() {
  have_libfuzzer && return
  if [ "$(id -u)" -ne 0 ]; then
    say "clang with libFuzzer is missing (Debian packages: $DEB_PACKAGES)"
    say "install them with:  sudo apt-get install $DEB_PACKAGES"
    exit 1
  fi
  say "installing $DEB_PACKAGES"
  # shellcheck disable=SC2086  # DEB_PACKAGES is a word list on purpose
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $DEB_PACKAGES >&2; then
    say "apt-get install failed; running apt-get update and trying again"
    DEBIAN_FRONTEND=noninteractive apt-get update >&2 ||
      die "apt-get update failed: is the Debian archive reachable (network, proxy)?"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $DEB_PACKAGES >&2 ||
      die "apt-get install $DEB_PACKAGES failed (see above)"
  fi
  have_libfuzzer || die "clang still cannot link -fsanitize=fuzzer after installing $DEB_PACKAGES"
}

# --- build ----------------------------------------------------------------------------------------------

configure() {
  local cache="$BUILD_DIR/CMakeCache.txt"
  if [ -f "$cache" ] && ! grep -q '^CMAKE_C_COMPILER:.*clang' "$cache"; then
    die "$BUILD_DIR/ was configured with another compiler than clang: remove it (rm -rf $BUILD_DIR) and rerun"
  fi
  CC=clang cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCPOSE_FUZZ=ON >/dev/null ||
    die "cmake configure failed (are the build dependencies installed? bash scripts/setup.sh)"
}

# Prints the fuzz targets that the build defines (fuzz/CMakeLists.txt writes them), one per line.
built_targets() {
  tr ';' '\n' <"$BUILD_DIR/fuzz/targets.txt"
}

# --- run ------------------------------------------------------------------------------------------------

# The value of libFuzzer's final statistic $2 ("stat::$2: N") in log $1, or "?".
stat_of() {
  local v
  v=$(sed -n "s/^stat::$2: *\([0-9]*\).*/\1/p" "$1" | tail -n 1)
  echo "${v:-?}"
}

# Runs target $1 for $2 seconds; prints one summary line. Returns 1 when it crashed.
run_target() {
  local target=$1 seconds=$2 dir="$OUT_DIR/$1" binary="$BUILD_DIR/fuzz/$1"
  local -a args=()
  mkdir -p "$dir/corpus"
  local marker="$dir/.started"
  touch "$marker"
  args+=(-max_total_time="$seconds" -max_len="$(max_len "$target")" -rss_limit_mb="$RSS_LIMIT_MB")
  args+=(-timeout="$TIMEOUT_S" -print_final_stats=1 -artifact_prefix="$dir/")
  [ -f "fuzz/dict/$target.dict" ] && args+=(-dict="fuzz/dict/$target.dict")
  args+=("$dir/corpus")
  [ -d "fuzz/corpus/$target" ] && args+=("fuzz/corpus/$target")
  [ -d "fuzz/regressions/$target" ] && args+=("fuzz/regressions/$target")
  say "$target: fuzzing for $seconds s (log: $dir/fuzz.log)"
  local status=0
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}" \
    nice -n 19 "$binary" "${args[@]}" >"$dir/fuzz.log" 2>&1 || status=$?
  local execs rate units rss slowest
  execs=$(stat_of "$dir/fuzz.log" number_of_executed_units)
  slowest=$(stat_of "$dir/fuzz.log" slowest_unit_time_sec)
  rate=$(stat_of "$dir/fuzz.log" average_exec_per_sec)
  units=$(stat_of "$dir/fuzz.log" new_units_added)
  rss=$(stat_of "$dir/fuzz.log" peak_rss_mb)
  local -a found=()
  mapfile -t found < <(find "$dir" -maxdepth 1 -type f -newer "$marker" \
    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  rm -f "$marker"
  local line="$target: $execs execs ($rate/s), $units new inputs, slowest input $slowest s, peak RSS $rss MB"
  if [ "$status" -eq 72 ] && [ "${#found[@]}" -eq 0 ]; then # libFuzzer's exit status on SIGINT / SIGTERM
    echo "$line: interrupted, no crash"
    return 1
  fi
  if [ "$status" -ne 0 ] || [ "${#found[@]}" -gt 0 ]; then
    echo "$line: FAILED (exit status $status)${found[*]:+: ${found[*]}}"
    grep -m 3 -E '^==[0-9]+==ERROR|runtime error|FUZZ_CHECK failed|ERROR: libFuzzer' "$dir/fuzz.log" |
      sed 's/^/    /' || true
    return 1
  fi
  echo "$line: no crash"
}

main() {
  local target=${1:-all} seconds=${2:-$DEFAULT_SECONDS}
  case "$target" in -h | --help) usage ;; esac
  [ $# -le 2 ] || usage
  [[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { say "SECONDS must be a positive number, not '$seconds'"; usage; }
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  install_clang
  configure
  local -a targets=()
  mapfile -t targets < <(built_targets)
  if [ "$target" != all ]; then
    local t known=0
    for t in "${targets[@]}"; do [ "$t" = "$target" ] && known=1; done
    [ "$known" = 1 ] || die "unknown target '$target' (this build has: ${targets[*]})"
    targets=("$target")
  fi
  cmake --build "$BUILD_DIR" -j2 --target "${targets[@]}" >"$BUILD_DIR/fuzz-build.log" 2>&1 ||
    { tail -n 30 "$BUILD_DIR/fuzz-build.log" >&2; die "build failed (log: $BUILD_DIR/fuzz-build.log)"; }
  local failed=0
  for t in "${targets[@]}"; do
    run_target "$t" "$seconds" || failed=1
  done
  return "$failed"
}

main "$@"
