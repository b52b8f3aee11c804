# SPDX-License-Identifier: Apache-2.0
"""instance_norm.py: torch.nn.InstanceNorm2d with instance statistics
(clnorm_instance_norm2d)."""
from .. import _capi, errors
from . import _shapes
from ._module import Module
from ._params import Param, ParamBlock


class InstanceNorm2d(Module):
    """torch.nn.InstanceNorm2d(num_features, eps=1e-5, momentum=0.1, affine=False,
    track_running_stats=False) on (N, C, H, W) or unbatched (C, H, W): per
    (n, c) plane, ``y = (x - mean) / sqrt(var + eps)``, var the biased variance;
    with affine, ``* weight[c] + bias[c]``.

    Instance statistics only: track_running_stats=True (running statistics in
    eval mode) is refused with InvalidArgumentError; momentum is accepted and
    unused (it only updates running statistics). state_dict: ``weight`` and
    ``bias`` (C,) with affine. Calls: see clnorm.nn.Module.
    """

    _c_layer = "clnorm_instance_norm2d"

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, *, context=None):
        if track_running_stats:
            raise errors.InvalidArgumentError(
                "InstanceNorm2d: track_running_stats=True is not supported (clnorm computes "
                "instance statistics, PyTorch's default)"
            )
        self.num_features = _shapes.size_arg(num_features, "num_features")
        self.eps = _shapes.real_arg(eps, "eps")
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = False
        c = self.num_features
        params = ParamBlock(
            _capi.AffineParams,
            [Param("weight", (c,), 1.0, "weight"), Param("bias", (c,), 0.0, "bias")],
        ) if self.affine else ParamBlock()
        self._make(context, (c, self.eps, _capi.AFFINE if self.affine else 0), params)

    def _sizes(self, shape):
        if len(shape) == 3:  # unbatched (C, H, W), as torch takes it
            shape = (1,) + tuple(shape)
        return _shapes.nchw("InstanceNorm2d", shape, self.num_features)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, affine={self.affine}"
