# SPDX-License-Identifier: Apache-2.0
"""none_norm.py: ESPnet's NoneNorm2d (clnorm_none_norm2d)."""
from . import _shapes
from ._module import Module
from ._params import ParamBlock


class NoneNorm2d(Module):
    """ESPnet's NoneNorm2d(num_features, bias=True): ``y = x`` (a copy, or
    nothing in place), ordered like every forward. Any shape; the arguments
    are accepted and unused, as in ESPnet. No state_dict entries. Calls: see
    clnorm.nn.Module.
    """

    _c_layer = "clnorm_none_norm2d"
    _takes_params = False

    def __init__(self, num_features, bias=True, *, context=None):
        self.num_features = _shapes.size_arg(num_features, "num_features")
        self.bias = bias
        self._make(context, (0,), ParamBlock())

    def _sizes(self, shape):
        return (_shapes.count(shape),)

    def upload_count(self):
        return 0

    def extra_repr(self):
        return f"{self.num_features}"
