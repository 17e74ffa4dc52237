#!/usr/bin/env bash
# SIGKILLs a checkpointed profile N times at random moments, resuming each time, and checks that
# every report the resumed runs finish with equals the uninterrupted run's (without "timing").
#   Tests/Fault/kill_resume_loop.sh N [MODEL [DATA]]
# Defaults: Fixtures/models/tiny_mobilenet.onnx on synthetic:48:3, batch 6, 2 threads.
# A kill lands at a uniform random time in [0, T) after the start, T = the uninterrupted run's
# wall time; a run that finishes first is compared too, then the loop starts a fresh run
# (checkpoint removed) so that every kill interrupts real work. Uses .build/release/weakspot
# (swift build -c release --product weakspot) and jq. Exit code 0 when every comparison matched.
set -euo pipefail
cd "$(dirname "$0")/../.."
kills_wanted="${1:?usage: $0 N [MODEL [DATA]]}"
model="${2:-Fixtures/models/tiny_mobilenet.onnx}"
data="${3:-synthetic:48:3}"
binary=.build/release/weakspot
[[ -x "$binary" ]] || { echo "build first: swift build -c release --product weakspot" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/ws-killloop.XXXXXX")
trap 'rm -rf "$work"' EXIT
common=(profile "$model" --data "$data" --batch 6 --threads 2 --quiet)
strip() { jq -S 'del(.timing)' "$1"; }

start=$(date +%s.%N)
"$binary" "${common[@]}" -o "$work/whole.json" >/dev/null
whole_seconds=$(echo "$(date +%s.%N) - $start" | bc)
strip "$work/whole.json" > "$work/whole.stripped"
echo "uninterrupted run: ${whole_seconds} s"

kills=0; finished=0; matched=0; mismatched=0; attempts=0
compare() {
    if cmp -s <(strip "$work/resumed.json") "$work/whole.stripped"; then matched=$((matched + 1))
    else mismatched=$((mismatched + 1)); cp "$work/resumed.json" "mismatch-$(date +%s).json"; echo "MISMATCH (kept in $PWD)" >&2; fi
    rm -f "$work/resumed.json" "$work/run.ckpt"
}
while (( kills < kills_wanted )); do
    attempts=$((attempts + 1))
    "$binary" "${common[@]}" -o "$work/resumed.json" --checkpoint "$work/run.ckpt" --resume >/dev/null 2>"$work/err" &
    pid=$!
    delay=$(awk -v t="$whole_seconds" -v r="$RANDOM" 'BEGIN { printf "%.3f", t * r / 32768 }')
    sleep "$delay"
    if kill -KILL "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null || true
        if [[ -f "$work/resumed.json" ]]; then finished=$((finished + 1)); compare  # finished just before the kill
        else kills=$((kills + 1)); fi
    else
        wait "$pid" || { echo "run failed:" >&2; cat "$work/err" >&2; exit 1; }
        finished=$((finished + 1)); compare
    fi
done
# The last kill's run, resumed to the end.
"$binary" "${common[@]}" -o "$work/resumed.json" --checkpoint "$work/run.ckpt" --resume >/dev/null
finished=$((finished + 1)); compare
echo "kills: $kills, runs started: $attempts, reports finished: $finished, equal to uninterrupted: $matched, different: $mismatched"
[[ $mismatched -eq 0 ]]
