#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check_oclgrind.sh RACE_CHECK: the GPU variant of every kernel under
# Oclgrind's simulated device, with the limits of GPUs that are not here,
# on every op's small test cases (tests/race_check.c), with both
# accumulators. Oclgrind checks each launch for out-of-bounds accesses
# (always on), misuse of the API (--check-api) and, by pass, data races
# (--data-races) or uninitialised values (--uninitialized); any report fails
# the check, as does a wrong result.
# The kernels are built with -DCLNORM_NO_INLINE: Oclgrind 21.10 (Debian 12)
# cannot run the noalias intrinsics that inlining leaves behind
# (kernels/clnorm_common.cl). Its uninitialised-value pass also needs
# -cl-opt-disable (it rejects LLVM 14's `freeze` instruction, which the
# optimiser emits) and buffers primed by race_check (RACE_PRIME_BUFFERS:
# it hands a released buffer's shadow to the next buffer of its index);
# unoptimised, it runs on the cases of up to 300 elements (every class).
# Skipped (exit 77) without oclgrind.
set -euo pipefail
race_check=${1:?usage: check_oclgrind.sh RACE_CHECK}
if ! command -v oclgrind >/dev/null; then
    echo "check_oclgrind: no oclgrind: skipped"
    exit 77
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail=0
# name, compute units, local memory, largest work-group, accumulator, check,
# largest case (elements)
while read -r name units local wg acc check most; do
    : >"$log"
    start=$(date +%s)
    build=-DCLNORM_NO_INLINE prime=
    if [ "$check" = uninitialized ]; then
        build="$build -cl-opt-disable" prime=1024
    fi
    if ! CLNORM_VARIANT=gpu CLNORM_ACCUMULATE=$acc CLNORM_CACHE_DIR=off RACE_MAX_ELEMENTS=$most \
        RACE_PRIME_BUFFERS=$prime oclgrind --build-options "$build" --check-api "--$check" \
        --compute-units "$units" --local-mem-size "$local" --max-wgsize "$wg" \
        --log "$log" "$race_check" >"$log.out" 2>&1; then
        echo "check_oclgrind: $name $acc $check: race_check failed"
        tail -20 "$log.out"
        fail=1
    fi
    if [ -s "$log" ]; then
        echo "check_oclgrind: $name $acc $check: Oclgrind reported:"
        head -40 "$log"
        fail=1
    fi
    echo "check_oclgrind: $name ($units CUs, $local B local, work-groups <= $wg), $acc," \
        "$check: $(grep -o '[0-9]* cases, [0-9]* failures' "$log.out" || echo 'no summary')," \
        "$(($(date +%s) - start)) s"
    rm -f "$log.out"
done <<'PROFILES'
H200 132 49152 1024 fp64 data-races 4096
H200 132 49152 1024 float-float data-races 4096
RadeonRX7900 96 65536 1024 float-float data-races 4096
H200 132 49152 1024 float-float uninitialized 300
H200 132 49152 1024 fp64 uninitialized 300
PROFILES
exit "$fail"
