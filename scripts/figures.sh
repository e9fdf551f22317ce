#!/usr/bin/env bash
# Produces every figure that the README's Performance section quotes, in one run, with the
# commit and the machine's load printed beside them. Each figure is a ratio measured in this
# run: mfq against `cat` of the same files, the default flush policy against none, `mfq bench`
# against a minimal program on the public API (examples/cross_process.rs). Runs alternate
# (A, B, A, B, ...) and the medians are compared, so a machine that slows down for a while
# slows both sides. Nothing here asserts a time: it prints, and the README is pasted from it.
#
#   scripts/figures.sh                # about 5 minutes on 2 cores
#   ROUNDS=3 N=1000000 scripts/figures.sh   # quicker, noisier
#
# Environment: ROUNDS (alternations, default 5), N (64-byte records, default 4,000,000),
# FIGURES_DIR (scratch folder, default a new one under $TMPDIR or /tmp, removed at the end),
# CARGO_TARGET_DIR (where the binaries are built), MFQ_BIN (measure this mfq binary instead of
# building one: the way to print the figures of an older commit, e.g. before and after a change).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

ROUNDS=${ROUNDS:-5}
N=${N:-4000000}
N4K=${N4K:-50000}
target=${CARGO_TARGET_DIR:-target}
if [[ -n ${MFQ_BIN:-} ]]; then
  MFQ=$(realpath "$MFQ_BIN")
else
  cargo build -q --release --bin mfq --examples
  MFQ=$PWD/$target/release/mfq
fi
EXAMPLE=$PWD/$target/release/examples/cross_process
if [[ -n ${FIGURES_DIR:-} ]]; then
  DIR=$FIGURES_DIR
  mkdir -p "$DIR"
else
  DIR=$(mktemp -d "${TMPDIR:-/tmp}/mfq-figures.XXXXXX")
  trap 'rm -rf "$DIR"' EXIT
fi

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "# mfq figures"
if [[ -n ${MFQ_BIN:-} ]]; then
  echo "commit:  the binary given in MFQ_BIN (this script from $(git describe --always --dirty))"
else
  echo "commit:  $(git describe --always --dirty) ($(git log -1 --format=%cs))"
fi
echo "binary:  $MFQ ($("$MFQ" --version))"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), linux $(uname -r)"
echo "load:    $(load) at the start (1, 5, 15 min averages)"
echo "rounds:  $ROUNDS alternations, medians; N=$N records of 63-64 bytes"
echo

# --- helpers -------------------------------------------------------------------------------

# Seconds (microsecond resolution) that the command takes; its output goes where it says.
secs() {
  local s=$EPOCHREALTIME
  "$@" || true
  local e=$EPOCHREALTIME
  awk -v s="$s" -v e="$e" 'BEGIN { printf "%.6f", e - s }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); if (NR % 2) print v[m]; else printf "%.6f\n", (v[m] + v[m + 1]) / 2 }'; }
