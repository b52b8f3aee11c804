# SPDX-License-Identifier: Apache-2.0
"""test_accuracy.py: every class against its PyTorch module in float64, on
fresh inputs of every family of SPEC.md section 4, with the parameters loaded
from the real module's state_dict(), on both accumulations (fp64 and
float-float); the NumPy path."""
import numpy as np
import pytest

import clnorm
from cases import CASES, CLASSES, FAMILIES, assert_matches, randomize


def reference(torch, case, module, inputs):
    """{name: (float64 result, float32 result)} of the PyTorch module."""
    out = {}
    for dtype in (torch.float64, torch.float32):
        m = module.to(dtype)
        tensors = {k: (torch.from_numpy(v).to(dtype) if v.dtype.kind == "f" else v)
                   for k, v in inputs.items()}
        with torch.no_grad():
            res = case.run_torch(m, tensors)
        for k, v in res.items():
            out.setdefault(k, []).append(v.detach().numpy().astype(np.float64))
    return out


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_matches_pytorch(torch, ctx, rng, case, family):
    module = randomize(case.torch_module(), rng, family).eval()
    layer = case.layer(ctx)
    layer.load_state_dict(module.state_dict())
    inputs = case.inputs(rng, family)
    expected = reference(torch, case, module, inputs)
    got = case.run_clnorm(layer, inputs)
    bounds = case.bounds(module, inputs)
    assert set(got) == set(expected)
    for key, value in got.items():
        assert isinstance(value, np.ndarray) and value.dtype == np.float32
        ref64, ref32 = expected[key]
        assert_matches(value, ref64, ref32, f"{case.id} {family} {key}", bounds.get(key))


def test_every_class_has_a_case():
    assert set(clnorm.nn.__all__) - {"Module"} == CLASSES
    covered = {type(case.layer(clnorm.default_context())).__name__ for case in CASES}
    assert covered == CLASSES


@pytest.mark.parametrize("name", ["LayerNorm", "RevIN-input-BDL", "VarianceNorm2d"])
def test_long_rows(torch, default_ctx, rng, name):
    """Rows of a million elements and more (SPEC.md section 4)."""
    case = {c.id: c for c in CASES}[name]
    shape = {"LayerNorm": (1, 1, 1 << 20), "RevIN-input-BDL": (1, 6, 1_000_003),
             "VarianceNorm2d": (1, 5, 1000, 1001)}[name]
    d = shape[-1] if name == "LayerNorm" else None
    module = case.torch_module() if d is None else torch.nn.LayerNorm(d)
    randomize(module, rng, "offset")
    layer = case.layer(default_ctx) if d is None else clnorm.nn.LayerNorm(d, context=default_ctx)
    layer.load_state_dict(module.state_dict())
    for family in ("normal", "offset"):
        x = rng.standard_normal(shape).astype(np.float32)
        if family == "offset":
            x = (1e4 + 1e-2 * x).astype(np.float32)
        expected = reference(torch, case, module, {"x": x})
        got = case.run_clnorm(layer, {"x": x})
        for key, value in got.items():
            assert_matches(value, *expected[key], f"{name} {shape} {family} {key}")


def test_layer_norm_without_bias(torch, default_ctx, rng):
    """LayerNorm(bias=False) (torch 2.1's argument): a state_dict of weight alone."""
    module = randomize(torch.nn.LayerNorm(11), rng, "normal")
    with torch.no_grad():
        module.bias.zero_()
    layer = clnorm.nn.LayerNorm(11, bias=False, context=default_ctx)
    layer.load_state_dict({"weight": module.weight})
    assert set(layer.state_dict()) == {"weight"}
    x = rng.standard_normal((4, 11)).astype(np.float32)
    ref64 = module.double()(torch.from_numpy(x).double()).detach().numpy()
    ref32 = module.float()(torch.from_numpy(x)).detach().numpy().astype(np.float64)
    assert_matches(layer(x), ref64, ref32, "LayerNorm(bias=False)")


def test_none_norm2d_is_exactly_x(ctx, rng):
    """NoneNorm2d returns x itself in ESPnet: -0, NaN, infinities and subnormals come back bit
    for bit, out of place too (clnorm copies through its elementwise kernel)."""
    x = rng.standard_normal((2, 3, 17, 19)).astype(np.float32)
    x.flat[:6] = [-0.0, np.nan, np.inf, -np.inf, 1e-40, -1e-45]
    y = clnorm.nn.NoneNorm2d(3, context=ctx)(x)
    assert y.tobytes() == x.tobytes()
