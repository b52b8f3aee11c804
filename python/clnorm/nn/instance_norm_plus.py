# SPDX-License-Identifier: Apache-2.0
"""instance_norm_plus.py: ESPnet's InstanceNorm2dPlus (clnorm_instance_norm2d_plus)."""
from .. import _capi
from . import _shapes
from ._module import Module
from ._params import Param, ParamBlock


class InstanceNorm2dPlus(Module):
    """ESPnet's InstanceNorm2dPlus(num_features, bias=True) on (N, C, H, W): with
    mu the mean of each (n, c) plane, m and v the mean and unbiased variance
    of mu over the sample's channels and mu' = (mu - m) / sqrt(v + 1e-5),
    ``h = (x - mu) / sqrt(var + 1e-5) + mu' * alpha[c]`` (var biased),
    ``y = gamma[c] * h + beta[c]`` (no beta with bias=False). C = 1 gives NaN,
    as PyTorch does.

    state_dict: ``alpha``, ``gamma`` and ``beta`` (C,) (no ``beta`` with
    bias=False). alpha and gamma start at 1 (ESPnet draws N(1, 0.02)). Calls:
    see clnorm.nn.Module.
    """

    _c_layer = "clnorm_instance_norm2d_plus"

    def __init__(self, num_features, bias=True, *, context=None):
        self.num_features = c = _shapes.size_arg(num_features, "num_features")
        self.bias = bool(bias)
        rows = [Param("alpha", (c,), 1.0, "alpha"), Param("gamma", (c,), 1.0, "gamma")]
        if self.bias:
            rows.append(Param("beta", (c,), 0.0, "beta"))
        flags = 0 if self.bias else _capi.NO_BIAS
        self._make(context, (c, flags), ParamBlock(_capi.PlusParams, rows))

    def _sizes(self, shape):
        return _shapes.nchw("InstanceNorm2dPlus", shape, self.num_features)

    def extra_repr(self):
        return f"{self.num_features}, bias={self.bias}"
