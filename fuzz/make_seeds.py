#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""make_seeds.py: writes the small valid seed inputs of fuzz/corpus/ (standard library only)."""
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ST = os.path.join(HERE, "corpus", "safetensors")
NPY = os.path.join(HERE, "corpus", "npy")
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures")


def safetensors(path, tensors, metadata=None, pad=True, header_order=None):
    """tensors: list of (name, dtype, shape, raw bytes), laid out in order, each
    beginning where the one before ends, as the format requires. header_order:
    the names in the order the header lists them (default: the same order)."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    entries = {}
    for name, dtype, shape, raw in tensors:
        entries[name] = {"dtype": dtype, "shape": shape,
                         "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    for name in header_order or entries:
        header[name] = entries[name]
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:  # the reference writer pads the header to 8 bytes with spaces
        text += b" " * (-len(text) % 8)
    with open(os.path.join(ST, path), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


def f64(*v):
    return struct.pack("<%dd" % len(v), *v)


def npy_v2_f8(path, shape, values):
    """A version 2.0 '<f8' file, which the fixtures (all 1.0 '<f4') lack."""
    text = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % (
        "(%d,)" % shape[0] if len(shape) == 1 else "(%s)" % ", ".join(map(str, shape)))
    text += " " * (-(len(text) + 13) % 64) + "\n"
    with open(os.path.join(NPY, path), "wb") as f:
        f.write(b"\x93NUMPY\x02\x00" + struct.pack("<I", len(text)) + text.encode()
                + f64(*values))


def main():
    os.makedirs(ST, exist_ok=True)
    os.makedirs(NPY, exist_ok=True)
    safetensors("alpha_f32.safetensors", [("alpha", "F32", [3], f32(1, 2, 3))])
    safetensors("x_alpha_f64_meta.safetensors",
                [("x.alpha", "F64", [2], f64(0.5, -1)), ("alpha", "F32", [], f32(7))],
                metadata={"format": "pt"})
    safetensors("mixed_dtypes.safetensors",
                [("h", "F16", [2], b"\x00\x3c\x00\x40"), ("b", "BF16", [1], b"\x80\x3f"),
                 ("i", "I64", [1], struct.pack("<q", -3)), ("alpha", "F32", [2, 0], b""),
                 ("x.alpha", "F32", [1, 1, 2], f32(4, 5))])
    safetensors("unpadded.safetensors", [("alpha", "F64", [2, 1], f64(1e300, 1e-300))], pad=False)
    # The header in another order than the data, as the reference writer makes
    # it (it lays out by dtype alignment, then name); sub-byte and empty tensors.
    safetensors("unsorted_header.safetensors",
                [("x.alpha", "F64", [2], f64(2, -0.5)), ("alpha", "F32", [3], f32(1, 2, 3)),
                 ("q", "F4", [2, 3], b"\x12\x34\x56"), ("e", "BF16", [0], b"")],
                metadata={"format": "pt", "note": "\u00e9"},
                header_order=["e", "q", "alpha", "x.alpha"])
    for name in ["varnorm2d_doc_2x3x4x4.alpha.npy", "varnorm2d_hw1_2x2x1x1.x.npy",
                 "revin_bld_L1_2x1x3.x.npy", "revin_output_bld_horizon_4x7x3.x.npy",
                 "varnorm2d_doc_2x3x4x4.x.npy"]:
        shutil.copy(os.path.join(FIXTURES, name), os.path.join(NPY, name))
    npy_v2_f8("v2_f8_2x2.npy", [2, 2], [1.0, -2.5, 1e300, 0.0])
    npy_v2_f8("v2_f8_scalar_like.npy", [1], [3.25])


if __name__ == "__main__":
    main()
