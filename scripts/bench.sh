#!/usr/bin/env bash
# bench.sh: the runtime benchmark. Sets up, builds the CLI (Release, like scripts/test.sh), then times each
# model on its messi5 golden input with cpose (1 and 2 threads) and with TensorFlow.js's wasm backend, and
# prints a Markdown table to paste into the README. It prints numbers; it never passes or fails on time.
#
#   bash scripts/bench.sh [--runs N] [--models "movenet-lightning centernet"] [--no-tfjs]   (from any directory)
#
# --runs N    timed inferences per measurement after 3 warm-ups (default 50; centernet gets half of them)
# --models    which models to time (default: movenet-lightning movenet-thunder centernet)
# --no-tfjs   skip TensorFlow.js; its columns read n/a (they also do when ../shared/tools/tfjs-ref is missing)
#
# TF.js 4.22.0's wasm backend runs on one thread under Node (measured: user time = wall time), so the speed-up
# column compares it with cpose on two. Progress goes to stderr; stdout holds only the table and the lines
# under it. Run it on an idle machine: it warns when other processes took CPU time while it was timing.
set -euo pipefail

readonly ME="bench.sh"
readonly BUILD_DIR="build"
readonly CPOSE="$BUILD_DIR/cpose"
readonly ALL_MODELS="movenet-lightning movenet-thunder centernet"

say() { echo "$ME: $*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
  echo "usage: bash scripts/bench.sh [--runs N] [--models \"a b\"] [--no-tfjs]" >&2
  exit 2
}

# Options, set by parse_args.
RUNS=50
MODELS="$ALL_MODELS"
TFJS=1
TMP_DIR=""
PEAK=n/a # set by main

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --runs)
        [ $# -ge 2 ] || { say "--runs needs a value"; usage; }
        RUNS=$2
        shift 2
        ;;
      --models)
        [ $# -ge 2 ] || { say "--models needs a value"; usage; }
        MODELS=$2
        shift 2
        ;;
      --no-tfjs) TFJS=0; shift ;;
      -h | --help) usage ;;
      *) say "unknown argument '$1'"; usage ;;
    esac
  done
  [[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, not '$RUNS'"
  local m
  for m in $MODELS; do
    model_spec "$m" >/dev/null || die "unknown model '$m' (known: $ALL_MODELS)"
  done
  [ -n "${MODELS// /}" ] || die "--models names no model"
}

# Prints "<input side> <input dtype>" of model $1; fails for an unknown model.
model_spec() {
  case "$1" in
    movenet-lightning) echo "192 int32" ;;
    movenet-thunder) echo "256 int32" ;;
    centernet) echo "512 float32" ;;
    *) return 1 ;;
  esac
}

# Prints the timed runs for model $1: centernet, the slowest model, gets half of them.
model_runs() {
  if [ "$1" = centernet ]; then echo $(((RUNS + 1) / 2)); else echo "$RUNS"; fi
}

build() {
  bash scripts/setup.sh >&2 # its summary line too: stdout is for the table only
  # CPOSE_WERROR is passed, as scripts/test.sh does, so a cached value from an earlier run does not linger.
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCPOSE_WERROR=OFF >&2 || die "cmake configure failed"
  cmake --build "$BUILD_DIR" -j2 --target cpose_cli bench_peak >&2 || die "build failed"
}

# Prints the machine's float32 peak GFLOP/s on 2 threads (bench/bench_peak.c: FMA chains on the widest
# vectors), or n/a where it cannot measure it.
peak_gflops() {
  "$BUILD_DIR/bench/bench_peak" 2 2>/dev/null | awk -F= '/^threads=2 / { print $3 }' | grep . || echo n/a
}

# Writes the uint8 HWC image $1 as float32 little-endian values 0..255 to $2 (cpose's and tfjs-ref's input).
make_input() {
  node -e 'const fs = require("fs");
    fs.writeFileSync(process.argv[2], Buffer.from(Float32Array.from(fs.readFileSync(process.argv[1])).buffer));' \
    "$1" "$2"
}

# Prints the value of line "<key> <value> ..." of `cpose model info` output $2, with "(" stripped.
info_field() {
  awk -v key="$1" '$1 == key { v = $2; if (key == "flops") v = $3; sub(/^\(/, "", v); print v; exit }' <<<"$2"
}

# Prints cpose's median ms for: model $1, input file $2, shape $3, dtype $4, threads $5, runs $6.
cpose_median() {
  local out line
  out=$("$CPOSE" model run "models/$1/model.json" --input "$2" --shape "$3" --dtype "$4" \
    --out "$TMP_DIR/$1-cpose-$5" --threads "$5" --bench "$6") || die "cpose model run failed for $1 ($5 threads)"
  line=$(tail -n 1 <<<"$out")
  [[ "$line" == median_ms=* ]] || die "cpose model run printed no median_ms for $1: '$line'"
  echo "${line#median_ms=}"
}

# Prints TF.js wasm's median ms (model $1, input $2, shape $3, dtype $4, runs $5), or n/a when it is skipped.
tfjs_median() {
  local out="$TMP_DIR/$1-tfjs" rc=0
  if [ "$TFJS" = 0 ]; then echo "n/a"; return; fi
  bash scripts/tfjs-ref.sh --model "models/$1/model.json" --input "$2" --shape "$3" --dtype "$4" \
    --out "$out" --backend wasm --bench "$5" >/dev/null || rc=$?
  if [ "$rc" = 77 ]; then echo "n/a"; return; fi # no ../shared/tools/tfjs-ref
  [ "$rc" = 0 ] || die "scripts/tfjs-ref.sh failed for $1 (exit $rc)"
  node -e 'const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    if (typeof m.benchMedianMs !== "number") process.exit(1);
    console.log(m.benchMedianMs.toFixed(3));' "$out/manifest.json" ||
    die "$out/manifest.json has no benchMedianMs"
}

