# SPDX-License-Identifier: Apache-2.0
"""rlinear.py: RTSF's RLinear (models/RLinear.py), a whole forecasting model
(clnorm_rlinear: RevIN's norm, a Linear over time, RevIN's denorm)."""
from .. import _capi, errors
from . import _shapes
from ._module import Module
from ._params import Param, ParamBlock


class RLinear(Module):
    """RTSF's RLinear(seq_len, pred_len, enc_in, individual=False, rev=True)
    in eval mode (its configs' fields as arguments; dropout is the identity):
    x (B, seq_len, enc_in) -> the forecast (B, pred_len, enc_in):
    ``x = rev(x, 'norm')`` (the forecasting RevIN, eps 1e-5, affine), ``pred =
    Linear(x.transpose(1, 2)).transpose(1, 2)`` (one nn.Linear(seq_len,
    pred_len) over the time axis of every channel, or one per channel with
    individual), ``rev(pred, 'denorm')``; rev=False: the Linear alone. The
    call returns the forecast (RTSF's forward(x, y) also returns the loss).

    state_dict: ``Linear.weight`` (pred_len, seq_len) and ``Linear.bias``
    (pred_len,), or ``Linear.{d}.weight`` and ``Linear.{d}.bias`` for each
    channel d with individual (all zero until loaded); ``rev.affine_weight``
    (ones) and ``rev.affine_bias`` (zeros) of shape (enc_in,) with rev. The
    three steps run on the device with no host wait between them; the result
    is a new array (``out=`` must have its shape, and may not overlap x).
    Calls: see clnorm.nn.Module.
    """

    _c_layer = "clnorm_rlinear"
    _in_place = False

    def __init__(self, seq_len, pred_len, enc_in, individual=False, rev=True, *, context=None):
        self.seq_len = l = _shapes.size_arg(seq_len, "seq_len")
        self.pred_len = h = _shapes.size_arg(pred_len, "pred_len")
        self.enc_in = d = _shapes.size_arg(enc_in, "enc_in")
        self.individual = bool(individual)
        self.rev = bool(rev)
        if self.individual:
            rows = []
            for c in range(d):
                rows += [Param(f"Linear.{c}.weight", (h, l), 0.0, ("weight", c, d)),
                         Param(f"Linear.{c}.bias", (h,), 0.0, ("bias", c, d))]
        else:
            rows = [Param("Linear.weight", (h, l), 0.0, "weight"),
                    Param("Linear.bias", (h,), 0.0, "bias")]
        if self.rev:
            rows += [Param("rev.affine_weight", (d,), 1.0, "affine_weight"),
                     Param("rev.affine_bias", (d,), 0.0, "affine_bias")]
        flags = (_capi.RLINEAR_INDIVIDUAL if self.individual else 0) | (
            0 if self.rev else _capi.RLINEAR_NO_REV
        )
        self._make(context, (l, h, d, flags), ParamBlock(_capi.RlinearParams, rows))

    def _sizes(self, shape):
        if len(shape) != 3 or shape[1] != self.seq_len or shape[2] != self.enc_in:
            raise errors.ShapeMismatchError(
                f"RLinear({self.seq_len}, {self.pred_len}, {self.enc_in}) takes (B, "
                f"{self.seq_len}, {self.enc_in}), not shape {tuple(shape)}"
            )
        return (shape[0],)

    def _out_shape(self, shape):
        return (shape[0], self.pred_len, self.enc_in)

    def extra_repr(self):
        return (f"{self.seq_len}, {self.pred_len}, {self.enc_in}, individual={self.individual}, "
                f"rev={self.rev}")
