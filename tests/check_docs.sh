#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check_docs.sh: the documentation tells the truth about the code.
#   tests/check_docs.sh SOURCE_DIR BUILD_DIR CLNORM_TOOL
# 1. doxygen over the public header with warnings as errors: an undocumented
#    public symbol fails;
# 2. every environment variable the library, the tool or the Python package
#    reads (getenv, os.environ) is in
#    the README's table of environment variables, and the table names none it
#    does not read;
# 3. every long option that a subcommand's --help shows is in the man page;
# 4. the licence goes with the code: LICENSE is Apache-2.0, every source,
#    build and script file has its SPDX line, the pkg-config file and the
#    changelog say what they must, and the header says who releases a
#    forward's event.
set -euo pipefail
src=$1 build=$2 tool=$3
fail=0
bad() { echo "check_docs: $*" >&2; fail=1; }

if command -v doxygen >/dev/null; then
    out="$build/api"
    mkdir -p "$out"
    if ! (cd "$src" && CLNORM_API_DOCS_DIR="$out" doxygen Doxyfile >"$out/doxygen.log" 2>&1); then
        cat "$out/doxygen.log" >&2
        bad "doxygen reports undocumented or badly documented public symbols (above)"
    fi
else
    bad "doxygen is not installed (tools/scripts/dev.sh test installs it)"
fi

# The C code's getenv("X") and the Python package's and tests' os.environ.get("X") / ["X"].
read_vars=$({
    grep -rhoE 'getenv\("[A-Z_]+"\)' "$src/src" "$src/tools" | sed -E 's/getenv\("([A-Z_]+)"\)/\1/'
    grep -rhoE --include='*.py' 'os\.environ(\.get\(|\[)"[A-Z_]+"' "$src/python/clnorm" "$src/python/tests" |
        sed -E 's/.*"([A-Z_]+)"$/\1/'
} | sort -u || true)
# The README's table: the section "## Environment variables", rows "| `NAME` | ...".
table=$(awk '/^## Environment variables/{on=1; next} /^## /{on=0} on' "$src/README.md" |
    grep -oE '^\| `[A-Z_]+`' | tr -d '|` ' | sort -u || true)
[ -n "$table" ] || bad "README.md has no '## Environment variables' table"
for v in $read_vars; do
    grep -qx "$v" <<<"$table" || bad "README.md's environment table lacks $v (read by the code)"
done
for v in $table; do
    grep -qx "$v" <<<"$read_vars" || bad "README.md's environment table names $v, which nothing reads"
done

man="$src/docs/clnorm.1"
# every command and every layer (by class name and short name) 'clnorm --help' lists
for cmd in $("$tool" --help | awk '/^(commands|layers)/{on=1; next} /^$/{on=0} on && /^  [A-Za-z]/{print $1}'); do
    grep -q "^\.B clnorm ${cmd//-/\\\\-}\$" "$man" || bad "the man page has no synopsis for '$cmd'"
    for opt in $("$tool" "$cmd" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
        grep -qF -- "${opt//-/\\-}" "$man" || bad "the man page does not mention $cmd's $opt"
    done
done

grep -q "Apache License" "$src/LICENSE" && grep -q "Version 2.0, January 2004" "$src/LICENSE" ||
    bad "LICENSE is not the Apache License 2.0"
while IFS= read -r f; do
    head -3 "$f" | grep -q "SPDX-License-Identifier: Apache-2.0" || bad "$f has no SPDX line"
done < <(cd "$src" && find src include kernels tools tests cmake docs .ci python CMakeLists.txt Doxyfile \
    \( -path tests/fixtures -o -path tests/regressions -o -name build -o -name '*.egg-info' \
    -o -name __pycache__ \) -prune -o -type f \
    \( -name '*.[ch]' -o -name '*.cl' -o -name '*.sh' -o -name '*.py' -o -name '*.txt' \
    -o -name '*.toml' -o -name '*.in' -o -name '*.cmake' -o -name '*.1' -o -name run \
    -o -name Doxyfile \) -print |
    sed "s|^|$src/|")
grep -q "^Description:.*Apache-2.0" "$src/cmake/clnorm.pc.in" || bad "clnorm.pc's Description lacks the licence"
grep -q "^## \[0.1.0\]" "$src/CHANGELOG.md" || bad "CHANGELOG.md has no 0.1.0 section"
grep -q "caller owns that event and must release it with clReleaseEvent" "$src/include/clnorm.h" ||
    bad "clnorm.h does not say that the caller releases a forward's event"
exit $fail
