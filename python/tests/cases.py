# SPDX-License-Identifier: Apache-2.0
"""cases.py: every clnorm.nn class once (and its options), described for the
tests: the PyTorch module it mirrors, the clnorm layer, the input shape and
which axes the layer reduces over (for the input families); and the input
families of SPEC.md section 4, and its pass rule.
"""
import numpy as np

import clnorm

FAMILIES = ("normal", "offset", "scales", "const", "nan", "denormal")


class Case:
    """One class with its options.

    torch_module(): the float32 PyTorch module (ESPnet's classes from
    espnet_modules); layer(ctx): the clnorm layer; shape: x's shape; reduced:
    the axes a row spans; classes: K for the conditional classes.
    """

    def __init__(self, id, torch_module, layer, shape, reduced, classes=None):
        self.id, self.torch_module, self.layer = id, torch_module, layer
        self.shape, self.reduced, self.classes = shape, reduced, classes

    def inputs(self, rng, family):
        """{"x": float32 array[, "y": int64 labels]} for `family`."""
        out = {"x": family_input(rng, family, self.shape, self.reduced)}
        if self.classes:
            out["y"] = rng.integers(0, self.classes, size=self.shape[0])
        return out

    def run_torch(self, module, inputs):
        import torch

        args = [inputs["x"]] + ([torch.from_numpy(inputs["y"])] if "y" in inputs else [])
        return {"y": module(*args)}

    def run_clnorm(self, layer, inputs):
        args = [inputs["x"]] + ([inputs["y"]] if "y" in inputs else [])
        return {"y": layer(*args)}

    def __repr__(self):
        return self.id


class RevinOutputCase(Case):
    """ReversibleInstanceNorm1dOutput: the input module's statistics from x
    (of the family), then the output module on z of another length."""

    def __init__(self, id, transposed, shape, horizon):
        d = shape[1] if transposed else shape[2]
        super().__init__(id, lambda: _revin_pair(d, transposed),
                         lambda ctx: _clnorm_revin_pair(d, transposed, ctx), shape,
                         (2,) if transposed else (1,))
        b = shape[0]
        self.z_shape = (b, d, horizon) if transposed else (b, horizon, d)

    def inputs(self, rng, family):
        out = super().inputs(rng, family)
        out["z"] = (rng.standard_normal(self.z_shape) * 2).astype(np.float32)
        return out

    def run_torch(self, module, inputs):
        module.norm_input(inputs["x"])
        return {"y": module(inputs["z"])}

    run_clnorm = run_torch  # the same calls: the input module on x, the output on z


def _revin_pair(d, transposed):
    """The output module (its input is its norm_input)."""
    import espnet_modules as em

    return em.ReversibleInstanceNorm1dOutput(em.ReversibleInstanceNorm1dInput(d, transposed))


def _clnorm_revin_pair(d, transposed, ctx):
    inp = clnorm.nn.ReversibleInstanceNorm1dInput(d, transposed, context=ctx)
    return clnorm.nn.ReversibleInstanceNorm1dOutput(inp)


class RevinInputCase(Case):
    """ReversibleInstanceNorm1dInput: y, and the m and s ESPnet's module keeps."""

    def run_torch(self, module, inputs):
        y = module(inputs["x"])
        return {"y": y, "m": module.m, "s": module.s}

    def run_clnorm(self, layer, inputs):
        y = layer(inputs["x"])
        return {"y": y, "m": layer.m, "s": layer.s}


def _em(name, *args, **kwargs):
    def make():
        import espnet_modules as em

        return getattr(em, name)(*args, **kwargs)

    return make


def _torch(name, *args, **kwargs):
    def make():
        import torch

        return getattr(torch.nn, name)(*args, **kwargs)

    return make


def _cl(name, *args, **kwargs):
    return lambda ctx: getattr(clnorm.nn, name)(*args, context=ctx, **kwargs)


def _both(name, maker, *args, **kwargs):
    return maker(name, *args, **kwargs), _cl(name, *args, **kwargs)