ms() { awk -v t="$1" 'BEGIN { printf "%.1f ms", t * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
offset_of() { od -An -t d8 "$1" | tr -d ' '; }
files_bytes() { stat -c %s "$1"/commitlog/* | awk '{ s += $1 } END { print s }'; }
quiet() { "$@" >/dev/null 2>&1; }
peak_rss_kib() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

# Rows of the summary table printed at the end.
summary=()
row() { summary+=("| $1 | $2 | $3 |"); }

# --- inputs --------------------------------------------------------------------------------

lines64=$DIR/lines64.txt
lines4k=$DIR/lines4k.txt
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "message-%055d\n", i }' > "$lines64"
pad=$(head -c 4084 /dev/zero | tr '\0' x)
awk -v n="$N4K" -v pad="$pad" 'BEGIN { for (i = 0; i < n; i++) printf "%010d.%s\n", i, pad }' > "$lines4k"

# --- 1. produce: the default flush policy against none ------------------------------------

echo "## 1. produce: default policy (flush every 1000) against none (--flush-every 1000000000)"
produce_run() { # SOURCE(file|pipe) INPUT POLICY(default|none)
  local store=$DIR/produce-store extra=()
  rm -rf "$store"
  [[ $3 == none ]] && extra=(--flush-every 1000000000)
  if [[ $1 == file ]]; then
    "$MFQ" produce --format stream --segment-size 256MiB "$store" --file "$2" "${extra[@]}" >/dev/null 2>&1
  else
    cat "$2" | "$MFQ" produce --format stream --segment-size 256MiB "$store" "${extra[@]}" >/dev/null 2>&1
  fi
}
for size in 64 4096; do
  input=$lines64
  [[ $size == 4096 ]] && input=$lines4k
  for source in file pipe; do
    d=() n=() first=""
    for ((r = 0; r <= ROUNDS; r++)); do
      a=$(secs produce_run "$source" "$input" default)
      b=$(secs produce_run "$source" "$input" none)
      if ((r == 0)); then first="$(ms "$a") / $(ms "$b")"; continue; fi
      d+=("$a") n+=("$b")
    done
    md=$(median "${d[@]}") mn=$(median "${n[@]}")
    echo "produce ${size}B from a $source: default $(ms "$md"), none $(ms "$mn"): default/none = $(ratio "$md" "$mn") (target <= 1.20); first round (fresh process and files, not counted): $first"
    row "produce, ${size}-byte messages from a $source: default policy / no policy" "$(ratio "$md" "$mn")x the time" "<= 1.2x"
  done
done
rm -rf "$DIR/produce-store"
echo

# --- 2. consume and tail against cat ---------------------------------------------------------

echo "## 2. consume and tail against cat of the same segment files (64 MiB segments)"
echo "ratio = (data bytes / mfq time) / (segment file bytes / cat time)"
"$MFQ" produce --format stream --segment-size 64MiB "$DIR/stream" --file "$lines64" --flush-every 1000000000 >/dev/null 2>&1
"$MFQ" produce --format fixed --record-size 63 --segment-size 64MiB "$DIR/fixed" --file "$lines64" --flush-every 1000000000 >/dev/null 2>&1
cat_files() { cat "$1"/commitlog/* >/dev/null; }
cat_pipe() { cat "$1"/commitlog/* | cat >/dev/null; }
consume_to() { # STORE MODE PIPE
  "$MFQ" adjust-offset "$1" consumer earliest >/dev/null 2>&1
  local s=$EPOCHREALTIME
  if [[ $3 == pipe ]]; then
    "$MFQ" consume "$1" -n all --output "$2" | cat >/dev/null
  else
    "$MFQ" consume "$1" -n all --output "$2" >/dev/null
  fi
  local e=$EPOCHREALTIME
  awk -v s="$s" -v e="$e" 'BEGIN { printf "%.6f", e - s }'
}
tail_to() { # STORE MODE PIPE
  if [[ $3 == pipe ]]; then
    "$MFQ" tail "$1" -e --output "$2" | cat >/dev/null
  else
    "$MFQ" tail "$1" -e --output "$2" >/dev/null
  fi
}
for format in stream fixed; do
  store=$DIR/$format
  data=$(offset_of "$store/offset/producer.offset")
  bytes=$(files_bytes "$store")
  for case in "consume raw file" "tail raw file" "consume json file" "tail json file" \
    "consume raw pipe" "tail raw pipe" "consume json pipe" "tail json pipe"; do
    read -r cmd mode sink <<<"$case"
    c=() m=()
    for ((r = 0; r < ROUNDS; r++)); do
      if [[ $sink == pipe ]]; then c+=("$(secs cat_pipe "$store")"); else c+=("$(secs cat_files "$store")"); fi
      if [[ $cmd == consume ]]; then
        m+=("$(consume_to "$store" "$mode" "$sink")")
      else
        m+=("$(secs tail_to "$store" "$mode" "$sink")")
      fi
    done
    mc=$(median "${c[@]}") mm=$(median "${m[@]}")
    r=$(awk -v d="$data" -v tm="$mm" -v b="$bytes" -v tc="$mc" 'BEGIN { printf "%.2f", (d / tm) / (b / tc) }')
    target=0.60
    [[ $mode == json ]] && target=0.30
    where="> /dev/null"
    [[ $sink == pipe ]] && where="| cat"
    echo "$format $cmd --output $mode $where: mfq $(ms "$mm") for $data bytes, cat $(ms "$mc") for $bytes bytes: ratio $r (target >= $target)"
    row "$cmd --output $mode $where, $format" "$r of cat" ">= $target"
  done
done
echo

# --- 3. recovery scans -----------------------------------------------------------------------

echo "## 3. recover --check and --dry-run against cat, peak resident memory"
for seg in 64MiB 256MiB; do
  for format in stream fixed; do
    store=$DIR/rec-$format-$seg
    fmt=(--format stream)
    [[ $format == fixed ]] && fmt=(--format fixed --record-size 63)
    "$MFQ" produce "${fmt[@]}" --segment-size "$seg" "$store" --file "$lines64" --flush-every 1000000000 >/dev/null 2>&1
    cp -r "$store" "$store-noprod"
    rm "$store-noprod/offset/producer.offset"
    bytes=$(files_bytes "$store")
    c=() k=() y=() p=()
    for ((r = 0; r < ROUNDS; r++)); do
      c+=("$(secs cat_files "$store")")
      k+=("$(secs quiet "$MFQ" recover --check "$store")")
      y+=("$(secs quiet "$MFQ" recover --dry-run "$store")")
      p+=("$(secs quiet "$MFQ" recover --check "$store-noprod")")
    done
    mc=$(median "${c[@]}") mk=$(median "${k[@]}") my=$(median "${y[@]}") mp=$(median "${p[@]}")
    rss=$(peak_rss_kib "$MFQ" recover --check "$store")
    rss_noprod=$(peak_rss_kib "$MFQ" recover --check "$store-noprod")
    echo "$format, $seg segments ($bytes bytes of files): cat $(ms "$mc"); recover --check $(ms "$mk") = $(ratio "$mc" "$mk") of cat; --dry-run $(ms "$my") = $(ratio "$mc" "$my") of cat; check without producer.offset $(ms "$mp") = $(ratio "$mp" "$mk") of a check with it; peak RSS $((rss / 1024)) MiB ($((rss_noprod / 1024)) MiB without producer.offset)"
    row "recover --check, $format, $seg segments" "$(ratio "$mc" "$mk") of cat, $((rss / 1024)) MiB peak RSS" ">= 0.6, <= 64 MiB"
    row "recover --check without producer.offset, $format, $seg segments" "$(ratio "$mp" "$mk")x the time of a check with it" "a fraction"
    rm -rf "$store" "$store-noprod"
  done
done
echo

echo "load:    $(load) at the end"
echo
echo "| figure | measured | target |"
echo "|---|---|---|"
printf '%s\n' "${summary[@]}"
