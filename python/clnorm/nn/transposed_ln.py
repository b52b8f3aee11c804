# SPDX-License-Identifier: Apache-2.0
"""transposed_ln.py: ESPnet's TransposedLN (clnorm_transposed_ln)."""
from .. import _capi, errors
from . import _shapes
from ._module import Module
from ._params import Param, ParamBlock


class TransposedLN(Module):
    """ESPnet's TransposedLN(d, scalar=True) on (B, D, ...), over D for each
    position: scalar, ``y = (s_p / s) * (x - m + m_p)`` with m the mean and s the
    biased std over D and no epsilon (a constant column gives inf or NaN, as
    PyTorch does); scalar=False, torch.nn.LayerNorm(d) over D.

    state_dict: ``m`` and ``s`` (shape (1,)), or ``ln.weight`` and ``ln.bias``
    (D,) with scalar=False. The axes after D run as one L. Calls: see
    clnorm.nn.Module.
    """

    _c_layer = "clnorm_transposed_ln"

    def __init__(self, d, scalar=True, *, context=None):
        self.d = _shapes.size_arg(d, "d")
        self.scalar = bool(scalar)
        if self.scalar:
            rows = [Param("m", (1,), 0.0, "bias"), Param("s", (1,), 1.0, "weight")]
        else:
            rows = [Param("ln.weight", (self.d,), 1.0, "weight"),
                    Param("ln.bias", (self.d,), 0.0, "bias")]
        flags = 0 if self.scalar else _capi.NOT_SCALAR
        self._make(context, (self.d, flags), ParamBlock(_capi.AffineParams, rows))

    def _sizes(self, shape):
        if len(shape) < 2 or shape[1] != self.d:
            raise errors.ShapeMismatchError(
                f"TransposedLN({self.d}) takes (B, {self.d}, ...), not shape {tuple(shape)}"
            )
        return shape[0], _shapes.count(shape[2:])

    def extra_repr(self):
        return f"{self.d}, scalar={self.scalar}"
