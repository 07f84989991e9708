#!/usr/bin/env bash
# bench-video.sh: end-to-end speed and memory of the main job on video. Runs cpose with --pose-track on
# samples/vtest.avi (768x576, 795 frames, from Debian's opencv-doc) in four configurations -- the default
# and --fast, each with JSON only and with the drawn video written -- and prints frames per second and
# peak resident memory per run, then the peak memory of --fast on a 10x longer input (the same video
# concatenated ten times with FFmpeg's concat demuxer), which stays flat when the pipeline streams.
#
#   bash scripts/bench-video.sh [--frames-x10] [--threads N]
#
# It prints numbers; it never passes or fails on time. Run it on an idle machine (2 cores: anything else
# running takes a core from the networks). Results go to out/bench-video/.
set -euo pipefail

readonly ME="bench-video.sh"
readonly BUILD_DIR="build"
readonly CPOSE="$BUILD_DIR/cpose"
readonly VIDEO="samples/vtest.avi"
readonly OUT="out/bench-video"

say() { echo "$ME: $*" >&2; }
die() { say "error: $*"; exit 1; }

LONG=0
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --frames-x10) LONG=1 ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a value"; EXTRA+=(--threads "$2"); shift ;;
    *) echo "usage: bash scripts/bench-video.sh [--frames-x10] [--threads N]" >&2; exit 2 ;;
  esac
  shift
done

cd "$(dirname "$0")/.."
[ -f "$VIDEO" ] || die "$VIDEO is missing: run bash scripts/setup.sh"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCPOSE_WERROR=OFF >/dev/null || die "cmake configure failed"
cmake --build "$BUILD_DIR" -j2 --target cpose_cli >/dev/null || die "build failed"
mkdir -p "$OUT"

# run NAME INPUT OPTIONS...: prints "NAME  frames  fps  peak MiB".
run() {
  local name="$1" input="$2"
  shift 2
  local log="$OUT/$name.log"
  /usr/bin/time -f "peak_kib=%M" "$CPOSE" --video "$input" --outdir "$OUT/$name" --pose-track --profile \
    "${EXTRA[@]}" "$@" >"$log" 2>&1 || die "cpose failed, see $log"
  local frames fps peak
  frames=$(sed -n 's/^profile: \([0-9]*\) frames.*/\1/p' "$log")
  fps=$(sed -n 's/^profile: .* ms total, \([0-9.]*\) frames\/s.*/\1/p' "$log")
  peak=$(sed -n 's/^peak_kib=//p' "$log")
  printf '| %-28s | %6s | %6s | %6.0f |\n' "$name" "$frames" "$fps" "$((peak / 1024))"
}

echo "| run (--pose-track on $VIDEO)   | frames |    fps | peak MiB |"
echo "|------------------------------|--------|--------|----------|"
run default-json "$VIDEO"
run default-video "$VIDEO" --save-video
run fast-json "$VIDEO" --fast
run fast-video "$VIDEO" --fast --save-video
if [ "$LONG" = 1 ]; then
  # The concat demuxer takes only plain relative names: a link beside the list.
  ln -sf ../../"$VIDEO" "$OUT/vtest.avi"
  { echo "ffconcat version 1.0"; for _ in 1 2 3 4 5 6 7 8 9 10; do echo "file vtest.avi"; done; } >"$OUT/vtest-x10.ffconcat"
  run fast-json-x10 "$OUT/vtest-x10.ffconcat" --fast
fi
