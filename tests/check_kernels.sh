#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check_kernels.sh KERNELS_DIR: every file in kernels/ compiles on its own
# (each includes what it uses), for each specialisation the host builds:
# fp64 accumulation on and off, every vector width, the GPU shape's
# interleaved items and the CPU shape's unaligned stores; and as OpenCL C
# 1.1 (the host passes -cl-std=CL1.2 only to devices of 1.2 or later), at
# the narrowest and widest vectors.
# clang -x cl -cl-std=CL1.x -fsyntax-only; skipped (exit 77) without clang.
set -euo pipefail
dir=${1:?usage: check_kernels.sh KERNELS_DIR}
clang=$(command -v clang || command -v clang-14 || true)
if [ -z "$clang" ]; then
    echo "check_kernels: no clang: skipped"
    exit 77
fi
fail=0 runs=0
for f in "$dir"/*.cl; do
    for std in CL1.2 CL1.1; do
        widths="1 2 4 8 16"
        [ "$std" = CL1.2 ] || widths="1 16"
        for fp64 in 0 1; do
            for vw in $widths; do
                for shape in "-DCLNORM_INTERLEAVE=1 -DWG=64 -DMAXC=64" \
                    "-DCLNORM_INTERLEAVE=0 -DWG=16 -DMAXC=256 -DCLNORM_UNALIGNED_VECTORS=1"; do
                    runs=$((runs + 1))
                    # shellcheck disable=SC2086 # $shape is a list of defines
                    if ! out=$("$clang" -x cl -cl-std=$std -fsyntax-only -Werror -I "$dir" \
                        -DCLNORM_FP64=$fp64 -DVW=$vw $shape "$f" 2>&1); then
                        echo "FAILED: $(basename "$f") $std fp64=$fp64 VW=$vw $shape"
                        echo "$out" | head -20
                        fail=$((fail + 1))
                    fi
                done
            done
        done
    done
done
echo "check_kernels: $runs compiles, $fail failed"
[ "$fail" -eq 0 ]
