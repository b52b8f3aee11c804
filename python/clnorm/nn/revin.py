# SPDX-License-Identifier: Apache-2.0
"""revin.py: ESPnet's ReversibleInstanceNorm1dInput and ReversibleInstanceNorm1dOutput
(clnorm_revin: forward, inverse, read_stats, set_stats)."""
import numpy as np

from .. import _arrays, _capi, errors
from . import _shapes
from ._module import Module
from ._params import Param, ParamBlock


def _bld(layer, shape, d, transposed):
    """(B, L) of a (B, L, D) array, or of (B, D, L) when transposed."""
    layout = "(B, D, L)" if transposed else "(B, L, D)"
    if len(shape) != 3:
        raise errors.ShapeMismatchError(f"{layer} takes a 3-d {layout} array, not {tuple(shape)}")
    got_d = shape[1] if transposed else shape[2]
    if got_d != d:
        raise errors.ShapeMismatchError(
            f"{layer} has D = {d} but x {layout} has D = {got_d} (shape {tuple(shape)})"
        )
    return shape[0], (shape[2] if transposed else shape[1])


class ReversibleInstanceNorm1dInput(Module):
    """ESPnet's ReversibleInstanceNorm1dInput(d, transposed=False) on (B, L, D),
    or (B, D, L) when transposed: per (b, d) over L, ``m = mean``,
    ``s = sqrt(population variance) + 1e-4``, ``y = (x - m) / s``.

    ``m`` and ``s`` are the statistics of the last call, as ESPnet's attributes:
    float32 NumPy arrays of shape (B, D, 1), read from the device when asked
    (a wait). ``set_stats(m, s)`` sets them, for instance from PyTorch.

    state_dict: ``norm.weight`` and ``norm.bias`` (D,), held and, as in ESPnet,
    not used; ``affine=True`` (a clnorm option, not ESPnet's) applies them as
    the RevIN paper does. Calls: see clnorm.nn.Module.
    """

    _c_layer = "clnorm_revin"

    def __init__(self, d, transposed=False, *, affine=False, context=None):
        self.d = _shapes.size_arg(d, "d")
        self.transposed = bool(transposed)
        self.affine = bool(affine)
        params = ParamBlock(
            _capi.RevinParams,
            [Param("norm.weight", (self.d,), 1.0, "weight"),
             Param("norm.bias", (self.d,), 0.0, "bias")],
        )
        flags = (_capi.REVIN_TRANSPOSED if self.transposed else 0) | (
            _capi.REVIN_AFFINE if self.affine else 0
        )
        self._batch = 0  # B of the statistics on the device (0: none yet)
        self._make(context, (self.d, flags), params)

    def _sizes(self, shape):
        return _bld("ReversibleInstanceNorm1dInput", shape, self.d, self.transposed)

    def _run(self, x, out=None, labels=None):
        result = super()._run(x, out, labels)
        self._batch = self._sizes(x.shape)[0]
        return result

    def _read_stats(self):
        if not self._batch:
            raise errors.NoStatisticsError(
                "ReversibleInstanceNorm1dInput has no statistics yet: call it (or set_stats) first"
            )
        m = np.empty((self._batch, self.d, 1), dtype=np.float32)
        s = np.empty((self._batch, self.d, 1), dtype=np.float32)
        status = self._lib.clnorm_revin_read_stats(
            self.handle, m.ctypes.data_as(_capi.floats_p), s.ctypes.data_as(_capi.floats_p), m.size
        )
        errors.check(status, self._lib, self.context.handle, "ReversibleInstanceNorm1dInput: stats")
        return m, s

    @property
    def m(self):
        """The mean of the last call, (B, D, 1) float32 (a read from the device)."""
        return self._read_stats()[0]

    @property
    def s(self):
        """The std + 1e-4 of the last call, (B, D, 1) float32 (a read from the device)."""
        return self._read_stats()[1]

    def set_stats(self, m, s):
        """Set the statistics the output module uses, as if a call had made them:
        `m` and `s` of shape (B, D, 1) (or (B, D)), converted to float32."""
        m = _arrays.host_values(m, "m")
        s = _arrays.host_values(s, "s")
        if m.ndim == 3 and m.shape[2] == 1:
            m = m.reshape(m.shape[:2])
        if s.ndim == 3 and s.shape[2] == 1:
            s = s.reshape(s.shape[:2])
        if m.ndim != 2 or m.shape[1] != self.d or s.shape != m.shape:
            raise errors.ShapeMismatchError(
                f"set_stats takes m and s of shape (B, {self.d}, 1); got {m.shape} and {s.shape}"
            )
        status = self._lib.clnorm_revin_set_stats(
            self.handle, m.shape[0], m.ctypes.data_as(_capi.floats_p),
            s.ctypes.data_as(_capi.floats_p)
        )
        errors.check(status, self._lib, self.context.handle,
                     "ReversibleInstanceNorm1dInput: set_stats")
        self._batch = m.shape[0]

    def extra_repr(self):
        return f"{self.d}, transposed={self.transposed}" + (", affine=True" if self.affine else "")


class ReversibleInstanceNorm1dOutput(Module):
    """ESPnet's ReversibleInstanceNorm1dOutput(norm_input): ``y = x * s + m`` with
    the statistics of norm_input's last call, in its layout. B and D must
    match that call; L may differ (a forecasting horizon). Before any call of
    the input: NoStatisticsError.

    It shares the input's layer and parameters; its state_dict names them as
    ESPnet's does: ``weight``, ``bias``, ``norm_input.norm.weight``,
    ``norm_input.norm.bias``. Calls: see clnorm.nn.Module.
    """

    def __init__(self, norm_input):
        if not isinstance(norm_input, ReversibleInstanceNorm1dInput):
            raise errors.InvalidArgumentError(
                "ReversibleInstanceNorm1dOutput takes a clnorm.nn.ReversibleInstanceNorm1dInput, "
                f"not {type(norm_input).__name__}"
            )
        self.norm_input = norm_input
        self.transposed = norm_input.transposed
        self.context = norm_input.context
        self._lib = norm_input._lib
        self._forward_fn = self._lib.clnorm_revin_inverse
        self._finalizer = norm_input._finalizer  # the input's layer: it lives as long as we do
        self._handle = norm_input._handle
        self._scratch = None
        self._label_scratch = None
        self._params = norm_input._params.view({
            "weight": "norm.weight",
            "bias": "norm.bias",
            "norm_input.norm.weight": "norm.weight",
            "norm_input.norm.bias": "norm.bias",
        })

    def _sizes(self, shape):
        return _bld("ReversibleInstanceNorm1dOutput", shape, self.norm_input.d, self.transposed)

    def _run(self, x, out=None, labels=None):
        if not self.norm_input._batch:
            raise errors.NoStatisticsError(
                "ReversibleInstanceNorm1dOutput before any call of its input module"
            )
        return super()._run(x, out, labels)

    def upload_count(self):
        return self.norm_input.upload_count()

    def close(self):
        """Closes nothing but its own buffers: the layer is the input's."""
        if self._scratch is not None:
            self._scratch.release()

    def extra_repr(self):
        return f"<{self.norm_input!r}>"
