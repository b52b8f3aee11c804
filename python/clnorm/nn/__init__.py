# SPDX-License-Identifier: Apache-2.0
"""clnorm.nn: one class per PyTorch / ESPnet module clnorm runs, named exactly
like it, with its constructor arguments (plus ``context=``), its state_dict
names (load_state_dict, state_dict) and its call: ``layer(x)``, or
``layer(x, y)`` for the conditional classes and ``rev(x, 'norm')`` /
``rev(x, 'denorm')`` for RevIN. How the calls treat NumPy and
pyopencl arrays: clnorm.nn.Module.

Adding a class the library gains: a Module subclass naming its C layer
(``_c_layer``), making its ParamBlock and saying how a shape becomes the
forward's sizes (``_sizes``; ``_out_shape`` and ``_in_place = False`` for a
product, whose result has another shape), then one line here.
"""
from ._module import Module
from .conditional import (
    ConditionalBatchNorm2d,
    ConditionalInstanceNorm2d,
    ConditionalInstanceNorm2dPlus,
    ConditionalNoneNorm2d,
    ConditionalVarianceNorm2d,
)
from .group_norm import GroupNorm
from .instance_norm import InstanceNorm2d
from .instance_norm_plus import InstanceNorm2dPlus
from .layer_norm import LayerNorm
from .linear import Linear, TransposedLinear
from .none_norm import NoneNorm2d
from .normalization import Normalization
from .revin import ReversibleInstanceNorm1dInput, ReversibleInstanceNorm1dOutput
from .revin_forecast import RevIN
from .rlinear import RLinear
from .transposed_ln import TransposedLN
from .ts_norm import TSInverseNormalization, TSNormalization
from .variance_norm import VarianceNorm2d

__all__ = [
    "Module",
    "VarianceNorm2d",
    "ReversibleInstanceNorm1dInput",
    "ReversibleInstanceNorm1dOutput",
    "LayerNorm",
    "InstanceNorm2d",
    "NoneNorm2d",
    "TransposedLN",
    "ConditionalVarianceNorm2d",
    "ConditionalInstanceNorm2d",
    "ConditionalBatchNorm2d",
    "ConditionalNoneNorm2d",
    "InstanceNorm2dPlus",
    "ConditionalInstanceNorm2dPlus",
    "GroupNorm",
    "Normalization",
    "TSNormalization",
    "TSInverseNormalization",
    "RevIN",
    "Linear",
    "TransposedLinear",
    "RLinear",
]
