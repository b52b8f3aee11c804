# SPDX-License-Identifier: Apache-2.0
"""cases.py: every clnorm.nn class once (and its options), described for the
tests: the PyTorch module it mirrors, the clnorm layer, the input shape and
which axes the layer reduces over (for the input families); and the input
families of SPEC.md section 4, and its pass rule.
"""
import math

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

    def bounds(self, module, inputs):
        """{result name: per-element error bound} for the results of a matrix
        product (SPEC.md section 8, product_bound); none for the normalisations,
        whose rule is tolerance()."""
        return {}

    def __repr__(self):
        return self.id


class InverseCase(Case):
    """An inverse: the statistics (or scale) from x, of the family, then the
    inverse on z, a standard normal (times 2) of another length, z_shape.
    Subclasses say which calls run_torch makes."""

    def __init__(self, id, torch_module, layer, shape, reduced, z_shape):
        super().__init__(id, torch_module, layer, shape, reduced)
        self.z_shape = z_shape

    def inputs(self, rng, family):
        out = super().inputs(rng, family)
        out["z"] = (rng.standard_normal(self.z_shape) * 2).astype(np.float32)
        return out


class RevinOutputCase(InverseCase):
    """ReversibleInstanceNorm1dOutput: the input module's statistics from x
    (of the family), then the output module on z of another length."""

    def __init__(self, id, transposed, shape, horizon):
        b, d = shape[0], shape[1] if transposed else shape[2]
        super().__init__(id, lambda: _revin_pair(d, transposed),
                         lambda ctx: _clnorm_revin_pair(d, transposed, ctx), shape,
                         (2,) if transposed else (1,),
                         (b, d, horizon) if transposed else (b, horizon, d))

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


class TSInverseCase(InverseCase):
    """TSInverseNormalization: the normalizer's scale from x (of the family),
    then the inverse on z of another length."""

    def __init__(self, method, horizon, shape, z_length):
        super().__init__(f"TSInverseNormalization-{method}", lambda: _ts_pair(method, horizon),
                         lambda ctx: _clnorm_ts_pair(method, horizon, ctx), shape, (1,),
                         (shape[0], z_length, shape[2]))

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



# ---- SPEC.md section 8: the forecasting RevIN, and the matrix products ----

def _fm(name, *args, **kwargs):
    def make():
        import forecast_modules as fm

        return getattr(fm, name)(*args, **kwargs)

    return make


class ForecastRevinCase(Case):
    """The forecasting RevIN's norm: y, and the statistics the module keeps
    (mean, or last with subtract_last, and stdev, (B, 1, D))."""

    def __init__(self, id, torch_module, layer, shape, subtract_last=False):
        super().__init__(id, torch_module, layer, shape, (1,))
        self.centre = "last" if subtract_last else "mean"

    def run_torch(self, module, inputs):
        y = module(inputs["x"], "norm")
        return {"y": y, self.centre: getattr(module, self.centre), "stdev": module.stdev}

    run_clnorm = run_torch  # the same calls and attributes


class ForecastRevinDenormCase(InverseCase):
    """The forecasting RevIN's denorm: the statistics from x (of the family),
    then denorm on z of another length (a horizon)."""

    def __init__(self, id, torch_module, layer, shape, horizon):
        super().__init__(id, torch_module, layer, shape, (1,), (shape[0], horizon, shape[2]))

    def run_torch(self, module, inputs):
        module(inputs["x"], "norm")
        return {"y": module(inputs["z"], "denorm")}

    run_clnorm = run_torch


#: float32's unit roundoff.
U32 = 2.0 ** -24


def dot_bound(k, sums):
    """SPEC.md 8's float32 dot-product bound for K terms whose sum |w x| + |b|
    is `sums`: 4 * 2^-24 * sums, widened by sqrt(K) / 4 beyond 16 terms
    (CLBlast sums along all of K in one chain, whose rounding grows like
    sqrt(K): tools/ops/op_linear.c), plus K steps of the subnormal grid
    (2^-149 each) for sums that underflow."""
    return 4.0 * U32 * max(1.0, math.sqrt(k) / 4.0) * sums + k * 2.0 ** -149


def _abs_params(module):
    return {k: np.abs(v.detach().numpy().astype(np.float64))
            for k, v in module.state_dict().items()}


