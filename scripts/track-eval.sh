#!/usr/bin/env bash
# track-eval.sh: tracking accuracy on ../shared/data/bonn-posetrack-060470979 (41 frames of one video, 4 people
# with ground-truth track ids): runs the pipeline with --pose-track on the frames, then `cpose eval --track`,
# which prints COCO keypoint AP over the frames and the CLEAR MOT numbers (MOTA, ID switches, false and
# missed tracks; a person matches a result when their OKS over the labelled joints is above 0.5).
#
#   bash scripts/track-eval.sh [-- CPOSE OPTIONS]      e.g. -- --fast --detect-every 3
#
# Results go to out/track-eval/. When ../shared/data is absent (a fresh clone) it says so and exits 0.
set -euo pipefail

readonly ME="track-eval.sh"
readonly BUILD_DIR="build"
readonly CPOSE="$BUILD_DIR/cpose"
readonly DATA="../shared/data/bonn-posetrack-060470979"
readonly OUT="out/track-eval"

say() { echo "$ME: $*" >&2; }
die() { say "error: $*"; exit 1; }

cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then
  [ "$1" = "--" ] || { echo "usage: bash scripts/track-eval.sh [-- CPOSE OPTIONS]" >&2; exit 2; }
  shift
fi
if [ ! -d "$DATA" ]; then
  say "$DATA is absent (it comes with the project's shared data, not with a clone): nothing to evaluate"
  exit 0
fi
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCPOSE_WERROR=OFF >/dev/null || die "cmake configure failed (run scripts/setup.sh first?)"
cmake --build "$BUILD_DIR" -j2 --target cpose_cli >/dev/null || die "build failed"
rm -rf "$OUT"
say "cpose --indir $DATA/images --pose-track $*"
"$CPOSE" --indir "$DATA/images" --outdir "$OUT" --pose-track "$@"
"$CPOSE" eval --gt "$DATA/annotations_coco17.json" --dt "$OUT/alphapose-results.json" --track
