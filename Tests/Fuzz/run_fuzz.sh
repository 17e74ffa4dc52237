#!/usr/bin/env bash
# Builds weakspot-fuzz with libFuzzer + AddressSanitizer and fuzzes one target for SECONDS.
#   Tests/Fuzz/run_fuzz.sh TARGET SECONDS [extra libFuzzer flags...]
# TARGET: onnx graph npy png inflate jpeg ppm report plan cli checkpoint (docs/reliability.md).
# Seeds: Fixtures/fuzz/TARGET (committed, read-only here). Working corpus (seeds + finds):
# .build/fuzz/corpus/TARGET. Crash/timeout/oom inputs: .build/fuzz/artifacts/TARGET/.
# One line per run is appended to Tests/Fuzz/results.tsv:
#   utc-date target seconds executions exec/s coverage(edges) features corpus-size outcome cpu-seconds
# (seconds is wall time; cpu-seconds what the fuzzer process used, less on a shared machine).
# Exit code: 0 clean run, 1 libFuzzer found a crash/leak/timeout/oom, 2 usage.
set -euo pipefail
cd "$(dirname "$0")/../.."
targets="onnx graph npy png inflate jpeg ppm report plan cli checkpoint"
target="${1:-}"; seconds="${2:-}"
if [[ -z "$target" || -z "$seconds" || " $targets " != *" $target "* ]]; then
    echo "usage: $0 TARGET SECONDS [libFuzzer flags]   (TARGET: $targets)" >&2; exit 2
fi
shift 2

scratch=.build/fuzz
# libFuzzer's instrumentation (what -sanitize=fuzzer sets) plus ASan, and libFuzzer without its
# main: SwiftPM links the module's @main as `main`, which calls LLVMFuzzerRunDriver.
fuzzer_lib="$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")/lib/clang"
fuzzer_lib=$(ls "$fuzzer_lib"/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a | head -1)
swift build -c release --product weakspot-fuzz --scratch-path "$scratch/build" \
    -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
    -Xswiftc -DWEAKSPOT_LIBFUZZER \
    -Xlinker --whole-archive -Xlinker "$fuzzer_lib" -Xlinker --no-whole-archive -Xlinker -lstdc++ >&2
binary="$scratch/build/release/weakspot-fuzz"

corpus="$scratch/corpus/$target"; artifacts="$scratch/artifacts/$target"; log="$scratch/logs/$target-$(date -u +%Y%m%dT%H%M%S).log"
mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
seeds="Fixtures/fuzz/$target"

# -timeout: an input taking over 10 s is a hang (issue 8). -rss_limit_mb: a parser must not
# allocate in proportion to sizes a file only declares. -max_len: seeds are a few KB.
set +e
cpufile=$(mktemp)
WEAKSPOT_FUZZ_TARGET="$target" /usr/bin/time -f '%U %S' -o "$cpufile" "$binary" "$corpus" "$seeds" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "$@" 2>&1 | tee "$log" | grep -E "INITED|DONE|ERROR|SUMMARY|==[0-9]+==|Test unit written" >&2
status=${PIPESTATUS[0]}
set -e

executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
last=$(grep -E '^#[0-9]+' "$log" | tail -1)
coverage=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
features=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
corpus_size=$(ls "$corpus" | wc -l)
outcome=clean; [[ $status -ne 0 ]] && outcome="found(exit $status, see $log)"
cpu=$(awk 'END { printf "%.0f", $1 + $2 }' "$cpufile" 2>/dev/null || echo "?"); rm -f "$cpufile"
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$target" "$seconds" "${executions:-?}" \
    "${rate:-?}" "${coverage:-?}" "${features:-?}" "$corpus_size" "$outcome" "${cpu:-?}" | tee -a Tests/Fuzz/results.tsv
[[ $status -eq 0 ]] || exit 1
