#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check_oclgrind.sh RACE_CHECK: the GPU variant of every kernel under
# Oclgrind's simulated device, with the limits of GPUs that are not here,
# on every op's small test cases (tests/race_check.c), with both
# accumulators. Oclgrind checks each launch for data races (--data-races),
# out-of-bounds accesses (always on) and misuse of the API (--check-api);
# any report fails the check, as does a wrong result.
# The kernels are built with -DCLNORM_NO_INLINE: Oclgrind 21.10 (Debian 12)
# cannot run the noalias intrinsics that inlining leaves behind
# (kernels/clnorm_common.cl). Its --uninitialized check is not used: it
# rejects LLVM 14's `freeze` instruction at the kernels' optimisation level.
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
# name, compute units, local memory, largest work-group, accumulator
while read -r name units local wg acc; do
    : >"$log"
    start=$(date +%s)
    if ! CLNORM_VARIANT=gpu CLNORM_ACCUMULATE=$acc CLNORM_CACHE_DIR=off RACE_MAX_ELEMENTS=4096 \
        oclgrind --build-options -DCLNORM_NO_INLINE --check-api --data-races \
        --compute-units "$units" --local-mem-size "$local" --max-wgsize "$wg" \
        --log "$log" "$race_check" >"$log.out" 2>&1; then
        echo "check_oclgrind: $name $acc: race_check failed"
        tail -20 "$log.out"
        fail=1
    fi
    if [ -s "$log" ]; then
        echo "check_oclgrind: $name $acc: Oclgrind reported:"
        head -40 "$log"
        fail=1
    fi
    echo "check_oclgrind: $name ($units CUs, $local B local, work-groups <= $wg), $acc:" \
        "$(grep -o '[0-9]* cases, [0-9]* failures' "$log.out" || echo 'no summary'), $(($(date +%s) - start)) s"
    rm -f "$log.out"
done <<'PROFILES'
H200 132 49152 1024 fp64
H200 132 49152 1024 float-float
RadeonRX7900 96 65536 1024 float-float
PROFILES
exit "$fail"
