# SPDX-License-Identifier: Apache-2.0
"""variance_norm.py: ESPnet's VarianceNorm2d (clnorm_varnorm2d)."""
from .. import _capi
from . import _shapes
from ._module import Module
from ._params import Param, ParamBlock


class VarianceNorm2d(Module):
    """ESPnet's VarianceNorm2d(num_features, bias=False) on (N, C, H, W):
    ``y = alpha[c] * x / sqrt(var + 1e-5)``, var the unbiased variance of each
    (n, c) plane (x itself, not x - mean); H*W == 1 gives NaN, as PyTorch does.

    state_dict: ``alpha`` (C,). It starts at 1 (ESPnet draws N(1, 0.02)): load
    the trained values with load_state_dict. `bias` is accepted and unused, as
    in ESPnet. Calls: see clnorm.nn.Module.
    """

    _c_layer = "clnorm_varnorm2d"

    def __init__(self, num_features, bias=False, *, context=None):
        self.num_features = _shapes.size_arg(num_features, "num_features")
        self.bias = bias
        alpha = Param("alpha", (self.num_features,), 1.0, "alpha")
        params = ParamBlock(_capi.VarNorm2dParams, [alpha])
        self._make(context, (self.num_features,), params)

    def _sizes(self, shape):
        return _shapes.nchw("VarianceNorm2d", shape, self.num_features)

    def extra_repr(self):
        return f"{self.num_features}"