class LinearCase(Case):
    """torch.nn.Linear on the last axis: dot_bound(U, |x| |W|^T + |b|)."""

    def bounds(self, module, inputs):
        p = _abs_params(module)
        s = np.abs(inputs["x"].astype(np.float64)) @ p["weight"].T + p.get("bias", 0.0)
        return {"y": dot_bound(p["weight"].shape[1], s)}


class TransposedLinearCase(Case):
    """ESPnet's TransposedLinear on (B, U, ...): the same bound over U."""

    def bounds(self, module, inputs):
        p = _abs_params(module)
        x = np.abs(inputs["x"].astype(np.float64))
        s = np.einsum("vu,bu...->bv...", p["weight"], x)
        if "bias" in p:
            s += p["bias"].reshape((-1,) + (1,) * (x.ndim - 2))
        return {"y": dot_bound(p["weight"].shape[1], s)}


class RLinearCase(Case):
    """RTSF's RLinear: the product's bound, carried through RevIN (see
    rlinear_bound)."""

    def bounds(self, module, inputs):
        return {"y": rlinear_bound(module, inputs["x"])}


def rlinear_bound(module, x32):
    """RLinear's per-element bound, in float64 from the float32 inputs and
    parameters, x (B, L, D) -> y (B, H, D):

    - the norm: xn = ((x - m) / s) * aw + ab, each element off by at most
      e = 2u (|m| / s + |plain|) |aw| + 2u |xn| (the centre and stdev rounded
      to float32, the stored output rounded; u = 2^-24);
    - the product over L: dot_bound(L, sum_l |W xn| + |b|), plus the norm's
      error carried through it, sum_l |W| e;
    - the denorm, y = (pred - ab) / (aw + eps^2) * s + m: the above times
      g = s / |aw + eps^2|, plus 4u (g |pred - ab| + |m| + |y|) for its own
      roundings and the float32 centre added back.

    Without RevIN (rev=False) it is the product's bound alone."""
    x = x32.astype(np.float64)
    sd = {k: v.detach().numpy().astype(np.float64) for k, v in module.state_dict().items()}
    b, l, d = x.shape
    if module.individual:
        w = np.stack([sd[f"Linear.{c}.weight"] for c in range(d)])  # (D, H, L)
        bias = np.stack([sd[f"Linear.{c}.bias"] for c in range(d)])  # (D, H)
    else:
        w = np.broadcast_to(sd["Linear.weight"], (d,) + sd["Linear.weight"].shape)
        bias = np.broadcast_to(sd["Linear.bias"], (d,) + sd["Linear.bias"].shape)
    if module.rev is not None:
        eps = module.rev.eps
        aw, ab = sd["rev.affine_weight"], sd["rev.affine_bias"]
        m = x.mean(axis=1, keepdims=True)
        s = np.sqrt(x.var(axis=1, keepdims=True) + eps)
        plain = (x - m) / s
        xn = plain * aw + ab
        e = 2 * U32 * (np.abs(m) / s + np.abs(plain)) * np.abs(aw) + 2 * U32 * np.abs(xn)
    else:
        xn, e = x, np.zeros_like(x)
    # (B, L, D) with (D, H, L) -> (B, H, D)
    pred = np.einsum("dhl,bld->bhd", w, xn) + bias.T
    sums = np.einsum("dhl,bld->bhd", np.abs(w), np.abs(xn)) + np.abs(bias).T
    bound = dot_bound(l, sums)
    if module.rev is None:
        return bound
    spread = np.einsum("dhl,bld->bhd", np.abs(w), e)
    wd = aw + eps * eps
    g = s / np.abs(wd)
    y = (pred - ab) / wd * s + m
    return g * (bound + spread + 4 * U32 * np.abs(pred - ab)) + 4 * U32 * (np.abs(m) + np.abs(y))


