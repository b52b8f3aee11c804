#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check_consumers.sh: clnorm as other projects use it. Installs the build into
# a prefix, MOVES the prefix (nothing may depend on where it was installed),
# then builds and runs a find_package(clnorm) consumer on OpenCL 3.0 headers,
# a plain-cc consumer through pkg-config, an add_subdirectory consumer, and
# the installed tool.
#   bash tools/scripts/check_consumers.sh [BUILD_DIR]      (ctest runs it as `consumers`)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/clnorm-consumers.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
step() { printf 'check_consumers: %s\n' "$*"; }

step "install into $scratch/installed, then move it to $scratch/moved"
cmake --install "$build" --prefix "$scratch/installed" >/dev/null
mv "$scratch/installed" "$scratch/moved"
prefix=$scratch/moved
libdir=$(dirname "$(find "$prefix" -name 'libclnorm.so.0' | head -n 1)")
[ -n "$libdir" ] || { echo "check_consumers: no libclnorm.so.0 installed" >&2; exit 1; }
[ -f "$prefix/share/doc/clnorm/LICENSE" ] || { echo "check_consumers: LICENSE not installed" >&2; exit 1; }
[ -f "$prefix/share/man/man1/clnorm.1" ] || { echo "check_consumers: man page not installed" >&2; exit 1; }
# Consumers find the library at run time through the loader's path, as an
# application installed beside it would through its own RUNPATH.
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

step "find_package(clnorm) consumer, OpenCL 3.0 calls"
cmake -S "$root/tests/consumers/find_package" -B "$scratch/cmake" \
    -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$scratch/cmake" >/dev/null
"$scratch/cmake/consumer_cmake"

step "pkg-config consumer (plain cc)"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046 # the flags are words
cc -std=c99 -Wall -Werror -o "$scratch/consumer_pkgconfig" "$root/tests/consumers/consumer.c" \
    $(pkg-config --cflags --libs clnorm) -lm
"$scratch/consumer_pkgconfig"

step "add_subdirectory consumer (tests and tool off by default)"
cmake -S "$root/tests/consumers/subproject" -B "$scratch/sub" -DCLNORM_SOURCE_DIR="$root" >/dev/null
cmake --build "$scratch/sub" -j "$(nproc)" >/dev/null
"$scratch/sub/consumer_subproject"

step "the installed tool finds its library through its RUNPATH"
env -u LD_LIBRARY_PATH "$prefix/bin/clnorm" --version
env -u LD_LIBRARY_PATH "$prefix/bin/clnorm" devices >/dev/null
step "all consumers built and ran"
