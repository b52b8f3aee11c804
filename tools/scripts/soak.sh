#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# soak.sh: N forwards (default 100000) of every layer in one process, printing
# host memory (RSS) and live OpenCL objects as it goes: both must stay flat.
# Not part of CI (it takes minutes). Needs a build: bash tools/scripts/dev.sh test.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build}
cmake --build "$build" --target soak >/dev/null
exec "$build/tests/soak" "${1:-100000}"
