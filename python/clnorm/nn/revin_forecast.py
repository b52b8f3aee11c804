# SPDX-License-Identifier: Apache-2.0
"""revin_forecast.py: the RevIN of the forecasting models (RTSF's
layers/Invertible.py, PatchTST's layers/RevIN.py), a clnorm_revin made by
clnorm_revin_forecast_create (forward: norm, inverse: denorm)."""
import numpy as np

from .. import _arrays, _capi, errors
from . import _shapes
from ._module import Module
from ._params import Param, ParamBlock

_MODES = ("norm", "denorm")


class RevIN(Module):
    """RevIN(num_features, eps=1e-5, affine=True, subtract_last=False) of RTSF
    and PatchTST, called as they are: ``rev(x, 'norm')`` and ``rev(x, 'denorm')``
    on (B, L, D), D = num_features, per (b, d) over L:

    - norm: ``stdev = sqrt(population variance + eps)``, ``y = (x - mean) /
      stdev`` (``x - last``, the value at L - 1, with subtract_last, PatchTST's
      option), then ``y * affine_weight + affine_bias`` with affine; the
      statistics are kept on the device for denorm;
    - denorm: ``x = (x - affine_bias) / (affine_weight + eps * eps)`` with
      affine, then ``x * stdev + mean`` (or ``+ last``) with the statistics of
      the last norm: B and D as that call's, L any (a horizon). Before any norm
      (or set_stats): NoStatisticsError.

    ``mean`` (or ``last`` with subtract_last) and ``stdev`` are the last norm's,
    float32 (B, 1, D) as the modules' attributes (a read from the device);
    ``set_stats(centre, stdev)`` sets them. state_dict: ``affine_weight`` (ones)
    and ``affine_bias`` (zeros), (D,), with affine. Calls: see
    clnorm.nn.Module, with the mode after x.
    """

    _c_layer = "clnorm_revin"
    _c_create = "clnorm_revin_forecast_create"

    def __init__(self, num_features, eps=1e-5, affine=True, subtract_last=False, *,
                 context=None):
        self.num_features = d = _shapes.size_arg(num_features, "num_features")
        self.eps = _shapes.real_arg(eps, "eps")
        self.affine = bool(affine)
        self.subtract_last = bool(subtract_last)
        if self.affine:
            params = ParamBlock(_capi.RevinParams,
                                [Param("affine_weight", (d,), 1.0, "weight"),
                                 Param("affine_bias", (d,), 0.0, "bias")])
        else:
            params = ParamBlock()
        flags = (_capi.REVIN_AFFINE if self.affine else 0) | (
            _capi.REVIN_SUBTRACT_LAST if self.subtract_last else 0
        )
        self._batch = 0  # B of the statistics on the device (0: none yet)
        self._make(context, (d, self.eps, flags), params)
        self._norm_fn = self._forward_fn
        self._denorm_fn = self._lib.clnorm_revin_inverse

    def __call__(self, x, mode, out=None):
        if mode not in _MODES:
            raise errors.InvalidArgumentError(
                f"RevIN: mode must be 'norm' or 'denorm', not {mode!r}"
            )
        if mode == "denorm" and not self._batch:
            raise errors.NoStatisticsError("RevIN: 'denorm' before any 'norm' (or set_stats)")
        # The layer runs one call at a time: the mode picks the function of this one.
        self._forward_fn = self._norm_fn if mode == "norm" else self._denorm_fn
        result = self._run(x, out)
        if mode == "norm":
            self._batch = result.shape[0]  # the norm's result has x's shape
        return result

    def forward(self, x, mode, out=None):
        """The same as calling the layer (PyTorch's spelling)."""
        return self(x, mode, out=out)

    def _sizes(self, shape):
        if len(shape) != 3 or shape[2] != self.num_features:
            raise errors.ShapeMismatchError(
                f"RevIN({self.num_features}) takes a 3-d (B, L, {self.num_features}) array, "
                f"not shape {tuple(shape)}"
            )
        return shape[0], shape[1]

    def _read_stats(self, which):
        if not self._batch:
            raise errors.NoStatisticsError("RevIN has no statistics yet: call it with 'norm' first")
        shape = (self._batch, 1, self.num_features)
        centre = np.empty(shape, dtype=np.float32) if which == 0 else None
        stdev = np.empty(shape, dtype=np.float32) if which == 1 else None
        status = self._lib.clnorm_revin_read_stats(
            self.handle,
            None if centre is None else centre.ctypes.data_as(_capi.floats_p),
            None if stdev is None else stdev.ctypes.data_as(_capi.floats_p),
            self._batch * self.num_features,
        )
        errors.check(status, self._lib, self.context.handle, "RevIN: statistics")
        return centre if which == 0 else stdev

    @property
    def mean(self):
        """The last norm's mean, (B, 1, D) float32 (a read from the device).
        With subtract_last there is none (as in PatchTST): see ``last``."""
        if self.subtract_last:
            raise AttributeError("RevIN(subtract_last=True) keeps `last`, not `mean`")
        return self._read_stats(0)

    @property
    def last(self):
        """The last norm's x[:, L-1:, :], (B, 1, D) float32, with subtract_last."""
        if not self.subtract_last:
            raise AttributeError("RevIN(subtract_last=False) keeps `mean`, not `last`")
        return self._read_stats(0)

    @property
    def stdev(self):
        """The last norm's sqrt(var + eps), (B, 1, D) float32 (a read from the device)."""
        return self._read_stats(1)

    def set_stats(self, centre, stdev):
        """Set the statistics denorm uses, as if a norm had made them: `centre`
        (the mean, or the last value with subtract_last) and `stdev`, of shape
        (B, 1, D) (or (B, D)), converted to float32."""
        centre = _arrays.host_values(centre, "centre")
        stdev = _arrays.host_values(stdev, "stdev")
        if centre.ndim == 3 and centre.shape[1] == 1:
            centre = centre.reshape(centre.shape[0], centre.shape[2])
        if stdev.ndim == 3 and stdev.shape[1] == 1:
            stdev = stdev.reshape(stdev.shape[0], stdev.shape[2])
        if centre.ndim != 2 or centre.shape[1] != self.num_features or stdev.shape != centre.shape:
            raise errors.ShapeMismatchError(
                f"set_stats takes centre and stdev of shape (B, 1, {self.num_features}); got "
                f"{centre.shape} and {stdev.shape}"
            )
        status = self._lib.clnorm_revin_set_stats(
            self.handle, centre.shape[0], centre.ctypes.data_as(_capi.floats_p),
            stdev.ctypes.data_as(_capi.floats_p)
        )
        errors.check(status, self._lib, self.context.handle, "RevIN: set_stats")
        self._batch = centre.shape[0]

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, affine={self.affine}, "
                f"subtract_last={self.subtract_last}")