CASES += [
    ForecastRevinCase("RevIN-norm", _fm("RevIN", 6), _cl("RevIN", 6), (4, 33, 6)),
    ForecastRevinCase("RevIN-norm-no-affine-eps-1e-3", _fm("RevIN", 6, eps=1e-3, affine=False),
                      _cl("RevIN", 6, eps=1e-3, affine=False), (3, 20, 6)),
    ForecastRevinCase("RevIN-norm-subtract-last", _fm("PatchTSTRevIN", 6, subtract_last=True),
                      _cl("RevIN", 6, subtract_last=True), (4, 33, 6), subtract_last=True),
    ForecastRevinDenormCase("RevIN-denorm", _fm("RevIN", 6), _cl("RevIN", 6), (4, 33, 6), 12),
    ForecastRevinDenormCase("RevIN-denorm-subtract-last",
                            _fm("PatchTSTRevIN", 6, subtract_last=True),
                            _cl("RevIN", 6, subtract_last=True), (4, 33, 6), 12),
    LinearCase("Linear", *_both("Linear", _torch, 17, 5), (3, 4, 17), (2,)),
    LinearCase("Linear-no-bias-K-130", *_both("Linear", _torch, 130, 9, bias=False), (7, 130),
               (1,)),
    TransposedLinearCase("TransposedLinear", *_both("TransposedLinear", _em, 6, 4), (3, 6, 11),
                         (1,)),
    TransposedLinearCase("TransposedLinear-4d", *_both("TransposedLinear", _em, 24, 5),
                         (2, 24, 3, 5), (1,)),
    RLinearCase("RLinear", *_both("RLinear", _fm, 24, 8, 3), (2, 24, 3), (1,)),
    RLinearCase("RLinear-individual-L-96", *_both("RLinear", _fm, 96, 24, 5, individual=True),
                (2, 96, 5), (1,)),
    RLinearCase("RLinear-no-rev", *_both("RLinear", _fm, 24, 8, 3, rev=False), (2, 24, 3), (1,)),
]

#: Every class of clnorm.nn the cases cover (a test checks that none is left out).
CLASSES = {
    "VarianceNorm2d", "ReversibleInstanceNorm1dInput", "ReversibleInstanceNorm1dOutput",
    "LayerNorm", "InstanceNorm2d", "NoneNorm2d", "TransposedLN", "ConditionalVarianceNorm2d",
    "ConditionalInstanceNorm2d", "ConditionalBatchNorm2d", "ConditionalNoneNorm2d",
    "InstanceNorm2dPlus", "ConditionalInstanceNorm2dPlus", "GroupNorm", "Normalization",
    "TSNormalization", "TSInverseNormalization", "RevIN", "Linear", "TransposedLinear",
    "RLinear",
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


def assert_matches(got, ref64, ref32, what, bound=None):
    """Every element: the same NaN and inf positions as the float64 result
    rounded to float32 (beyond float32's range it is an infinity there; where
    PyTorch float32 itself gives the same infinity or NaN, so may clnorm),
    the rest within tolerance; with `bound` (a product's, Case.bounds), within
    _within_bound's rule instead."""
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
    finite = np.isfinite(as32) & np.isfinite(got)
    if bound is not None:
        return _within_bound(got, ref64, ref32, bound, finite, what)
    tol, own = tolerance(ref64, ref32)
    err = float(np.max(np.abs(got[finite] - ref64[finite]), initial=0.0))
    assert err <= tol, \
        f"{what}: max error {err:.3g} > tolerance {tol:.3g} (PyTorch float32: {own:.3g})"
    return err, tol


def _within_bound(got, ref64, ref32, bound, finite, what):
    """The products' rule: SPEC.md 8's "within 2 x PyTorch float32's own error
    or within the bound, whichever is larger", with PyTorch's error measured
    in units of each element's bound, so that it keeps its sense on rows of
    very different scales: every element within bound * max(1, 2 r), r the
    largest |torch32 - ref64| / bound over the result. The bound alone is not
    a strict one (4 * 2^-24 per unit of sum |w x| is the probabilistic
    estimate: sums of many terms of one sign, as the offset and constant
    families give, reach about 1.1 of it, and PyTorch's own sums too)."""
    assert bound.shape == ref64.shape, f"{what}: bound of shape {bound.shape}"
    bound = bound[finite]
    err = np.abs(got[finite] - ref64[finite])
    own = np.abs(ref32[finite] - ref64[finite])
    own = np.where(np.isfinite(own), own, 0.0)
    r = float(np.max(own / bound, initial=0.0))
    tol = bound * max(1.0, 2.0 * r)
    excess = err - tol
    if excess.size and not (excess <= 0).all():
        i = int(np.argmax(np.where(np.isnan(excess), np.inf, excess)))
        where = np.argwhere(finite)[i].tolist()
        raise AssertionError(
            f"{what}: error {err[i]:.3g} at {where} > {tol[i]:.3g} (its bound {bound[i]:.3g} "
            f"x max(1, 2 x {r:.3g}, PyTorch float32's error in bounds); got "
            f"{got[finite][i]!r}, expected {ref64[finite][i]!r})"
        )
    return float(err.max(initial=0.0)), float(tol.max(initial=0.0))
