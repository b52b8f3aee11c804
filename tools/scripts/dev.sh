#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dev.sh: install what is missing (Debian 12), build, then run the demo or the
# whole test suite.
#   bash tools/scripts/dev.sh demo   # set-up, build, `clnorm demo` on the default device
#   bash tools/scripts/dev.sh test   # set-up, build, every test (ctest), the Python package's
#                                    # tests (pytest, python/), then tools/scripts/check.sh
# BUILD_DIR (default: build) and BUILD_TYPE (default: RelWithDebInfo) may be set.
set -euo pipefail

cd "$(dirname "$0")/../.."
what=${1:-demo}
case "$what" in
demo | test) ;;
*)
    echo "usage: bash tools/scripts/dev.sh demo|test" >&2
    exit 2
    ;;
esac

# Debian packages: compiler and build tools, the OpenCL ICD loader and headers
# (never a vendor library), PoCL as the CPU device, cmocka for the tests,
# cJSON for safetensors headers, CLBlast for the Linear layers' products, NumPy
# for the .npy cross-checks.
packages=(gcc make cmake pkg-config ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd
    libcmocka-dev libcjson-dev libclblast-dev python3-numpy)
# The test run also goes through valgrind (tools/scripts/check.sh), doxygen (the
# API reference is checked for undocumented symbols, tests/check_docs.sh),
# clang (every kernel file compiles on its own, tests/check_kernels.sh), oclgrind
# (the GPU kernels checked for races and out-of-bounds accesses,
# tests/check_oclgrind.sh) and
# clang-format (tests/check_format.sh); the Python package (python/) is
# installed into a virtual environment and tested with pytest against
# PyTorch and pyopencl.
# The demo also draws the real-data forecast's plot (matplotlib).
if [ "$what" = demo ]; then
    packages+=(python3-matplotlib)
fi
if [ "$what" = test ]; then
    packages+=(valgrind oclgrind doxygen clang clang-format python3-venv python3-pip python3-pytest
        python3-pyopencl python3-torch)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "dev.sh: installing ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y "${missing[@]}"
fi

build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}"
cmake --build "$build" -j "$(nproc)"

if [ "$what" = demo ]; then
    # every layer on generated data, then a real trained RLinear forecaster
    # (tools/scripts/forecast_demo.py) against PyTorch's output, with its plot
    "$build/tools/clnorm" demo
    echo
    exec /usr/bin/python3 tools/scripts/forecast_demo.py --clnorm "$build/tools/clnorm" \
        --png "$build/forecast.png"
fi
# The suite, then the reliability checks on the same build: ASan/UBSan,
# PoCL's work-group methods, valgrind and TSan (tools/scripts/check.sh).
(cd "$build" && ctest --output-on-failure)
# The Python package, installed offline (no index, Debian's setuptools) into a
# virtual environment that sees Debian's numpy, pyopencl and torch, tested
# with this build's library and program cache (run from the top directory, so
# that the tests import the installed package, not python/clnorm).
build_abs=$(cd "$build" && pwd)
venv="$build_abs/venv"
[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$venv"
PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet \
    --no-build-isolation ./python
CLNORM_LIBRARY="$build_abs/libclnorm.so" CLNORM_CACHE_DIR="$build_abs/tests/cache" \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests
BUILD_DIR="$build" exec bash tools/scripts/check.sh
