# SPDX-License-Identifier: Apache-2.0
"""_shapes.py: the shape checks the layers share, with messages that say what
the layer expected."""
import operator

from .. import errors


def nchw(layer, shape, channels):
    """(N, C, H, W) with C == channels."""
    if len(shape) != 4:
        raise errors.ShapeMismatchError(
            f"{layer} takes a 4-d (N, C, H, W) array, not shape {tuple(shape)}"
        )
    if shape[1] != channels:
        raise errors.ShapeMismatchError(
            f"{layer} has {channels} channels but x has C = {shape[1]} (shape {tuple(shape)})"
        )
    return tuple(shape)


def channels_first(layer, shape, channels, batch="N"):
    """(batch, channels, ...): the batch and the count of the positions after
    the channels (GroupNorm's and TransposedLinear's layout)."""
    if len(shape) < 2 or shape[1] != channels:
        raise errors.ShapeMismatchError(
            f"{layer} takes ({batch}, {channels}, ...), not shape {tuple(shape)}"
        )
    return shape[0], count(shape[2:])


def count(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def size_arg(value, name):
    """A constructor's size argument as an int >= 0 (0 is the library's to refuse)."""
    try:
        n = operator.index(value)
    except TypeError:
        raise errors.InvalidArgumentError(f"{name} must be an int, not {value!r}") from None
    if n < 0:
        raise errors.InvalidArgumentError(f"{name} must be >= 0, not {n}")
    return n


def real_arg(value, name):
    """A constructor's real argument (eps) as a float (its range is the library's to check)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise errors.InvalidArgumentError(f"{name} must be a number, not {value!r}") from None
