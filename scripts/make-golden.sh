#!/usr/bin/env bash
# make-golden.sh: regenerates the committed golden files in tests/golden/ with TensorFlow.js (cpu backend),
# the reference the C runtime is tested against. A developer tool: CI never runs it, the tests read the
# committed files.
#
#   bash scripts/make-golden.sh        (from any directory)
#
# Needs: scripts/setup.sh (models/, samples/), node + npm (scripts/tfjs-ref.sh installs TensorFlow.js once),
# ../shared/tools/tfjs-ref, and ImageMagick's `convert` (apt-get install imagemagick) to resize the photos.
# The resized photos are committed as raw RGB, so a different ImageMagick version only changes the inputs
# of a regeneration, never the agreement between an input and its outputs.
# Layout and input formula: tests/golden/README.md.
set -euo pipefail

readonly ME="make-golden.sh"
readonly GOLDEN="tests/golden"
readonly MODELS="movenet-lightning movenet-thunder centernet"
readonly BACKEND="cpu"
# The synthetic input, value(y, x, c) for y, x in [0, size) and c in {0, 1, 2}; tests/golden/README.md
# carries the same formula, and the C tests compute it rather than read a file.
readonly SYNTHETIC_FORMULA="(y*7 + x*13 + c*29) % 256"

say() { echo "$ME: $*" >&2; }
die() { say "error: $*"; exit 1; }

# Per-model settings: input side (square), input dtype, inputs, requested output nodes (comma-separated).
model_size() {
  case "$1" in
    movenet-lightning) echo 192 ;;
    movenet-thunder) echo 256 ;;
    centernet) echo 512 ;;
    *) die "unknown model $1" ;;
  esac
}
model_dtype() { case "$1" in movenet-*) echo int32 ;; *) echo float32 ;; esac; }
model_inputs() { case "$1" in movenet-*) echo "messi5 basketball1 synthetic" ;; *) echo "messi5 synthetic" ;; esac; }
model_outputs() {
  case "$1" in
    movenet-*) echo "StatefulPartitionedCall/Sigmoid,StatefulPartitionedCall/kpt_offset_0/conv2d_7/BiasAdd,Identity:0" ;;
    centernet) echo "tower_0/detections,tower_0/wh,tower_0/keypoints" ;;
  esac
}
# The sample file each photo input comes from.
photo_file() { case "$1" in messi5) echo samples/messi5.jpg ;; basketball1) echo samples/basketball1.png ;; esac; }

check_tools() {
  convert -version 2>/dev/null | grep -q ImageMagick ||
    die "needs ImageMagick's convert to resize the photos: apt-get install imagemagick"
  command -v node >/dev/null 2>&1 || die "node not found: run scripts/setup.sh"
}

# Stretches photo $1 to $2 x $2 and writes it as raw uint8 RGB, HWC, to $3.
make_rgb() {
  local photo=$1 size=$2 out=$3
  convert "$photo" -resize "${size}x${size}!" -colorspace sRGB -type TrueColor -depth 8 -strip "rgb:$out"
  [ "$(stat -c %s "$out")" -eq $((size * size * 3)) ] || die "$out: expected $((size * size * 3)) bytes"
}

# Writes the float32 LE input tfjs-ref reads, HWC (size, size, 3): from uint8 RGB file $3, or, when $3 is
# "synthetic", from SYNTHETIC_FORMULA.
make_f32_input() {
  local out=$1 size=$2 source=$3
  # shellcheck disable=SC2016  # the ${...} are JavaScript's
  node -e '
    const fs = require("fs");
    const [out, size, source] = [process.argv[1], Number(process.argv[2]), process.argv[3]];
    const f = new Float32Array(size * size * 3);
    if (source === "synthetic") {
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++)
          for (let c = 0; c < 3; c++) f[(y * size + x) * 3 + c] = (y * 7 + x * 13 + c * 29) % 256;
    } else {
      const u8 = fs.readFileSync(source);
      if (u8.length !== f.length) throw new Error(`${source}: ${u8.length} bytes, expected ${f.length}`);
      f.set(u8);
    }
    fs.writeFileSync(out, Buffer.from(f.buffer));' "$out" "$size" "$source"
}

