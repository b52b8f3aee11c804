# SPDX-License-Identifier: Apache-2.0
"""_arrays.py: what the layers accept as tensors, converted or refused.

Host inputs (NumPy arrays, torch CPU tensors, anything numpy.asarray takes)
are converted to C-contiguous float32: a copy only when they are not that
already. pyopencl arrays are never copied: they must already be float32 and
C-contiguous on the layer's OpenCL context, and anything else is refused.
"""
import sys

import numpy as np

from . import errors

_REAL_KINDS = "biuf"  # bool, signed, unsigned, floating


def is_device_array(x):
    """True for a pyopencl.array.Array (without importing pyopencl)."""
    mod = sys.modules.get("pyopencl.array")
    return mod is not None and isinstance(x, mod.Array)


def _torch_tensor(x):
    mod = sys.modules.get("torch")
    return mod is not None and isinstance(x, mod.Tensor)


def _as_numpy(x, what):
    if _torch_tensor(x):
        import torch

        x = x.detach().cpu()
        if x.is_complex():
            raise errors.InvalidArgumentError(f"{what} is a complex tensor ({x.dtype})")
        if x.dtype == torch.bfloat16:  # NumPy has no bfloat16
            x = x.float()
        return x.numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as e:
        raise errors.InvalidArgumentError(f"{what} is not an array: {e}") from None


def host_values(x, what):
    """x as a float32 NumPy array (a copy where it must convert): real dtypes only."""
    arr = _as_numpy(x, what)
    if arr.dtype.kind not in _REAL_KINDS:
        raise errors.InvalidArgumentError(
            f"{what} has dtype {arr.dtype}; clnorm takes real numbers (converted to float32)"
        )
    return np.ascontiguousarray(arr, dtype=np.float32)


def host_input(x, what="x"):
    """(C-contiguous float32 array, back) where back(result) gives the caller's
    kind of array: a torch tensor for a torch tensor, else the NumPy array."""
    if _torch_tensor(x):
        import torch

        return host_values(x, what), torch.from_numpy
    return host_values(x, what), _same


def _same(arr):
    return arr


def host_labels(y, n, classes, what="y"):
    """The conditional classes' labels: integers, shape (N,), each in [0, K)
    (torch's Embedding refuses others too), as C-contiguous int32."""
    arr = _as_numpy(y, what)
    if arr.dtype.kind not in "iu":
        raise errors.InvalidArgumentError(
            f"{what} has dtype {arr.dtype}; the labels are integers (int32 or int64)"
        )
    if arr.shape != (n,):
        raise errors.ShapeMismatchError(
            f"{what} has shape {tuple(arr.shape)}; one label per sample, ({n},)"
        )
    bad = (arr < 0) | (arr >= classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise errors.InvalidArgumentError(
            f"{what}[{i}] = {int(arr[i])} is not a class: labels are in [0, {classes})"
        )
    return np.ascontiguousarray(arr, dtype=np.int32)


def check_device(x, cl_context, dtype, what):
    """Refuse a pyopencl array the library cannot take as it is (no copies)."""
    if x.dtype != dtype:
        raise errors.InvalidArgumentError(
            f"{what} is a pyopencl array of {x.dtype}; clnorm takes {np.dtype(dtype)} device "
            "arrays as they are (convert with .astype: clnorm never copies device arrays)"
        )
    if not x.flags.c_contiguous:
        raise errors.InvalidArgumentError(
            f"{what} is not C-contiguous (strides {x.strides}); make it contiguous first "
            "(clnorm never copies device arrays)"
        )
    if x.size == 0:
        raise errors.ZeroSizeError(f"{what} has no elements (shape {x.shape})")
    if x.context.int_ptr != cl_context:
        raise errors.InvalidArgumentError(
            f"{what} lives on another OpenCL context than the layer's; make the layer with "
            "context=clnorm.Context.wrap(queue) for that array's queue"
        )
    mem = getattr(x.base_data, "int_ptr", None)
    if mem is None:
        raise errors.InvalidArgumentError(f"{what} is not backed by an OpenCL buffer")
    return mem
