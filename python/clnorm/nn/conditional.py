# SPDX-License-Identifier: Apache-2.0
"""conditional.py: ESPnet's conditional NCHW classes (clnorm_conditional_norm2d):
ConditionalVarianceNorm2d, ConditionalInstanceNorm2d, ConditionalBatchNorm2d
(eval mode), ConditionalNoneNorm2d and ConditionalInstanceNorm2dPlus, one kind
each."""
import ctypes

from .. import _capi, errors
from . import _shapes
from ._module import Module
from ._params import Param, ParamBlock


class _Conditional(Module):
    """What the four share: ``layer(x, y)`` with x (N, C, H, W) and y the class
    of each sample, scaled (and shifted, with a bias) by row y[n] of
    ``embed.weight``.

    y: host integers (NumPy, torch, a list) of shape (N,), each in [0, K)
    (checked, as torch's Embedding does: InvalidArgumentError otherwise),
    uploaded as int32; or, with a pyopencl x, an int32 pyopencl array used as
    it is (a label outside [0, K) is clamped on the device and reported by
    label_errors()) or host integers (uploaded without a wait).
    """

    _c_layer = "clnorm_conditional_norm2d"
    _kind = None
    _has_bias = True  # whether the class takes bias (ConditionalVarianceNorm2d does not use it)
    _batch_stats = False
    _chunks = 2  # embed.weight's width in C with a bias (gamma, beta); one less without

    def __init__(self, num_features, num_classes, bias=True, *, context=None):
        self.num_features = c = _shapes.size_arg(num_features, "num_features")
        self.num_classes = k = _shapes.size_arg(num_classes, "num_classes")
        self.bias = bool(bias)
        with_beta = self._has_bias and self.bias
        rows = []
        if self._batch_stats:
            rows += [Param("bn.running_mean", (c,), 0.0, "running_mean"),
                     Param("bn.running_var", (c,), 1.0, "running_var")]
        width = (self._chunks if with_beta else self._chunks - 1) * c
        rows.append(Param("embed.weight", (k, width), 1.0, "embed"))
        params = ParamBlock(
            _capi.ConditionalParams, rows,
            ignored=("bn.num_batches_tracked",) if self._batch_stats else (),
        )
        if with_beta:  # ESPnet's initial table: the scales 1 (here), beta (the last chunk) 0
            params.arrays["embed.weight"][:, width - c:] = 0.0
        flags = _capi.NO_BIAS if self._has_bias and not self.bias else 0
        self._make(context, (self._kind, c, k, flags), params)

    def __call__(self, x, y, out=None):
        if y is None:
            raise errors.InvalidArgumentError(
                f"{type(self).__name__} takes the labels y (one class per sample), not None"
            )
        return self._run(x, out, labels=y)

    def forward(self, x, y, out=None):
        """The same as calling the layer (PyTorch's spelling)."""
        return self(x, y, out=out)

    def _classes(self):
        return self.num_classes

    def _sizes(self, shape):
        return _shapes.nchw(type(self).__name__, shape, self.num_features)

    def _c_args(self, sizes, labels):
        return (self._params.pointer, labels[0], labels[1]) + tuple(sizes)

    def label_errors(self):
        """Whether a call since the last label_errors() met a device label
        outside [0, K) (and clamped it). Waits for the layer's forwards."""
        clamped = ctypes.c_int()
        errors.check(self._lib.clnorm_conditional_norm2d_label_errors(self.handle,
                                                                      ctypes.byref(clamped)),
                     self._lib, self.context.handle, f"{type(self).__name__}: label_errors")
        return bool(clamped.value)

    def extra_repr(self):
        return f"{self.num_features}, {self.num_classes}, bias={self.bias}"


class ConditionalVarianceNorm2d(_Conditional):
    """ESPnet's ConditionalVarianceNorm2d(num_features, num_classes, bias=False):
    ``g[c] * x / sqrt(var + 1e-5)``, var the unbiased variance of each (n, c)
    plane, g = embed.weight[y[n]]. state_dict: ``embed.weight`` (K, C). `bias`
    is accepted and unused, as in ESPnet. Calls: see _Conditional and Module.
    """

    _kind = _capi.CONDITIONAL_VARIANCE
    _has_bias = False

    def __init__(self, num_features, num_classes, bias=False, *, context=None):
        super().__init__(num_features, num_classes, bias, context=context)


class ConditionalInstanceNorm2d(_Conditional):
    """ESPnet's ConditionalInstanceNorm2d(num_features, num_classes, bias=True):
    ``h = (x - mean) / sqrt(var + 1e-5)`` per (n, c) plane (biased variance),
    then ``gamma[c] * h + beta[c]`` with gamma, beta = embed.weight[y[n]].chunk(2)
    (bias=False: ``gamma * h``). state_dict: ``embed.weight`` (K, 2C), or
    (K, C) without bias. Calls: see _Conditional and Module.
    """

    _kind = _capi.CONDITIONAL_INSTANCE


class ConditionalBatchNorm2d(_Conditional):
    """ESPnet's ConditionalBatchNorm2d(num_features, num_classes, bias=True) in
    eval mode: ``h = (x - running_mean[c]) / sqrt(running_var[c] + 1e-5)``, then
    as ConditionalInstanceNorm2d. state_dict: ``bn.running_mean``,
    ``bn.running_var`` (C,), ``embed.weight``; ``bn.num_batches_tracked`` is
    accepted and unused. Calls: see _Conditional and Module.
    """

    _kind = _capi.CONDITIONAL_BATCH
    _batch_stats = True


class ConditionalNoneNorm2d(_Conditional):
    """ESPnet's ConditionalNoneNorm2d(num_features, num_classes, bias=True):
    ``gamma[c] * x + beta[c]`` from embed.weight[y[n]] (bias=False: ``gamma * x``).
    state_dict: ``embed.weight`` (K, 2C), or (K, C) without bias. Calls: see
    _Conditional and Module.
    """

    _kind = _capi.CONDITIONAL_NONE


class ConditionalInstanceNorm2dPlus(_Conditional):
    """ESPnet's ConditionalInstanceNorm2dPlus(num_features, num_classes, bias=True):
    InstanceNorm2dPlus with ``gamma, alpha, beta = embed.weight[y[n]].chunk(3)``
    (bias=False: ``gamma, alpha = chunk(2)``). state_dict: ``embed.weight``
    (K, 3C), or (K, 2C) without bias. Calls: see _Conditional and Module.
    """

    _kind = _capi.CONDITIONAL_INSTANCE_PLUS
    _chunks = 3
