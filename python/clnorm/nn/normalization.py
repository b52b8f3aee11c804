# SPDX-License-Identifier: Apache-2.0
"""normalization.py: ESPnet's Normalization (clnorm_normalization)."""
from .. import _capi, errors
from . import _shapes
from ._module import Module
from ._params import Param, ParamBlock


class Normalization(Module):
    """ESPnet's Normalization(d, transposed=False, _name_="layer") on (B, ..., D),
    or (B, D, ...) when transposed (the axes between run as one L):

    - ``"layer"``: torch.nn.LayerNorm(d) over D (``norm.weight``, ``norm.bias``);
      transposed, TransposedLN(d) with scalar=True (``norm.m``, ``norm.s``);
    - ``"instance"``: per (b, d) over L, ``(x - mean) / sqrt(var + 1e-5)``;
    - ``"batch"``, eval mode: ``(x - running_mean[d]) / sqrt(running_var[d] + 1e-5)
      * weight[d] + bias[d]`` (``norm.weight``, ``norm.bias``,
      ``norm.running_mean``, ``norm.running_var``; ``norm.num_batches_tracked``
      is accepted and unused);
    - ``"group"``: GroupNorm(1, d): per b over all of (L, D), then weight[d] and
      bias[d] (``norm.weight``, ``norm.bias``);
    - ``"none"``: ``y = x``.

    ESPnet's **kwargs for the norm are not taken (InvalidArgumentError). Calls:
    see clnorm.nn.Module.
    """

    _c_layer = "clnorm_normalization"

    def __init__(self, d, transposed=False, _name_="layer", *, context=None, **kwargs):
        if kwargs:
            raise errors.InvalidArgumentError(
                f"Normalization: the norm's keyword arguments {sorted(kwargs)} are not supported"
            )
        if _name_ not in _capi.NORMALIZATION_KINDS:
            raise errors.InvalidArgumentError(
                f"Normalization: _name_ must be one of {sorted(_capi.NORMALIZATION_KINDS)}, "
                f"not {_name_!r}"
            )
        self.d = d = _shapes.size_arg(d, "d")
        self.transposed = bool(transposed)
        self._name_ = _name_
        ignored = ()
        if _name_ == "layer" and self.transposed:  # TransposedLN(d): s and m, one float each
            rows = [Param("norm.s", (1,), 1.0, "weight"), Param("norm.m", (1,), 0.0, "bias")]
        elif _name_ in ("layer", "group"):
            rows = [Param("norm.weight", (d,), 1.0, "weight"),
                    Param("norm.bias", (d,), 0.0, "bias")]
        elif _name_ == "batch":
            rows = [Param("norm.weight", (d,), 1.0, "weight"),
                    Param("norm.bias", (d,), 0.0, "bias"),
                    Param("norm.running_mean", (d,), 0.0, "running_mean"),
                    Param("norm.running_var", (d,), 1.0, "running_var")]
            ignored = ("norm.num_batches_tracked",)
        else:
            rows = []
        params = ParamBlock(_capi.NormalizationParams if rows else None, rows, ignored=ignored)
        flags = _capi.TRANSPOSED if self.transposed else 0
        self._make(context, (d, _capi.NORMALIZATION_KINDS[_name_], flags), params)

    def _sizes(self, shape):
        layout = "(B, D, ...)" if self.transposed else "(B, ..., D)"
        got_d = (shape[1] if self.transposed else shape[-1]) if len(shape) >= 2 else None
        if got_d != self.d:
            raise errors.ShapeMismatchError(
                f"Normalization({self.d}) takes {layout} with D = {self.d}, not shape "
                f"{tuple(shape)}"
            )
        rest = shape[2:] if self.transposed else shape[1:-1]
        return shape[0], _shapes.count(rest)

    def extra_repr(self):
        return f"{self.d}, transposed={self.transposed}, _name_={self._name_!r}"
