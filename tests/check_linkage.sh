#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check_linkage.sh LIB: the library links OpenCL through the ICD loader and
# CLBlast for the products, and never a vendor's OpenCL library.
set -euo pipefail
lib=${1:?usage: check_linkage.sh LIBCLNORM}
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
bad=0
for want in libOpenCL.so.1 libclblast.so.1; do
    grep -qx "$want" <<<"$needed" || { echo "check_linkage: $lib does not link $want"; bad=1; }
done
if grep -E 'pocl|nvidia|cuda|amdocl|igdrcl|intelocl|mali' <<<"$needed"; then
    echo "check_linkage: $lib links a vendor's OpenCL library (above)"
    bad=1
fi
echo "check_linkage: $(wc -l <<<"$needed") libraries:" $needed
exit $bad
