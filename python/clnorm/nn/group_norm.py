# SPDX-License-Identifier: Apache-2.0
"""group_norm.py: torch.nn.GroupNorm (clnorm_group_norm)."""
from .. import _capi
from . import _shapes
from ._module import Module
from ._params import Param, ParamBlock


class GroupNorm(Module):
    """torch.nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True) on
    (N, C, ...): per (n, group of C / num_groups channels), over the group's
    channels and positions, ``y = (x - mean) / sqrt(var + eps) * weight[c] +
    bias[c]``, var the biased variance. NCSN++ uses num_groups = min(C // 4, 32)
    and eps 1e-6.

    state_dict: ``weight`` and ``bias`` (C,) with affine. Calls: see
    clnorm.nn.Module.
    """

    _c_layer = "clnorm_group_norm"

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, *, context=None):
        self.num_groups = _shapes.size_arg(num_groups, "num_groups")
        self.num_channels = c = _shapes.size_arg(num_channels, "num_channels")
        self.eps = _shapes.real_arg(eps, "eps")
        self.affine = bool(affine)
        params = ParamBlock(
            _capi.AffineParams,
            [Param("weight", (c,), 1.0, "weight"), Param("bias", (c,), 0.0, "bias")],
        ) if self.affine else ParamBlock()
        flags = 0 if self.affine else _capi.NO_AFFINE
        self._make(context, (self.num_groups, c, self.eps, flags), params)

    def _sizes(self, shape):
        return _shapes.channels_first(f"GroupNorm({self.num_groups}, {self.num_channels})", shape,
                                      self.num_channels)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
