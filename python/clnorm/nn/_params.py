# SPDX-License-Identifier: Apache-2.0
"""_params.py: a layer's parameters as the C API wants them.

Each layer's parameters live in float32 NumPy arrays that this block owns,
pointed to by the layer's ctypes params struct (clnorm_*_params). The arrays
are allocated once and overwritten in place, so the struct's pointers stay
valid, and every load bumps the struct's `version`: the next forward then
uploads them (the library uploads only when the version changed).
"""
import ctypes
from collections import namedtuple

import numpy as np

from .. import _arrays, _capi, errors

#: One parameter: its state_dict name, shape, initial value and struct field.
#: A field (name, i, n) makes it row i of n stacked in one array that the
#: struct field points to (RLinear's Linear.{d}.weight: rows of (D, H, L)).
Param = namedtuple("Param", "name shape fill field")


class ParamBlock:
    """The parameters of one layer, by state_dict name.

    `params`: the Param rows; `struct`: the ctypes struct type (None when the
    layer takes none); `fixed`: {field: value} for struct fields that are not
    in the state_dict (LayerNorm(bias=False)'s zero bias); `aliases`: extra
    state_dict names for a parameter (ReversibleInstanceNorm1dOutput holds
    the input's); `ignored`: names accepted and not used (integer buffers such
    as `bn.num_batches_tracked`, statistics clnorm computes itself).
    """

    def __init__(self, struct=None, params=(), fixed=None, aliases=None, ignored=()):
        self.params = list(params)
        self.aliases = dict(aliases or {})
        self.ignored = tuple(ignored)
        self.arrays = {}
        stacks = {}  # field -> the array its stacked rows live in
        for p in self.params:
            if isinstance(p.field, tuple):
                field, i, n = p.field
                if field not in stacks:
                    stacks[field] = np.full((n,) + tuple(p.shape), p.fill, dtype=np.float32)
                self.arrays[p.name] = stacks[field][i]  # a view: loads write the stack
            else:
                self.arrays[p.name] = np.full(p.shape, p.fill, dtype=np.float32)
        self._stacks = stacks
        self._fixed = {}
        self.struct = struct() if struct else None
        self.pointer = ctypes.pointer(self.struct) if struct else None
        if struct:
            for p in self.params:
                if not isinstance(p.field, tuple):
                    setattr(self.struct, p.field,
                            self.arrays[p.name].ctypes.data_as(_capi.floats_p))
            for field, stack in stacks.items():
                setattr(self.struct, field, stack.ctypes.data_as(_capi.floats_p))
            for field, value in (fixed or {}).items():
                self._fixed[field] = np.ascontiguousarray(value, dtype=np.float32)
                setattr(self.struct, field, self._fixed[field].ctypes.data_as(_capi.floats_p))
            self.struct.version = 1

    def view(self, aliases):
        """The same parameters (arrays, struct, version) under other names only:
        `aliases` maps each new name to a name of this block."""
        other = ParamBlock()
        other.__dict__.update(self.__dict__)
        other.aliases = dict(aliases)
        other._canonical = False
        return other

    _canonical = True  # the Param names are state_dict names (not in a view)

    def names(self):
        """Every state_dict name."""
        return ([p.name for p in self.params] if self._canonical else []) + list(self.aliases)

    def state_dict(self):
        """{name: a float32 copy} for every state_dict name."""
        out = {p.name: self.arrays[p.name].copy() for p in self.params} if self._canonical else {}
        out.update({a: self.arrays[target].copy() for a, target in self.aliases.items()})
        return out

    def load(self, state_dict, strict=True, prefix=""):
        """Copy the values of `state_dict` (name -> torch tensor, NumPy array or
        anything numpy.asarray takes) into the parameters. Names are taken after
        `prefix`; names that do not start with it are skipped. Every value is
        checked (shape, a real dtype) before any is copied. With `strict`, a
        parameter that no name gives, or a name this layer does not have, is
        an InvalidArgumentError, as torch's load_state_dict(strict=True)."""
        if not hasattr(state_dict, "items"):
            raise errors.InvalidArgumentError(
                "load_state_dict takes a mapping of names to tensors or arrays (a state_dict), "
                f"not {type(state_dict).__name__}"
            )
        if not isinstance(prefix, str):
            raise errors.InvalidArgumentError(f"prefix must be a str, not {prefix!r}")
        given = {k[len(prefix):]: v for k, v in state_dict.items()
                 if isinstance(k, str) and k.startswith(prefix)}
        targets = {p.name: p.name for p in self.params} if self._canonical else {}
        targets.update(self.aliases)
        unexpected = [k for k in given if k not in targets and k not in self.ignored]
        covered = {targets[k] for k in given if k in targets}
        missing = [p.name for p in self.params if p.name not in covered]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append("missing key(s) " + ", ".join(repr(prefix + k) for k in missing))
            if unexpected:
                parts.append("unexpected key(s) " + ", ".join(repr(prefix + k) for k in unexpected))
            raise errors.InvalidArgumentError("load_state_dict: " + "; ".join(parts))
        shapes = {p.name: tuple(p.shape) for p in self.params}
        values = {}
        for key, value in given.items():
            if key not in targets:
                continue
            target = targets[key]
            arr = _arrays.host_values(value, f"state_dict[{prefix + key!r}]")
            if arr.shape != shapes[target]:
                raise errors.ShapeMismatchError(
                    f"load_state_dict: {prefix + key!r} has shape {tuple(arr.shape)}, "
                    f"the layer's is {shapes[target]}"
                )
            values[target] = arr
        for target, arr in values.items():
            np.copyto(self.arrays[target], arr, casting="unsafe")
        if values and self.struct is not None:
            self.struct.version += 1
        return missing, unexpected

    @property
    def version(self):
        return self.struct.version if self.struct is not None else 0
