#!/usr/bin/env bash
# bench-ab.sh: compares the runtime's speed between git revisions on this machine, in the same minutes.
# Builds the CLI of each revision (Release, in a git worktree under out/bench-ab/), then times the models in
# rounds: each round runs every model at every thread count on every revision, one after the other, so that
# the machine's drift (a shared VM can change speed by 30% from one minute to the next) hits all revisions
# alike. Prints, per model and thread count, the middle value of the rounds' medians for each revision.
#
#   bash scripts/bench-ab.sh [--rounds N] [--runs N] [--models "a b"] REV [REV ...]   (from any directory)
#
# REV: anything git rev-parse takes (a7bfdf0, HEAD~2, main); "." is the working tree's own build/ (built here
# like scripts/bench.sh does). --rounds N: rounds (default 3); --runs N: timed inferences per median (default
# 30, centernet gets two thirds); --models: as scripts/bench.sh (default: all three). It prints numbers; it
# never passes or fails on time. Needs the models (bash scripts/setup.sh); each model's input is its golden
# photo in tests/golden/. Run it on an idle machine. The worktrees stay for the next run (remove one with
# git worktree remove out/bench-ab/<sha>).
set -euo pipefail

readonly ME="bench-ab.sh"
readonly WORK_DIR="out/bench-ab"

say() { echo "$ME: $*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
  echo "usage: bash scripts/bench-ab.sh [--rounds N] [--runs N] [--models \"a b\"] REV [REV ...]" >&2
  exit 2
}

ROUNDS=3
RUNS=30
MODELS="movenet-lightning movenet-thunder centernet"
REVS=()

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --rounds | --runs | --models)
        [ $# -ge 2 ] || { say "$1 needs a value"; usage; }
        case "$1" in
          --rounds) ROUNDS=$2 ;;
          --runs) RUNS=$2 ;;
          --models) MODELS=$2 ;;
        esac
        shift 2
        ;;
      -h | --help) usage ;;
      -*) say "unknown option '$1'"; usage ;;
      *) REVS+=("$1"); shift ;;
    esac
  done
  [[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer, not '$ROUNDS'"
  [[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, not '$RUNS'"
  [ "${#REVS[@]}" -gt 0 ] || { say "no revision given"; usage; }
}

# Prints "<dtype> <shape>" of model $1's input ("int32 1,256,256,3"), as cpose $2 reads it.
model_input() {
  "$2" model info "models/$1/model.json" | awk '$1 == "input" { gsub(/[][]/, "", $4); print $3, $4; exit }' |
    grep . || die "cpose model info printed no input for $1"
}

# Prints the path of the cpose CLI of revision $1, building it first.
build_rev() {
  local rev=$1 sha dir
  if [ "$rev" = . ]; then
    if ! cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null ||
      ! cmake --build build -j2 --target cpose_cli >&2; then
      die "the working tree does not build"
    fi
    echo "$PWD/build/cpose"
    return
  fi
  sha=$(git rev-parse --verify --quiet "$rev^{commit}") || die "'$rev' is not a revision of this repository"
  dir="$WORK_DIR/${sha:0:12}"
  if [ ! -d "$dir" ]; then
    git worktree add --detach --force "$dir" "$sha" >&2 || die "cannot check out $rev"
  fi
  ln -sfn "$PWD/models" "$dir/models"
  say "building $rev (${sha:0:12})"
  if ! cmake -S "$dir" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release >/dev/null ||
    ! cmake --build "$dir/build" -j2 --target cpose_cli >&2; then
    die "$rev does not build"
  fi
  echo "$PWD/$dir/build/cpose"
}

# Prints the median ms of cpose $1 on model $2, $3 threads: its golden photo, in the dtype and shape of
# INPUTS[$2].
median_ms() {
  local dtype shape runs out
  read -r dtype shape <<<"${INPUTS[$2]}"
  runs=$RUNS
  [ "$2" != centernet ] || runs=$((RUNS * 2 / 3 > 0 ? RUNS * 2 / 3 : 1))
  out=$("$1" model run "models/$2/model.json" --input-u8 "tests/golden/$2/messi5.rgb" --shape "$shape" \
    --dtype "$dtype" --out "$WORK_DIR/out" --threads "$3" --bench "$runs") || die "$1 failed on $2"
  out=$(tail -n 1 <<<"$out")
  [[ "$out" == median_ms=* ]] || die "$1 printed no median_ms for $2"
  echo "${out#median_ms=}"
}

# Prints the middle value of its arguments.
middle() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

main() {
  parse_args "$@"
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  mkdir -p "$WORK_DIR/out"
  local m rev i r t cli=() header="| model | threads |" rule="|---|---:|"
  for rev in "${REVS[@]}"; do
    cli+=("$(build_rev "$rev")")
    header+=" $rev ms |"
    rule+="---:|"
  done
  declare -gA INPUTS
  for m in $MODELS; do
    [ -f "tests/golden/$m/messi5.rgb" ] || die "tests/golden/$m/messi5.rgb is missing (no such model?)"
    [ -f "models/$m/model.json" ] || die "models/$m/model.json is missing: run bash scripts/setup.sh"
    INPUTS[$m]=$(model_input "$m" "${cli[0]}")
  done
  declare -A times
  for ((r = 1; r <= ROUNDS; r++)); do
    say "round $r of $ROUNDS"
    for m in $MODELS; do
      for t in 1 2; do
        for i in "${!REVS[@]}"; do
          times[$m,$t,$i]+=" $(median_ms "${cli[$i]}" "$m" "$t")"
        done
      done
    done
  done
  echo
  echo "$header"
  echo "$rule"
  for m in $MODELS; do
    for t in 1 2; do
      local row="| $m | $t |"
      for i in "${!REVS[@]}"; do
        # shellcheck disable=SC2086 # the rounds' medians, space-separated
        row+=" $(middle ${times[$m,$t,$i]}) |"
      done
      echo "$row"
    done
  done
  echo
  echo "Middle of $ROUNDS rounds' medians ($RUNS runs each after 3 warm-ups, centernet two thirds), input" \
    "messi5, the revisions interleaved within each round. CPU: $(nproc) cores," \
    "$(date -u '+%Y-%m-%d %H:%M UTC')."
}

main "$@"
