# SPDX-License-Identifier: Apache-2.0
"""linear.py: torch.nn.Linear and ESPnet's TransposedLinear (clnorm_linear, the
product in CLBlast, the bias in a clnorm kernel)."""
import numpy as np

from .. import _capi, errors
from . import _shapes
from ._module import Module
from ._params import Param, ParamBlock


def _linear_params(out_features, in_features, bias):
    """weight (V, U) and bias (V); without a bias, a fixed zero one. Both start
    at zero (torch's random initialisation is not reproduced: load a state_dict)."""
    rows = [Param("weight", (out_features, in_features), 0.0, "weight")]
    if bias:
        rows.append(Param("bias", (out_features,), 0.0, "bias"))
        return ParamBlock(_capi.LinearParams, rows)
    return ParamBlock(_capi.LinearParams, rows,
                      fixed={"bias": np.zeros(out_features, dtype=np.float32)})


class _Product(Module):
    """What the two forms share: a clnorm_linear of one form, never in place."""

    _c_layer = "clnorm_linear"
    _in_place = False
    _form = None

    def _create(self, in_features, out_features, bias, context):
        self.in_features = _shapes.size_arg(in_features, "in_features")
        self.out_features = _shapes.size_arg(out_features, "out_features")
        self.bias = bool(bias)
        self._make(context, (self._form, self.in_features, self.out_features, 0, 0),
                   _linear_params(self.out_features, self.in_features, self.bias))


class Linear(_Product):
    """torch.nn.Linear(in_features, out_features, bias=True) on the last axis:
    x (..., in_features) -> y (..., out_features), ``y = x weight^T + bias``
    (the other axes run as one batch of rows).

    state_dict: ``weight`` (out_features, in_features) and ``bias``
    (out_features,) (none with bias=False); both start at zero. The product
    runs in CLBlast; the result is a new array of y's shape (``out=`` must
    have it, and may not overlap x). Calls: see clnorm.nn.Module.
    """

    _form = _capi.LINEAR_LAST

    def __init__(self, in_features, out_features, bias=True, *, context=None):
        self._create(in_features, out_features, bias, context)

    def _sizes(self, shape):
        if len(shape) < 1 or shape[-1] != self.in_features:
            raise errors.ShapeMismatchError(
                f"Linear({self.in_features}, {self.out_features}) takes (..., "
                f"{self.in_features}), not shape {tuple(shape)}"
            )
        return _shapes.count(shape[:-1]), 1

    def _out_shape(self, shape):
        return tuple(shape[:-1]) + (self.out_features,)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias}")


class TransposedLinear(_Product):
    """ESPnet's TransposedLinear(d_input, d_output, bias=True) on x (B, d_input,
    ...) -> y (B, d_output, ...): ``y[b, v, l] = sum_u weight[v, u] x[b, u, l] +
    bias[v]`` (the axes after the second run as one L).

    state_dict: ``weight`` (d_output, d_input) and ``bias`` (d_output,), as
    ESPnet's (none with bias=False: no bias is added; ESPnet's own forward
    cannot run without one, its 0.0 has no .view); both start at zero. The
    product runs in CLBlast; the result is a new array (``out=`` must have y's
    shape, and may not overlap x). Calls: see clnorm.nn.Module.
    """

    _form = _capi.LINEAR_TRANSPOSED

    def __init__(self, d_input, d_output, bias=True, *, context=None):
        self._create(d_input, d_output, bias, context)

    @property
    def d_input(self):
        return self.in_features

    @property
    def d_output(self):
        return self.out_features

    def _sizes(self, shape):
        return _shapes.channels_first(f"TransposedLinear({self.in_features}, {self.out_features})",
                                      shape, self.in_features, batch="B")

    def _out_shape(self, shape):
        return (shape[0], self.out_features) + tuple(shape[2:])

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, bias={self.bias}"