# Prints a/b with $3 decimals, or n/a when either is n/a.
ratio() {
  if [ "$1" = n/a ] || [ "$2" = n/a ]; then echo "n/a"; return; fi
  LC_ALL=C awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { printf "%.*f\n", d, a / b }'
}

# Times model $1 and prints its table row.
bench_model() {
  local m=$1 side dtype runs shape input info gflop arena ms1 ms2 tfjs_ms rate
  read -r side dtype < <(model_spec "$m")
  runs=$(model_runs "$m")
  shape="1,$side,$side,3"
  input="$TMP_DIR/$m.f32"
  [ -f "tests/golden/$m/messi5.rgb" ] || die "tests/golden/$m/messi5.rgb is missing"
  make_input "tests/golden/$m/messi5.rgb" "$input"
  info=$("$CPOSE" model info "models/$m/model.json" --shape "$shape") || die "cpose model info failed for $m"
  gflop=$(info_field flops "$info")
  arena=$(info_field arena_bytes "$info")
  if [ -z "$gflop" ] || [ -z "$arena" ]; then die "cpose model info printed no flops or arena_bytes for $m"; fi
  say "$m: cpose, 1 thread, $runs runs"
  ms1=$(cpose_median "$m" "$input" "$shape" "$dtype" 1 "$runs")
  say "$m: cpose, 2 threads, $runs runs"
  ms2=$(cpose_median "$m" "$input" "$shape" "$dtype" 2 "$runs")
  [ "$TFJS" = 0 ] || say "$m: TensorFlow.js wasm, $runs runs"
  tfjs_ms=$(tfjs_median "$m" "$input" "$shape" "$dtype" "$runs")
  rate=$(ratio "$gflop" "$(ratio "$ms2" 1000 6)" 1)
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$m" "$gflop" "$ms1" "$ms2" "$rate" \
    "$(ratio "$(ratio "$rate" "$PEAK" 4)" 0.01 0)" "$tfjs_ms" "$(ratio "$tfjs_ms" "$ms2" 2)" \
    "$(ratio "$arena" 1048576 1)"
}

# Prints "<busy jiffies> <total jiffies>" summed over all CPUs, from /proc/stat.
cpu_jiffies() {
  awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}

# Prints the CPU jiffies used so far by this shell's finished children (the benchmark processes), from
# /proc/$$/stat's cutime and cstime (fields 16 and 17; the name in field 2 may hold spaces).
own_jiffies() {
  awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$$/stat"
}

# Prints "<busy jiffies> <total jiffies> <own jiffies>", a snapshot for other_load.
cpu_snapshot() { echo "$(cpu_jiffies) $(own_jiffies)"; }

# Prints how much of all CPUs' time (%) processes other than this benchmark took between snapshots $1 and $2.
# The medians mean little when it is not near 0; the 2-thread ones collapse when one of two cores is taken.
other_load() {
  local b0 t0 o0 b1 t1 o1 percent
  read -r b0 t0 o0 <<<"$1"
  read -r b1 t1 o1 <<<"$2"
  percent=$((((b1 - b0) - (o1 - o0)) * 100 / (t1 - t0 + 1)))
  echo $((percent < 0 ? 0 : percent))
}

cleanup() { [ -z "$TMP_DIR" ] || rm -rf "$TMP_DIR"; }

main() {
  local start=$SECONDS m cpu rows="" before model_before load
  parse_args "$@"
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  build
  TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cpose-bench.XXXXXX")
  trap cleanup EXIT
  say "measuring the machine's peak (bench_peak)"
  PEAK=$(peak_gflops)
  before=$(cpu_snapshot)
  # Rows are collected first so that the table prints in one piece after the progress messages.
  for m in $MODELS; do
    model_before=$(cpu_snapshot)
    rows+=$(bench_model "$m")$'\n'
    load=$(other_load "$model_before" "$(cpu_snapshot)")
    [ "$load" -lt 5 ] ||
      say "warning: other processes took ${load}% of the CPUs while timing $m: its numbers are skewed"
  done
  load=$(other_load "$before" "$(cpu_snapshot)")
  cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  echo
  echo "| model | GFLOP | cpose 1 thread ms | cpose 2 threads ms | GFLOP/s (2 threads) | % of peak | TF.js wasm ms |" \
    "speed-up | arena MiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s' "$rows"
  echo
  echo "Median of $RUNS runs (centernet $(model_runs centernet)) after 3 warm-ups, input messi5;" \
    "speed-up = TF.js wasm ms (SIMD, one thread under Node) / cpose 2 threads ms;" \
    "arena = planned intermediate memory (cpose model info);" \
    "peak = ${PEAK} GFLOP/s, the float32 FMA peak of 2 threads measured by bench/bench_peak." \
    "CPU: ${cpu:-unknown} ($(nproc) cores), $(date -u '+%Y-%m-%d %H:%M UTC'); other processes took ${load}% of it."
  say "done in $((SECONDS - start)) s"
}

main "$@"
