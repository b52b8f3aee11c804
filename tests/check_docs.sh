#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check_docs.sh: the documentation tells the truth about the code.
#   tests/check_docs.sh SOURCE_DIR BUILD_DIR CLNORM_TOOL
# 1. doxygen over the public header with warnings as errors: an undocumented
#    public symbol fails;
# 2. every environment variable the library or the tool reads (getenv) is in
#    the README's table of environment variables, and the table names none it
#    does not read;
# 3. every long option that a subcommand's --help shows is in the man page.
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

read_vars=$(grep -rhoE 'getenv\("[A-Z_]+"\)' "$src/src" "$src/tools" | sed -E 's/getenv\("([A-Z_]+)"\)/\1/' |
    sort -u || true)
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
exit $fail
