#!/usr/bin/env bash
# eval.sh: COCO keypoint AP / AR on the development set, ../shared/data/coco-val-dev, computed as
# pycocotools' COCOeval does (`cpose eval`).
#
#   bash scripts/eval.sh [-- CPOSE OPTIONS]     run the pipeline on the set's images and print the table
#   bash scripts/eval.sh --results RESULTS.json evaluate a results file
#   bash scripts/eval.sh --self-check           check the evaluator itself
#
# The first form runs `cpose --indir <images> --format coco` with the given options (e.g. -- --fast --flip)
# and writes its results to out/eval/. RESULTS.json: COCO results ([{image_id, category_id, keypoints,
# score}, ...]) or AlphaPose's JSON. The self-check: results written from the ground truth must score AP 1
# (as COCO results and in AlphaPose's format), and a copy with every keypoint moved a little must score less.
# When ../shared/data is absent (a fresh clone) it says so and exits 0. Needs node for the self-check.
set -euo pipefail

readonly ME="eval.sh"
readonly BUILD_DIR="build"
readonly CPOSE="$BUILD_DIR/cpose"
readonly GT="../shared/data/coco-val-dev/annotations.json"
TMP_DIR=""

say() { echo "$ME: $*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
  echo "usage: bash scripts/eval.sh [-- CPOSE OPTIONS] | --results RESULTS.json | --self-check" >&2
  exit 2
}

build() {
  # CPOSE_WERROR is passed, as scripts/test.sh does, so a cached value from an earlier run does not linger.
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCPOSE_WERROR=OFF >/dev/null ||
    die "cmake configure failed (run scripts/setup.sh first?)"
  cmake --build "$BUILD_DIR" -j2 --target cpose_cli >/dev/null || die "build failed"
}

# Writes results made from ground truth $1 to $2: every person that counts (not crowd, with keypoints),
# found exactly when $3 is 0, else with each keypoint moved by up to $3 x sqrt(area) in x and y (a fixed
# pseudo-random sequence, so the numbers repeat). $4 = names: image_id is the file name, as AlphaPose writes.
make_results() {
  node -e '
    const fs = require("fs");
    const [gtPath, outPath, noiseText, form] = process.argv.slice(1);
    const gt = JSON.parse(fs.readFileSync(gtPath, "utf8"));
    const names = new Map(gt.images.map((im) => [im.id, im.file_name]));
    const noise = Number(noiseText);
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const results = gt.annotations
      .filter((a) => !a.iscrowd && a.num_keypoints > 0)
      .map((a) => {
        const r = noise * Math.sqrt(a.area);
        const keypoints = a.keypoints.map((v, i) => (i % 3 === 2 ? 1 : v + (noise ? (2 * random() - 1) * r : 0)));
        const image_id = form === "names" ? names.get(a.image_id) : a.image_id;
        return { image_id, category_id: a.category_id, keypoints, score: noise ? random() : 1 };
      });
    fs.writeFileSync(outPath, JSON.stringify(results));
  ' "$1" "$2" "$3" "$4"
}

# Evaluates results $2 (described by $1) and prints cpose's lines; the JSON line stays in $TMP_DIR/out.
evaluate() {
  echo "== $1"
  "$CPOSE" eval --gt "$GT" --dt "$2" --json >"$TMP_DIR/out" || die "cpose eval failed on $1"
  head -n -1 "$TMP_DIR/out"
}

# The AP of the last evaluation.
last_ap() {
  tail -n 1 "$TMP_DIR/out" | sed -E 's/.*"AP": ([^,]*),.*/\1/'
}

self_check() {
  local form ap
  TMP_DIR=$(mktemp -d)
  trap 'rm -rf "$TMP_DIR"' EXIT
  for form in ids names; do
    make_results "$GT" "$TMP_DIR/perfect-$form.json" 0 "$form"
    evaluate "results written from the ground truth (image_id: $form)" "$TMP_DIR/perfect-$form.json"
    ap=$(last_ap)
    [ "$ap" = 1 ] || die "results written from the ground truth scored AP $ap, not 1"
  done
  make_results "$GT" "$TMP_DIR/noisy.json" 0.05 ids
  evaluate "the same with every keypoint moved by up to 5% of the person's size" "$TMP_DIR/noisy.json"
  ap=$(last_ap)
  LC_ALL=C awk -v ap="$ap" 'BEGIN { exit !(ap > 0 && ap < 1) }' || die "noisy results scored AP $ap"
  say "ok: results written from the ground truth score AP 1, a noisy copy $ap"
}

# Runs the pipeline with options "$@" on the set's images and evaluates its results.
run_pipeline() {
  local out="out/eval"
  mkdir -p "$out"
  "$CPOSE" --indir "$(dirname "$GT")/images" --outdir "$out" --format coco "$@" ||
    die "cpose failed on some images (see above)"
  "$CPOSE" eval --gt "$GT" --dt "$out/alphapose-results.json"
}

main() {
  local mode="pipeline" results=""
  case "${1:-}" in
    -h | --help) usage ;;
    --self-check) mode="self-check"; shift ;;
    --results) [ $# -eq 2 ] || usage; mode="results"; results=$(realpath -m -- "$2"); shift 2 ;;
    --) shift ;;
    "") ;;
    *) usage ;;
  esac
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  if [ ! -f "$GT" ]; then
    say "$GT is not here (no ../shared/data): nothing to evaluate"
    exit 0
  fi
  build
  case "$mode" in
    results)
      [ -f "$results" ] || die "$results: no such file"
      "$CPOSE" eval --gt "$GT" --dt "$results"
      ;;
    self-check)
      command -v node >/dev/null 2>&1 || die "the self-check needs node (scripts/setup.sh installs it)"
      self_check
      ;;
    pipeline) run_pipeline "$@" ;;
  esac
}

main "$@"