NCHW = (3, 5, 7, 9)
CASES = [
    Case("VarianceNorm2d", *_both("VarianceNorm2d", _em, 5), NCHW, (2, 3)),
    RevinInputCase("RevIN-input-BLD", *_both("ReversibleInstanceNorm1dInput", _em, 6),
                   (4, 33, 6), (1,)),
    RevinInputCase("RevIN-input-BDL", *_both("ReversibleInstanceNorm1dInput", _em, 6, True),
                   (4, 6, 33), (2,)),
    RevinOutputCase("RevIN-output-BLD", False, (4, 33, 6), 12),
    RevinOutputCase("RevIN-output-BDL", True, (4, 6, 33), 12),
    Case("LayerNorm", *_both("LayerNorm", _torch, 17), (3, 5, 17), (2,)),
    Case("LayerNorm-2d-shape", *_both("LayerNorm", _torch, (4, 9)), (2, 3, 4, 9), (2, 3)),
    Case("LayerNorm-no-affine", *_both("LayerNorm", _torch, 17, eps=1e-3, elementwise_affine=False),
         (3, 5, 17), (2,)),
    Case("InstanceNorm2d", *_both("InstanceNorm2d", _torch, 5), NCHW, (2, 3)),
    Case("InstanceNorm2d-affine", *_both("InstanceNorm2d", _torch, 5, eps=1e-3, affine=True),
         NCHW, (2, 3)),
    Case("NoneNorm2d", *_both("NoneNorm2d", _em, 5), NCHW, (2, 3)),
    Case("TransposedLN", *_both("TransposedLN", _em, 6), (4, 6, 19), (1,)),
    Case("TransposedLN-not-scalar", *_both("TransposedLN", _em, 6, scalar=False), (4, 6, 19), (1,)),
    Case("ConditionalVarianceNorm2d", *_both("ConditionalVarianceNorm2d", _em, 5, 4), NCHW,
         (2, 3), 4),
]
for _name in ("ConditionalInstanceNorm2d", "ConditionalBatchNorm2d", "ConditionalNoneNorm2d"):
    CASES.append(Case(_name, *_both(_name, _em, 5, 4), NCHW, (2, 3), 4))
    CASES.append(Case(_name + "-no-bias", *_both(_name, _em, 5, 4, bias=False), NCHW, (2, 3), 4))

for _bias in (True, False):
    _suffix = "" if _bias else "-no-bias"
    CASES.append(Case("InstanceNorm2dPlus" + _suffix,
                      *_both("InstanceNorm2dPlus", _em, 5, bias=_bias), NCHW, (2, 3)))
    CASES.append(Case("ConditionalInstanceNorm2dPlus" + _suffix,
                      *_both("ConditionalInstanceNorm2dPlus", _em, 5, 4, bias=_bias), NCHW,
                      (2, 3), 4))
CASES += [
    Case("GroupNorm", *_both("GroupNorm", _torch, 2, 6), (3, 6, 5, 7), (1, 2, 3)),
    Case("GroupNorm-eps-1e-6-rank-3", *_both("GroupNorm", _torch, 3, 6, eps=1e-6), (2, 6, 11),
         (1, 2)),
    Case("GroupNorm-no-affine-per-channel", *_both("GroupNorm", _torch, 6, 6, affine=False),
         (3, 6, 5, 7), (2, 3)),
]
# Normalization: each kind in both layouts; the axes a row spans depend on both.
_NORMALIZATION_ROWS = {
    ("layer", False): (2,), ("layer", True): (1,), ("instance", False): (1,),
    ("instance", True): (2,), ("batch", False): (), ("batch", True): (),
    ("group", False): (1, 2), ("group", True): (1, 2), ("none", False): (), ("none", True): (),
}
for (_kind, _transposed), _rows in _NORMALIZATION_ROWS.items():
    CASES.append(Case(f"Normalization-{_kind}" + ("-transposed" if _transposed else ""),
                      *_both("Normalization", _em, 6, _transposed, _kind),
                      (3, 6, 13) if _transposed else (3, 13, 6), _rows))


class TSNormalizationCase(Case):
    """TSNormalization: y, and the scale ESPnet's module keeps."""

    def __init__(self, method, horizon, shape):
        super().__init__(f"TSNormalization-{method}-{horizon}",
                         *_both("TSNormalization", _em, method, horizon), shape, (1,))

    def run_torch(self, module, inputs):
        return {"y": module(inputs["x"]), "scale": module.scale}

    def run_clnorm(self, layer, inputs):
        return {"y": layer(inputs["x"]), "scale": layer.scale}


class TSInverseCase(Case):
    """TSInverseNormalization: the normalizer's scale from x (of the family),
    then the inverse on z of another length."""

    def __init__(self, method, horizon, shape, z_length):
        super().__init__(f"TSInverseNormalization-{method}", lambda: _ts_pair(method, horizon),
                         lambda ctx: _clnorm_ts_pair(method, horizon, ctx), shape, (1,))
        self.z_shape = (shape[0], z_length, shape[2])

    def inputs(self, rng, family):
        out = super().inputs(rng, family)
        out["z"] = (rng.standard_normal(self.z_shape) * 2).astype(np.float32)
        return out

    def run_torch(self, module, inputs):
        module.normalizer(inputs["x"])
        return {"y": module(inputs["z"])}

    run_clnorm = run_torch


def _ts_pair(method, horizon):
    import espnet_modules as em

    return em.TSInverseNormalization(method, em.TSNormalization(method, horizon))


def _clnorm_ts_pair(method, horizon, ctx):
    normalizer = clnorm.nn.TSNormalization(method, horizon, context=ctx)
    return clnorm.nn.TSInverseNormalization(method, normalizer)


