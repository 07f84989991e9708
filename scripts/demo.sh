#!/usr/bin/env bash
# demo.sh: installs what is missing, builds cpose and runs its main job on a bundled photo and video.
#
#   bash scripts/demo.sh           the photo, then the video (about a minute on two cores)
#   bash scripts/demo.sh photo     the photo only
#   bash scripts/demo.sh video     the video only
#
# Both come from Debian's opencv-doc (copied by scripts/setup.sh). samples/messi5.jpg: a footballer with a
# crowd behind him; cpose writes out/demo/alphapose-results.json and out/demo/vis/messi5.jpg (the photo with
# skeletons drawn). samples/vtest.avi: people walking in a street (768x576, 795 frames); cpose tracks them
# (--pose-track --fast) and writes out/demo-video/alphapose-results.json (idx = track id) and
# out/demo-video/AlphaPose_vtest.mp4 (skeletons and ids drawn, one colour per person).
set -euo pipefail

readonly ME="demo.sh"
readonly BUILD_DIR="build"
readonly OUT_DIR="out/demo"
readonly PHOTO="samples/messi5.jpg"
readonly VIDEO="samples/vtest.avi"
readonly VIDEO_OUT_DIR="out/demo-video"

say() { echo "$ME: $*" >&2; }

build() {
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null || { say "cmake configure failed"; exit 1; }
  cmake --build "$BUILD_DIR" -j2 --target cpose_cli >/dev/null || { say "build failed"; exit 1; }
}

# Prints the best person's keypoints from the results file (node is installed by scripts/setup.sh).
# shellcheck disable=SC2016 # the single quotes hold JavaScript, not shell
show_best_person() {
  node -e '
    const names = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
      "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
      "right_knee", "left_ankle", "right_ankle"];
    const people = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    if (!people.length) { console.log("no person found"); process.exit(0); }
    const p = people[0];
    console.log(`best person: score ${p.score.toFixed(3)}, box [${p.box.map((v) => v.toFixed(0)).join(", ")}]`);
    console.log("keypoint            x       y  score");
    names.forEach((n, k) => console.log(n.padEnd(15) + p.keypoints[3 * k].toFixed(1).padStart(7) +
      p.keypoints[3 * k + 1].toFixed(1).padStart(8) + p.keypoints[3 * k + 2].toFixed(2).padStart(7)));
  ' "$OUT_DIR/alphapose-results.json"
}

run_photo() {
  say "$BUILD_DIR/cpose --image $PHOTO --outdir $OUT_DIR --save-img --profile"
  "$BUILD_DIR/cpose" --image "$PHOTO" --outdir "$OUT_DIR" --save-img --profile
  show_best_person
  say "results: $OUT_DIR/alphapose-results.json; picture: $OUT_DIR/vis/messi5.jpg"
}

run_video() {
  say "$BUILD_DIR/cpose --video $VIDEO --outdir $VIDEO_OUT_DIR --pose-track --fast --save-video --profile"
  "$BUILD_DIR/cpose" --video "$VIDEO" --outdir "$VIDEO_OUT_DIR" --pose-track --fast --save-video --profile
  say "results: $VIDEO_OUT_DIR/alphapose-results.json; video: $VIDEO_OUT_DIR/AlphaPose_vtest.mp4"
}

main() {
  local what="${1:-all}"
  case "$what" in
    all | photo | video) ;;
    *) echo "usage: bash scripts/demo.sh [photo | video]" >&2; exit 2 ;;
  esac
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  bash scripts/setup.sh
  build
  if [ "$what" != video ]; then run_photo; fi
  if [ "$what" != photo ]; then run_video; fi
}

main "$@"
