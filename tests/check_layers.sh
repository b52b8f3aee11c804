#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check_layers.sh SRC_DIR OBJ_DIR: the dependency order src/clnorm_int.h
# states holds in the object files: each src/X.c calls (has undefined
# symbols defined by) only files of a higher level number than its own,
# never a file of its own level or above. Files the header does not list
# are layers (level 1).
set -euo pipefail
src=${1:?usage: check_layers.sh SRC_DIR OBJ_DIR}
obj=${2:?usage: check_layers.sh SRC_DIR OBJ_DIR}
declare -A level defined_in
# " *   N  a.c b.c  words...": the files of level N
while read -r n files; do
    for f in $files; do
        case $f in *.c) level[$f]=$n ;; *) break ;; esac
    done
done < <(sed -n '/Dependency order/,/\*\//p' "$src/clnorm_int.h" |
    sed -n 's/^ \*   \([0-9]\)  \(.*\)$/\1 \2/p')
objects=()
for o in "$obj"/*.c.o; do
    f=$(basename "$o" .o)
    [ -f "$src/$f" ] || continue
    objects+=("$o")
    [ -n "${level[$f]:-}" ] || level[$f]=1
    while read -r sym; do defined_in[$sym]=$f; done < <(nm --defined-only -g "$o" | awk '{print $3}')
done
[ ${#objects[@]} -gt 0 ] || { echo "check_layers: no objects in $obj"; exit 1; }
bad=0
for o in "${objects[@]}"; do
    f=$(basename "$o" .o)
    while read -r sym; do
        g=${defined_in[$sym]:-}
        [ -n "$g" ] && [ "$g" != "$f" ] || continue
        if [ "${level[$g]}" -le "${level[$f]}" ]; then
            echo "check_layers: $f (level ${level[$f]}) calls $sym of $g (level ${level[$g]})"
            bad=$((bad + 1))
        fi
    done < <(nm -u "$o" | awk '{print $2}')
done
echo "check_layers: ${#objects[@]} files, $bad calls against the order"
[ "$bad" -eq 0 ]
