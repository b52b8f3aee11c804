#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh: builds the libFuzzer targets with clang in their own build dir, then fuzzes each for a while.
#   bash fuzz/run.sh [SECONDS] [npy|safetensors ...]
# SECONDS (default 60) bounds each target's run; the targets (default: both)
# run in parallel, one core each. The first step replays tests/regressions/.
# New corpus inputs go to $FUZZ_BUILD_DIR/corpus/<target> (fuzz/corpus/ holds
# only the small seeds and is never written); crashes go to
# fuzz/artifacts/<target>/ and make the script fail. Logs: $FUZZ_BUILD_DIR/<target>.log.
set -euo pipefail

cd "$(dirname "$0")/.."
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(npy safetensors)
build=${FUZZ_BUILD_DIR:-build-fuzz}
case "$secs" in '' | *[!0-9]*) echo "run.sh: SECONDS must be a whole number" >&2; exit 2 ;; esac

# The library still configures (it needs OpenCL headers); only the fuzz targets are built.
cmake -S . -B "$build" -DCMAKE_C_COMPILER="${CC_FUZZ:-clang}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCLNORM_FUZZ=ON -DCLNORM_BUILD_TESTS=OFF -DCLNORM_BUILD_TOOLS=OFF -DCLNORM_SANITIZE= \
    >/dev/null
cmake --build "$build" -j2 --target $(printf 'fuzz_%s ' "${targets[@]}")

# Longest input: room for a header and a few small tensors; longer inputs
# mostly make the data region bigger, which exercises nothing new.
max_len() { case "$1" in npy) echo 1024 ;; safetensors) echo 2048 ;; esac; }
prefix() { case "$1" in npy) echo npy ;; safetensors) echo st ;; esac; }

pids=()
for t in "${targets[@]}"; do
    [ -n "$(max_len "$t")" ] || { echo "run.sh: unknown target '$t'" >&2; exit 2; }
    bin="$build/fuzz/fuzz_$t"
    mkdir -p "fuzz/artifacts/$t" "$build/corpus/$t"
    # Regression inputs first: each must run cleanly under the sanitizers.
    shopt -s nullglob
    regs=(tests/regressions/"$(prefix "$t")"-*)
    shopt -u nullglob
    if [ ${#regs[@]} -gt 0 ]; then
        "$bin" -runs=1 "${regs[@]}" >"$build/$t.replay.log" 2>&1 ||
            { echo "run.sh: a regression input fails, see $build/$t.replay.log" >&2; exit 1; }
    fi
    echo "fuzzing $t for ${secs}s (log: $build/$t.log)"
    "$bin" "$build/corpus/$t" "fuzz/corpus/$t" -dict="fuzz/$t.dict" -max_len="$(max_len "$t")" \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="fuzz/artifacts/$t/" >"$build/$t.log" 2>&1 &
    pids+=($!)
done

status=0
for i in "${!pids[@]}"; do
    t=${targets[$i]}
    if wait "${pids[$i]}"; then r=ok; else r="FAILED (see fuzz/artifacts/$t/)"; status=1; fi
    echo "== $t: $r"
    grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb|new_units_added)' \
        "$build/$t.log" || true
done
exit $status
