#!/usr/bin/env bash
# demo.sh: installs what is missing, builds cpose and runs its main job on a bundled input.
#
#   bash scripts/demo.sh      (from any directory)
#
# At this stage the main job is the runtime: MoveNet Thunder on a photo of a footballer (messi5.jpg from
# Debian's opencv-doc, stretched to 256x256 and committed as tests/golden/movenet-thunder/messi5.rgb).
# It prints the 17 COCO keypoints the model finds, and writes every output tensor to out/demo/.
set -euo pipefail

readonly ME="demo.sh"
readonly BUILD_DIR="build"
readonly OUT_DIR="out/demo"
readonly KEYPOINTS=(nose left_eye right_eye left_ear right_ear left_shoulder right_shoulder left_elbow
  right_elbow left_wrist right_wrist left_hip right_hip left_knee right_knee left_ankle right_ankle)

say() { echo "$ME: $*" >&2; }

build() {
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null || { say "cmake configure failed"; exit 1; }
  cmake --build "$BUILD_DIR" -j2 --target cpose_cli >/dev/null || { say "build failed"; exit 1; }
}

# Runs the model and prints "name  x  y  score" per keypoint, in pixels of the 256x256 input.
run_model() {
  local rows
  rows=$("$BUILD_DIR/cpose" model run models/movenet-thunder/model.json \
    --input-u8 tests/golden/movenet-thunder/messi5.rgb --shape 1,256,256,3 --dtype int32 \
    --outputs Identity:0 --out "$OUT_DIR" --print | tail -n 17)
  printf '%-15s %7s %7s %6s\n' keypoint x y score
  local i=0 y x score
  while read -r y x score; do
    awk -v n="${KEYPOINTS[$i]}" -v y="$y" -v x="$x" -v s="$score" \
      'BEGIN { printf "%-15s %7.1f %7.1f %6.2f\n", n, x * 256, y * 256, s }'
    i=$((i + 1))
  done <<<"$rows"
}

main() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  bash scripts/setup.sh
  build
  say "MoveNet Thunder on tests/golden/movenet-thunder/messi5.rgb (256x256):"
  run_model
  say "all output tensors: $OUT_DIR/ (manifest.json, *.f32)"
}

main "$@"
