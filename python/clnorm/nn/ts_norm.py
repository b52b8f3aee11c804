# SPDX-License-Identifier: Apache-2.0
"""ts_norm.py: ESPnet's TSNormalization and TSInverseNormalization (clnorm_ts_norm)."""
import numpy as np

from .. import _arrays, _capi, errors
from . import _shapes
from ._module import Module
from ._params import ParamBlock


def _bld(layer, shape):
    if len(shape) != 3:
        raise errors.ShapeMismatchError(f"{layer} takes a 3-d (B, L, D) array, not {tuple(shape)}")
    return shape[0], shape[1]


class TSNormalization(Module):
    """ESPnet's TSNormalization(method, horizon) on (B, L, D): per (b, d), a scale
    from the look-back window l < L - horizon, ``y = x / scale``: ``"mean"``, the
    mean of |x| over the window (horizon >= 1: ESPnet's x[:, :-0] is empty, so
    horizon 0 is refused); ``"last"``, |x| at l = L - horizon - 1. No epsilon:
    a zero scale gives inf or NaN, as PyTorch does.

    ``scale`` is the last call's, (B, 1, D) float32 as ESPnet's attribute (a
    read from the device); ``set_scale(scale)`` sets it. The C layer is made
    at the first call, for its D (ESPnet's module takes no D). No state_dict
    entries. Calls: see clnorm.nn.Module.
    """

    _c_layer = "clnorm_ts_norm"
    _takes_params = False

    def __init__(self, method, horizon, *, context=None):
        if method not in _capi.TS_METHODS:
            raise errors.InvalidArgumentError(
                f"TSNormalization: method must be 'mean' or 'last', not {method!r}"
            )
        self.method = method
        self.horizon = _shapes.size_arg(horizon, "horizon")
        if method == "mean" and self.horizon == 0:  # refused here, not at the first call
            raise errors.InvalidArgumentError(
                "TSNormalization('mean', 0): ESPnet's window x[:, :-0] is empty; horizon >= 1"
            )
        self._context_arg = context
        self.d = None  # D of the C layer, made at the first call
        self._batch = 0  # B of the scale on the device (0: none yet)
        self._params = ParamBlock()

    def _layer_for(self, d):
        """Make the C layer for D = d (again when D changes)."""
        if self.d != d:
            if self.d is not None:
                self.close()
            self._make(self._context_arg, (d, _capi.TS_METHODS[self.method], self.horizon),
                       ParamBlock())
            self.d, self._batch = d, 0

    def _sizes(self, shape):
        return _bld("TSNormalization", shape)

    def _run(self, x, out=None, labels=None):
        self._sizes(x.shape)
        self._layer_for(x.shape[2])
        result = super()._run(x, out, labels)
        self._batch = x.shape[0]
        return result

    def upload_count(self):
        return 0

    @property
    def scale(self):
        """The last call's scale, (B, 1, D) float32 (a read from the device)."""
        if not self._batch:
            raise errors.NoStatisticsError("TSNormalization has no scale yet: call it first")
        scale = np.empty((self._batch, 1, self.d), dtype=np.float32)
        status = self._lib.clnorm_ts_norm_read_scale(
            self.handle, scale.ctypes.data_as(_capi.floats_p), scale.size)
        errors.check(status, self._lib, self.context.handle, "TSNormalization: scale")
        return scale

    def set_scale(self, scale):
        """Set the scale the inverse uses, (B, 1, D) (or (B, D)), as if a call had
        made it; makes the C layer for that D if needed."""
        scale = _arrays.host_values(scale, "scale")
        if scale.ndim == 3 and scale.shape[1] == 1:
            scale = scale.reshape(scale.shape[0], scale.shape[2])
        if scale.ndim != 2:
            raise errors.ShapeMismatchError(f"set_scale takes (B, 1, D), not {scale.shape}")
        self._layer_for(scale.shape[1])
        status = self._lib.clnorm_ts_norm_set_scale(
            self.handle, scale.shape[0], scale.ctypes.data_as(_capi.floats_p))
        errors.check(status, self._lib, self.context.handle, "TSNormalization: set_scale")
        self._batch = scale.shape[0]

    def close(self):
        if self.d is not None:
            super().close()

    def extra_repr(self):
        return f"{self.method!r}, {self.horizon}"


class TSInverseNormalization(Module):
    """ESPnet's TSInverseNormalization(method, normalizer): ``y = x * scale`` with
    the scale of the normalizer's last call (x (B, L, D), L any: a horizon; B
    and D those of that call). Before any call of the normalizer:
    NoStatisticsError. Calls: see clnorm.nn.Module.
    """

    _c_layer = "clnorm_ts_norm"
    _takes_params = False

    def __init__(self, method, normalizer):
        if not isinstance(normalizer, TSNormalization):
            raise errors.InvalidArgumentError(
                "TSInverseNormalization takes a clnorm.nn.TSNormalization, not "
                f"{type(normalizer).__name__}"
            )
        if method not in _capi.TS_METHODS:
            raise errors.InvalidArgumentError(
                f"TSInverseNormalization: method must be 'mean' or 'last', not {method!r}"
            )
        self.method = method
        self.normalizer = normalizer
        self._params = ParamBlock()
        self._scratch = None
        self._label_scratch = None

    def _sizes(self, shape):
        b, l = _bld("TSInverseNormalization", shape)
        if shape[2] != self.normalizer.d:
            raise errors.ShapeMismatchError(
                f"TSInverseNormalization: x has D = {shape[2]}, the normalizer's scale "
                f"D = {self.normalizer.d}"
            )
        return b, l

    def _run(self, x, out=None, labels=None):
        n = self.normalizer
        if not n._batch:
            raise errors.NoStatisticsError(
                "TSInverseNormalization before any call of its normalizer"
            )
        # The normalizer's current C layer (it is remade when D changes).
        self.context, self._lib, self._handle = n.context, n._lib, n._handle
        self._finalizer = n._finalizer
        self._forward_fn = n._lib.clnorm_ts_norm_inverse
        return super()._run(x, out, labels)

    def upload_count(self):
        return 0

    def close(self):
        """Closes nothing but its own buffers: the layer is the normalizer's."""
        if self._scratch is not None:
            self._scratch.release()

    def extra_repr(self):
        return f"{self.method!r}, <{self.normalizer!r}>"
