# SPDX-License-Identifier: Apache-2.0
"""test_capi.py: the ctypes declarations say what include/clnorm.h says.

A wrong argument type in ctypes is a silent crash, not an error, so every
prototype and parameter struct of clnorm/_capi.py is checked against the
header's text, every public function must be declared, and the statuses and
versions must agree with the library's."""
import ctypes
import os
import re

import pytest

import clnorm
from clnorm import _capi, errors

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = os.path.join(REPO, "include", "clnorm.h")

OPAQUE = {"cl_context", "cl_device_id", "cl_command_queue", "cl_mem", "cl_event"}
SCALARS = {
    "void": None, "unsigned": ctypes.c_uint, "int": ctypes.c_int, "size_t": ctypes.c_size_t,
    "double": ctypes.c_double, "uint64_t": ctypes.c_uint64, "cl_int": ctypes.c_int32,
    "cl_uint": ctypes.c_uint32, "float": ctypes.c_float,
}
STRUCTS = {
    "clnorm_varnorm2d_params": _capi.VarNorm2dParams,
    "clnorm_revin_params": _capi.RevinParams,
    "clnorm_affine_params": _capi.AffineParams,
    "clnorm_conditional_params": _capi.ConditionalParams,
    "clnorm_normalization_params": _capi.NormalizationParams,
    "clnorm_plus_params": _capi.PlusParams,
    "clnorm_linear_params": _capi.LinearParams,
    "clnorm_rlinear_params": _capi.RlinearParams,
}


def header():
    with open(HEADER) as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # comments
    return re.sub(r"\\\n", " ", text)


def enums():
    """The header's enum typedefs (clnorm_status, clnorm_conditional_kind, ...)."""
    return set(re.findall(r"\}\s*(\w+)\s*;", "".join(
        re.findall(r"typedef enum \w+\s*\{.*?\}\s*\w+\s*;", header(), re.S))))


def ctype_of(decl):
    """The ctypes type for a C declaration's type (the name stripped)."""
    decl = decl.replace("const ", "").strip()
    stars = decl.count("*")
    base = decl.replace("*", "").strip()
    if base == "char" and stars == 1:
        return ctypes.c_char_p
    if base in enums():
        base = "int"  # a C enum is an int here
    if base in OPAQUE or base.startswith("clnorm_") and base not in SCALARS and base not in STRUCTS:
        t, stars = ctypes.c_void_p, stars if base in OPAQUE else stars - 1  # opaque handle
    elif base in STRUCTS:
        t = STRUCTS[base]
    else:
        t = SCALARS[base]
    for _ in range(stars):
        t = ctypes.POINTER(t)
    return t


def same(a, b):
    """ctypes types are equal when they are the same type, or pointers to equal types."""
    if a is b:
        return True
    if a is None or b is None:
        return False
    pa, pb = issubclass(a, ctypes._Pointer), issubclass(b, ctypes._Pointer)
    if pa or pb:
        return pa and pb and same(a._type_, b._type_)
    scalar = hasattr(a, "_type_") and hasattr(b, "_type_")  # structs only match themselves
    return scalar and a._type_ == b._type_ and ctypes.sizeof(a) == ctypes.sizeof(b)


def prototypes():
    """{name: (return type, [argument types])} of every CLNORM_API function."""
    out = {}
    for m in re.finditer(r"CLNORM_API\s+([^;(]*?)\b(\w+)\s*\(([^)]*)\)\s*;", header()):
        ret, name, args = m.group(1), m.group(2), m.group(3).strip()
        types = []
        if args != "void":
            for arg in args.split(","):
                arg = " ".join(arg.split())
                arg = re.sub(r"\b\w+$", "", arg)  # the parameter's name
                types.append(ctype_of(arg))
        out[name] = (ctype_of(ret), types)
    return out


def test_every_function_is_declared_as_the_header_says():
    assert {"clnorm_status", "clnorm_conditional_kind"} <= enums()
    declared = prototypes()
    assert len(declared) > 40
    assert set(declared) == set(_capi.PROTOTYPES), (
        f"not bound: {sorted(set(declared) - set(_capi.PROTOTYPES))}; "
        f"not in the header: {sorted(set(_capi.PROTOTYPES) - set(declared))}"
    )
    for name, (ret, args) in declared.items():
        bound_ret, bound_args = _capi.PROTOTYPES[name]
        assert same(ret, bound_ret), f"{name} returns {ret}, declared {bound_ret}"
        assert len(args) == len(bound_args), \
            f"{name}: {len(args)} arguments, declared {len(bound_args)}"
        for i, (a, b) in enumerate(zip(args, bound_args)):
            assert same(a, b), f"{name} argument {i}: {a} in the header, {b} declared"


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_structs_have_the_headers_fields(name):
    body = re.search(r"typedef struct %s\s*\{(.*?)\}\s*%s\s*;" % (name, name), header(), re.S)
    assert body, name
    fields = []
    for decl in body.group(1).split(";"):
        decl = " ".join(decl.split())
        if decl:
            field = re.search(r"(\w+)$", decl).group(1)
            fields.append((field, ctype_of(decl[: -len(field)])))
    mine = STRUCTS[name]._fields_
    assert [f for f, _ in fields] == [f for f, _ in mine], name
    for (field, t), (_, u) in zip(fields, mine):
        assert same(t, u), f"{name}.{field}: {t} in the header, {u} declared"


def test_the_type_comparison_can_fail():
    assert not same(ctypes.c_size_t, ctypes.c_uint)
    assert not same(ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_double))
    assert not same(ctypes.c_void_p, None)


def test_status_names_agree_with_the_library():
    lib = clnorm._library.lib()
    for value, name in enumerate(errors.STATUS_NAMES):
        assert lib.clnorm_status_name(value).decode() == "CLNORM_" + name
        if value:
            assert errors.error_for(value, "").status_name == "CLNORM_" + name
    assert lib.clnorm_status_name(len(errors.STATUS_NAMES)).decode() == "CLNORM_UNKNOWN"


def test_versions_agree():
    with open(os.path.join(REPO, "python", "pyproject.toml")) as f:
        pyproject = re.search(r'^version = "([^"]+)"', f.read(), re.M).group(1)
    in_header = re.search(r'#define CLNORM_VERSION_STRING "([^"]+)"', header()).group(1)
    assert clnorm.__version__ == pyproject == in_header == clnorm.library_version()


def test_every_params_struct_is_checked():
    assert set(re.findall(r"typedef struct (clnorm_\w+_params)\s*\{", header())) == set(STRUCTS)
