#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# gpu_check.sh: clnorm on a GPU machine that has an NVIDIA driver and
# nothing else (no OpenCL packages, no build tools), in two steps.
#
#   bash tools/scripts/gpu_check.sh prepare [DIR]
#       Here, on Debian 12 with the build's packages (tools/scripts/dev.sh):
#       builds the library, the tool and the numeric checks into DIR
#       (default build-gpu), and puts in DIR/lib what a bare machine lacks:
#       the OpenCL ICD loader and the libraries clnorm links (CLBlast,
#       cmocka, cJSON), taken from their Debian packages (apt-get download,
#       else the installed packages' files). Carry DIR to the GPU machine.
#   bash tools/scripts/gpu_check.sh run [DIR]
#       There: finds the driver's libnvidia-opencl.so.1, registers it with
#       the ICD loader through OCL_ICD_VENDORS (an .icd file in a folder of
#       its own), lists the devices, runs every op's numeric check on the
#       GPU (test_ops: every input family, both accumulators, both kernel
#       shapes) and the accumulator's choice (test_accumulate, which prints
#       the measured fp64 rate), then `clnorm bench --json` with both
#       accumulators on the default shapes and, with --large, on
#       VarianceNorm2d's and RevIN BDL's. Writes the logs and JSON to $OUT
#       (else DIR/results). About 4 minutes on an H100.
#
# GPU_CHECK_ICD=/path/to/lib.so runs against another OpenCL driver instead
# (PoCL's libpocl.so.2 here, to try the script without a GPU);
# GPU_CHECK_QUICK=1 benches --quick shapes only.
set -euo pipefail
cd "$(dirname "$0")/../.."
step=${1:?usage: gpu_check.sh prepare|run [DIR]}
dir=${2:-build-gpu}

prepare() {
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$dir" -j "$(nproc)" --target clnorm clnorm_tool test_ops test_accumulate
    local lib="$dir/lib" work
    mkdir -p "$lib"
    work=$(mktemp -d)
    for pkg in ocl-icd-libopencl1 libclblast1 libcmocka0 libcjson1; do
        if (cd "$work" && apt-get download "$pkg" >/dev/null 2>&1); then
            dpkg-deb -x "$work"/"$pkg"_*.deb "$work/root"
        else # offline: the same files from the installed package
            dpkg -L "$pkg" | grep '\.so' | while read -r f; do
                [ -e "$f" ] && mkdir -p "$work/root$(dirname "$f")" && cp -a "$f" "$work/root$f"
            done
        fi
    done
    find "$work/root" -name '*.so*' -exec cp -a {} "$lib/" \;
    rm -rf "$work"
    cp -a "$dir"/libclnorm.so* "$lib/" # the build's RPATH names this machine's folder
    ls "$lib"
    echo "gpu_check: prepared $dir ($(du -sh "$dir" | cut -f1)); carry it, then: gpu_check.sh run $dir"
}

# The driver's OpenCL library: under the driver's folders, newest first.
find_driver() {
    if [ -n "${GPU_CHECK_ICD:-}" ]; then
        echo "$GPU_CHECK_ICD"
        return
    fi
    local found
    found=$(find /usr/lib /usr/lib64 /usr/local /opt -name 'libnvidia-opencl.so.1' 2>/dev/null |
        head -1 || true)
    [ -n "$found" ] || found=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl.so.1/{print $NF; exit}')
    [ -n "$found" ] || { echo "gpu_check: no libnvidia-opencl.so.1 under the driver's folders" >&2; exit 1; }
    echo "$found"
}

run() {
    local out=${OUT:-$dir/results} icd vendors start
    mkdir -p "$out"
    icd=$(find_driver)
    vendors=$(mktemp -d)
    echo "$icd" >"$vendors/gpu_check.icd"
    export OCL_ICD_VENDORS=$vendors
    export LD_LIBRARY_PATH="$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export CLNORM_CACHE_DIR="$out/cache"
    [ -n "${GPU_CHECK_ICD:-}" ] || export CLNORM_DEVICE=gpu
    local tool="$dir/tools/clnorm" fail=0
    step() { # step NAME SECONDS COMMAND...: logged, timed, never hangs
        local name=$1 limit=$2
        shift 2
        start=$(date +%s)
        if timeout "$limit" "$@" >"$out/$name.log" 2>&1; then
            echo "gpu_check: $name passed ($(($(date +%s) - start)) s)"
        else
            echo "gpu_check: $name FAILED ($(($(date +%s) - start)) s):"
            tail -15 "$out/$name.log"
            fail=1
        fi
    }
    echo "gpu_check: driver $icd"
    step devices 60 "$tool" devices
    cat "$out/devices.log"
    step test_accumulate 120 "$dir/tests/test_accumulate"
    grep '^# fp64 rate' "$out/test_accumulate.log" || true
    step test_ops 300 "$dir/tests/test_ops"
    local quick=()
    [ -z "${GPU_CHECK_QUICK:-}" ] || quick=(--quick)
    for acc in fp64 float-float; do
        step "bench-$acc" 300 "$tool" bench "${quick[@]}" --repeat 11 --no-startup \
            --accumulate "$acc" --json "$out/bench-$acc.json"
        [ -n "${GPU_CHECK_QUICK:-}" ] ||
            for only in varnorm2d revin:bdl; do
                step "bench-large-${only%%:*}-$acc" 300 "$tool" bench --large --only "$only" \
                    --repeat 5 --no-startup --accumulate "$acc" \
                    --json "$out/bench-large-${only%%:*}-$acc.json"
            done
    done
    grep -h -A200 '^op ' "$out"/bench-*.log | grep -v '^--$' || true
    rm -rf "$vendors"
    echo "gpu_check: results in $out"
    return "$fail"
}

case $step in
prepare) prepare ;;
run) run ;;
*) echo "usage: gpu_check.sh prepare|run [DIR]" >&2; exit 2 ;;
esac