CASES += [
    TSNormalizationCase("mean", 4, (2, 12, 3)),
    TSNormalizationCase("mean", 1, (3, 13, 7)),
    TSNormalizationCase("last", 0, (2, 6, 3)),
    TSNormalizationCase("last", 5, (2, 20, 3)),
    TSInverseCase("mean", 4, (2, 12, 3), 4),
    TSInverseCase("last", 1, (3, 13, 7), 9),
]

#: Every class of clnorm.nn the cases cover (a test checks that none is left out).
CLASSES = {
    "VarianceNorm2d", "ReversibleInstanceNorm1dInput", "ReversibleInstanceNorm1dOutput",
    "LayerNorm", "InstanceNorm2d", "NoneNorm2d", "TransposedLN", "ConditionalVarianceNorm2d",
    "ConditionalInstanceNorm2d", "ConditionalBatchNorm2d", "ConditionalNoneNorm2d",
    "InstanceNorm2dPlus", "ConditionalInstanceNorm2dPlus", "GroupNorm", "Normalization",
    "TSNormalization", "TSInverseNormalization",
}


def family_input(rng, family, shape, reduced):
    """float32 input of SPEC.md section 4's `family`: standard normal; offset
    (1e4 + 1e-2 N(0, 1)); per-row scales from 1e-3 to 1e3; constant rows
    (multiples of 1/8, so every precision centres them exactly); a NaN in one row;
    subnormal floats (1e-39 N(0, 1))."""
    row_shape = tuple(1 if i in reduced else s for i, s in enumerate(shape))
    if family == "normal":
        x = rng.standard_normal(shape)
    elif family == "offset":
        x = 1e4 + 1e-2 * rng.standard_normal(shape)
    elif family == "scales":
        x = rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 3, size=row_shape)
    elif family == "const":
        x = np.broadcast_to(rng.integers(-32, 33, size=row_shape) / 8.0, shape)
    elif family == "nan":
        x = rng.standard_normal(shape)
        x[tuple(int(rng.integers(0, s)) for s in shape)] = np.nan
    elif family == "denormal":  # subnormal floats, as the C suite's family
        x = 1e-39 * rng.standard_normal(shape)
    else:
        raise ValueError(family)
    return np.ascontiguousarray(x, dtype=np.float32)


def randomize(module, rng, family):
    """Trained-looking parameters and buffers for a torch module: scales
    N(1, 0.2), shifts N(0, 0.5), running_var U(0.5, 2) (for the offset family,
    the statistics a layer trained on such data holds: mean 1e4 + N(0, 1e-2),
    var 1e-4 U(0.5, 2))."""
    import torch

    with torch.no_grad():
        for name, t in list(module.named_parameters()) + list(module.named_buffers()):
            if not t.is_floating_point():
                continue
            leaf = name.rsplit(".", 1)[-1]
            shape = tuple(t.shape)
            if leaf == "running_var":
                v = rng.uniform(0.5, 2, shape) * (1e-4 if family == "offset" else 1)
            elif leaf == "running_mean":
                v = 1e4 + 1e-2 * rng.standard_normal(shape) if family == "offset" else \
                    0.5 * rng.standard_normal(shape)
            elif leaf in ("bias", "m"):
                v = 0.5 * rng.standard_normal(shape)
            else:
                v = 1 + 0.2 * rng.standard_normal(shape)
            t.copy_(torch.from_numpy(v))
    return module


def tolerance(ref64, ref32):
    """SPEC.md section 4 as the fixtures apply it: twice PyTorch float32's own
    max error on these inputs, and never below 1e-6 x max(1, max |y|)."""
    both = np.isfinite(ref64) & np.isfinite(ref32)
    own = float(np.max(np.abs(ref32[both] - ref64[both]))) if both.any() else 0.0
    scale = float(np.max(np.abs(ref64[np.isfinite(ref64)]), initial=1.0))
    return max(2.0 * own, 1e-6 * scale), own


def assert_matches(got, ref64, ref32, what):
    """Every element: the same NaN and inf positions as the float64 result
    rounded to float32 (beyond float32's range it is an infinity there; where
    PyTorch float32 itself gives the same infinity or NaN, so may clnorm),
    the rest within tolerance."""
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == ref64.shape, f"{what}: shape {got.shape}, expected {ref64.shape}"
    with np.errstate(over="ignore"):
        as32 = ref64.astype(np.float32).astype(np.float64)
    for test in (np.isnan, np.isposinf, np.isneginf):
        where = (test(got) != test(as32)) & ~(test(got) & test(ref32))
        assert not where.any(), (
            f"{what}: {test.__name__} differs at {np.argwhere(where)[:5].tolist()} "
            f"(got {got[where][:5]}, expected {ref64[where][:5]})"
        )
    tol, own = tolerance(ref64, ref32)
    finite = np.isfinite(as32) & np.isfinite(got)
    err = float(np.max(np.abs(got[finite] - ref64[finite]), initial=0.0))
    assert err <= tol, \
        f"{what}: max error {err:.3g} > tolerance {tol:.3g} (PyTorch float32: {own:.3g})"
    return err, tol
