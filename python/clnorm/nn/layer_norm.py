# SPDX-License-Identifier: Apache-2.0
"""layer_norm.py: torch.nn.LayerNorm (clnorm_layer_norm)."""
import numpy as np

from .. import _capi, errors
from . import _shapes
from ._module import Module
from ._params import Param, ParamBlock


class LayerNorm(Module):
    """torch.nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True,
    bias=True) over the trailing axes given by normalized_shape (an int or a
    tuple): per row, ``y = (x - mean) / sqrt(var + eps) * weight + bias``, var
    the biased variance. The trailing axes are contiguous, so they run as one
    row of their product.

    state_dict: ``weight`` and ``bias`` of shape normalized_shape (none with
    elementwise_affine=False; no ``bias`` with bias=False, torch 2.1's
    argument). Calls: see clnorm.nn.Module.
    """

    _c_layer = "clnorm_layer_norm"

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, *,
                 context=None):
        if isinstance(normalized_shape, (tuple, list)):
            dims = tuple(_shapes.size_arg(s, "normalized_shape") for s in normalized_shape)
        else:
            dims = (_shapes.size_arg(normalized_shape, "normalized_shape"),)
        if not dims:
            raise errors.InvalidArgumentError("normalized_shape must have at least one axis")
        self.normalized_shape = dims
        self.eps = _shapes.real_arg(eps, "eps")
        self.elementwise_affine = bool(elementwise_affine)
        self.bias = bool(bias)
        d = _shapes.count(dims)
        if not self.elementwise_affine:
            params = ParamBlock()
        elif self.bias:
            params = ParamBlock(_capi.AffineParams, [Param("weight", dims, 1.0, "weight"),
                                                     Param("bias", dims, 0.0, "bias")])
        else:
            params = ParamBlock(_capi.AffineParams, [Param("weight", dims, 1.0, "weight")],
                                fixed={"bias": np.zeros(d, dtype=np.float32)})
        flags = 0 if self.elementwise_affine else _capi.NO_AFFINE
        self._make(context, (d, self.eps, flags), params)

    def _sizes(self, shape):
        k = len(self.normalized_shape)
        if len(shape) < k or tuple(shape[len(shape) - k:]) != self.normalized_shape:
            raise errors.ShapeMismatchError(
                f"LayerNorm{self.normalized_shape} takes (..., "
                f"{', '.join(map(str, self.normalized_shape))}), not shape {tuple(shape)}"
            )
        return (_shapes.count(shape) // _shapes.count(self.normalized_shape),)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