# Rewrites tfjs-ref's manifest in output folder $1 so that it names repository paths instead of temporary
# ones, and keeps only channel 0 (person) of CenterNet's keypoint heatmaps [1,128,128,80] (5 MB).
finish_output() {
  local dir=$1 model=$2 input=$3 rgb=$4 package
  package=$(head -n 1 models/.human-models.stamp | cut -d' ' -f1)
  # shellcheck disable=SC2016  # the ${...} are JavaScript's
  node -e '
    const fs = require("fs"), path = require("path");
    const [dir, model, input, rgb, pkg, formula] = process.argv.slice(1);
    const mf = path.join(dir, "manifest.json");
    const m = JSON.parse(fs.readFileSync(mf, "utf8"));
    m.model = `models/${model}/model.json`;
    m.models_package = pkg;
    m.input = input === "synthetic" ? `synthetic: value(y,x,c) = ${formula}, uint8 HWC` : rgb;
    m.generated_by = "scripts/make-golden.sh";
    for (const o of m.outputs) {
      if (o.node !== "tower_0/keypoints") continue;
      const full = fs.readFileSync(path.join(dir, o.file));
      const src = new Float32Array(full.buffer, full.byteOffset, full.byteLength / 4);
      const [n, h, w, c] = o.shape;
      const dst = new Float32Array(n * h * w);
      for (let i = 0; i < dst.length; i++) dst[i] = src[i * c];
      fs.unlinkSync(path.join(dir, o.file));
      o.file = o.file.replace(/\.f32$/, ".person.f32");
      fs.writeFileSync(path.join(dir, o.file), Buffer.from(dst.buffer));
      o.full_shape = o.shape;
      o.shape = [n, h, w, 1];
      o.channels = [0];
    }
    fs.writeFileSync(mf, JSON.stringify(m, null, 1) + "\n");' \
    "$dir" "$model" "$input" "$rgb" "$package" "$SYNTHETIC_FORMULA"
}

# Makes tests/golden/<model>/<input>/ (and <input>.rgb for a photo) in temporary folder $3.
make_one() {
  local model=$1 input=$2 tmp=$3 size dtype rgb="" source=synthetic
  size=$(model_size "$model")
  dtype=$(model_dtype "$model")
  mkdir -p "$tmp/$model"
  if [ "$input" != synthetic ]; then
    rgb="$GOLDEN/$model/$input.rgb"
    source="$tmp/$model/$input.rgb"
    make_rgb "$(photo_file "$input")" "$size" "$source"
  fi
  make_f32_input "$tmp/input.f32" "$size" "$source"
  say "$model / $input"
  bash scripts/tfjs-ref.sh --model "models/$model/model.json" --input "$tmp/input.f32" \
    --shape "1,$size,$size,3" --dtype "$dtype" --outputs "$(model_outputs "$model")" \
    --out "$tmp/$model/$input" --backend "$BACKEND" 2>&1 |
    { grep -v -e '^=*$' -e 'tfjs-node' -e 'Hi, looks like' >&2 || true; }
  finish_output "$tmp/$model/$input" "$model" "$input" "$rgb"
}

main() {
  local model input
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  check_tools
  bash scripts/setup.sh >&2
  TMP_DIR=$(mktemp -d)
  trap 'rm -rf "$TMP_DIR"' EXIT
  for model in $MODELS; do
    for input in $(model_inputs "$model"); do make_one "$model" "$input" "$TMP_DIR"; done
  done
  # Replace the old files only once every model has succeeded.
  mkdir -p "$GOLDEN"
  for model in $MODELS; do
    rm -rf "${GOLDEN:?}/$model"
    mv "$TMP_DIR/$model" "$GOLDEN/$model"
  done
  say "wrote $(find "$GOLDEN" -type f | wc -l) files, $(du -sh --apparent-size "$GOLDEN" | cut -f1) in $GOLDEN"
}

main "$@"
