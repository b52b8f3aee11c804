#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check_format.sh SOURCE_DIR: every C and OpenCL C file git tracks is as
# clang-format (the project's .clang-format) leaves it. Skipped (exit 77)
# without clang-format or outside a git checkout.
set -euo pipefail
cd "${1:?usage: check_format.sh SOURCE_DIR}"
fmt=$(command -v clang-format || command -v clang-format-14 || true)
if [ -z "$fmt" ] || ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "check_format: no clang-format or no git checkout: skipped"
    exit 77
fi
bad=0 files=0
while IFS= read -r f; do
    files=$((files + 1))
    if ! "$fmt" --style=file "$f" | cmp -s - "$f"; then
        echo "check_format: $f is not as clang-format leaves it (clang-format -i $f)"
        bad=$((bad + 1))
    fi
done < <(git ls-files '*.c' '*.h' '*.cl')
echo "check_format: $files files, $bad to format"
[ "$bad" -eq 0 ]
