# SPDX-License-Identifier: Apache-2.0
"""test_state_dict.py: load_state_dict and state_dict with PyTorch's names,
from torch modules and NumPy arrays, and the parameter upload it drives."""
import numpy as np
import pytest

import clnorm
from cases import CASES, randomize


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_names_and_values_round_trip(torch, default_ctx, rng, case):
    """state_dict() names exactly what the torch module's has (float entries)
    and gives back what load_state_dict took."""
    module = randomize(case.torch_module(), rng, "normal")
    layer = case.layer(default_ctx)
    layer.load_state_dict(module.state_dict())
    mine = layer.state_dict()
    theirs = {k: v for k, v in module.state_dict().items() if v.is_floating_point()}
    assert set(mine) == set(theirs)
    for k, v in theirs.items():
        np.testing.assert_array_equal(mine[k], v.numpy().astype(np.float32), err_msg=k)


def test_numpy_state_dict_and_upload(default_ctx, rng):
    layer = clnorm.nn.VarianceNorm2d(3, context=default_ctx)
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    assert layer.upload_count() == 0
    y1 = layer(x)
    layer(x)
    assert layer.upload_count() == 1  # uploaded once, not again while unchanged
    layer.load_state_dict({"alpha": np.array([2.0, 3.0, 4.0])})  # float64: converted
    y2 = layer(x)
    assert layer.upload_count() == 2
    np.testing.assert_allclose(y2, y1 * np.array([2, 3, 4], dtype=np.float32)[:, None, None],
                               rtol=1e-6)
    assert layer.state_dict()["alpha"].dtype == np.float32


def test_state_dict_returns_copies(default_ctx):
    layer = clnorm.nn.VarianceNorm2d(3, context=default_ctx)
    layer.state_dict()["alpha"][:] = 5
    np.testing.assert_array_equal(layer.state_dict()["alpha"], np.ones(3, dtype=np.float32))


def test_prefix_selects_a_submodule(torch, default_ctx, rng):
    """A whole model's state_dict, with the submodule's prefix."""
    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.LayerNorm(8))
    randomize(model[1], rng, "normal")
    layer = clnorm.nn.LayerNorm(8, context=default_ctx)
    result = layer.load_state_dict(model.state_dict(), prefix="1.")
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(layer.state_dict()["weight"], model[1].weight.detach().numpy())
    x = rng.standard_normal((2, 8)).astype(np.float32)
    ref = model[1].double()(torch.from_numpy(x).double()).detach().numpy()
    np.testing.assert_allclose(layer(x), ref, atol=1e-5)


def test_strict(default_ctx):
    layer = clnorm.nn.InstanceNorm2d(3, affine=True, context=default_ctx)
    with pytest.raises(clnorm.InvalidArgumentError, match=r"missing key\(s\) 'bias'"):
        layer.load_state_dict({"weight": np.ones(3)})
    with pytest.raises(clnorm.InvalidArgumentError, match=r"unexpected key\(s\) 'gamma'"):
        layer.load_state_dict({"weight": np.ones(3), "bias": np.zeros(3), "gamma": np.ones(3)})
    result = layer.load_state_dict({"weight": np.full(3, 2.0), "gamma": np.ones(3)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["gamma"]
    np.testing.assert_array_equal(layer.state_dict()["weight"], np.full(3, 2, dtype=np.float32))


def test_a_refused_value_changes_nothing(default_ctx):
    layer = clnorm.nn.InstanceNorm2d(3, affine=True, context=default_ctx)
    before = layer.state_dict()
    with pytest.raises(clnorm.ShapeMismatchError, match=r"'bias' has shape \(4,\)"):
        layer.load_state_dict({"weight": np.full(3, 2.0), "bias": np.zeros(4)})
    with pytest.raises(clnorm.InvalidArgumentError, match="dtype"):
        layer.load_state_dict({"weight": np.full(3, 2.0), "bias": np.array(["a", "b", "c"])})
    with pytest.raises(clnorm.InvalidArgumentError, match="mapping"):
        layer.load_state_dict([("weight", np.ones(3))])
    after = layer.state_dict()
    for k in before:
        np.testing.assert_array_equal(before[k], after[k])


def test_batch_norm_bookkeeping_is_accepted(torch, default_ctx):
    """bn.num_batches_tracked (an integer buffer) is in the torch state_dict
    and has no use here: accepted, not unexpected."""
    import espnet_modules as em

    module = em.ConditionalBatchNorm2d(3, 2)
    assert "bn.num_batches_tracked" in module.state_dict()
    layer = clnorm.nn.ConditionalBatchNorm2d(3, 2, context=default_ctx)
    assert layer.load_state_dict(module.state_dict()).unexpected_keys == []


def test_revin_output_shares_the_inputs_parameters(default_ctx):
    inp = clnorm.nn.ReversibleInstanceNorm1dInput(4, affine=True, context=default_ctx)
    out = clnorm.nn.ReversibleInstanceNorm1dOutput(inp)
    out.load_state_dict({"weight": np.full(4, 2.0), "bias": np.full(4, 0.5),
                         "norm_input.norm.weight": np.full(4, 2.0),
                         "norm_input.norm.bias": np.full(4, 0.5)})
    np.testing.assert_array_equal(inp.state_dict()["norm.weight"], np.full(4, 2, dtype=np.float32))
    assert set(out.state_dict()) == {"weight", "bias", "norm_input.norm.weight",
                                     "norm_input.norm.bias"}


def test_revin_affine_mode(default_ctx, rng):
    """affine=True (clnorm's opt-in, the RevIN paper): y * weight + bias on
    input, undone on output; without it weight and bias are held, unused."""
    x = rng.standard_normal((2, 30, 4)).astype(np.float32)
    w, b = rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    plain = clnorm.nn.ReversibleInstanceNorm1dInput(4, context=default_ctx)
    affine = clnorm.nn.ReversibleInstanceNorm1dInput(4, affine=True, context=default_ctx)
    for layer in (plain, affine):
        layer.load_state_dict({"norm.weight": w, "norm.bias": b})
    y_plain, y_affine = plain(x), affine(x)
    np.testing.assert_allclose(y_affine, y_plain * w + b, rtol=1e-5, atol=1e-5)
    back = clnorm.nn.ReversibleInstanceNorm1dOutput(affine)(y_affine)
    np.testing.assert_allclose(back, x, rtol=1e-4, atol=1e-4)


def test_revin_stats_set_from_pytorch(torch, default_ctx, rng):
    """set_stats: the output module on statistics computed elsewhere."""
    import espnet_modules as em

    module = em.ReversibleInstanceNorm1dInput(3)
    x = torch.from_numpy(rng.standard_normal((2, 40, 3)))
    module(x)
    inp = clnorm.nn.ReversibleInstanceNorm1dInput(3, context=default_ctx)
    inp.set_stats(module.m, module.s)
    np.testing.assert_array_equal(inp.m, module.m.numpy().astype(np.float32))
    z = rng.standard_normal((2, 7, 3)).astype(np.float32)
    ref = em.ReversibleInstanceNorm1dOutput(module)(torch.from_numpy(z).double()).numpy()
    np.testing.assert_allclose(clnorm.nn.ReversibleInstanceNorm1dOutput(inp)(z), ref, rtol=1e-5,
                               atol=1e-6)


def test_linear_upload_and_no_bias(torch, default_ctx, rng):
    """A product's parameters: uploaded once until they change; bias=False
    has no bias entry (a zero bias is used)."""
    module = torch.nn.Linear(5, 3, bias=False)
    layer = clnorm.nn.Linear(5, 3, bias=False, context=default_ctx)
    layer.load_state_dict(module.state_dict())
    assert set(layer.state_dict()) == {"weight"}
    x = rng.standard_normal((4, 5)).astype(np.float32)
    assert layer.upload_count() == 0
    layer(x)
    layer(x)
    assert layer.upload_count() == 1
    np.testing.assert_allclose(layer(x), module(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    layer.load_state_dict({"weight": 2 * module.weight})
    np.testing.assert_allclose(layer(x), 2 * module(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert layer.upload_count() == 2


def test_rlinear_individual_channels_are_its_rows(default_ctx, rng):
    """Linear.{d}.weight and .bias land in channel d's rows of the stacked
    parameters: a channel's forecast changes with its own Linear only."""
    layer = clnorm.nn.RLinear(6, 2, 3, individual=True, rev=False, context=default_ctx)
    sd = {f"Linear.{d}.weight": np.zeros((2, 6)) for d in range(3)}
    sd.update({f"Linear.{d}.bias": np.full(2, float(d)) for d in range(3)})
    sd["Linear.1.weight"] = np.ones((2, 6))
    layer.load_state_dict(sd)
    x = rng.standard_normal((2, 6, 3)).astype(np.float32)
    y = layer(x)
    np.testing.assert_array_equal(y[:, :, 0], np.zeros((2, 2)))
    np.testing.assert_allclose(y[:, :, 1], np.repeat(x[:, :, 1].sum(axis=1, keepdims=True) + 1,
                                                     2, axis=1), rtol=1e-5)
    np.testing.assert_array_equal(y[:, :, 2], np.full((2, 2), 2.0))
    np.testing.assert_array_equal(layer.state_dict()["Linear.2.bias"], np.full(2, 2.0))


def test_forecast_revin_stats_set_from_pytorch(torch, default_ctx, rng):
    """set_stats: denorm with statistics computed by RTSF's module."""
    import forecast_modules as fm

    module = randomize(fm.RevIN(3), rng, "normal")
    module(torch.from_numpy(rng.standard_normal((2, 40, 3))), "norm")
    rev = clnorm.nn.RevIN(3, context=default_ctx)
    rev.load_state_dict(module.state_dict())
    rev.set_stats(module.mean, module.stdev)
    np.testing.assert_array_equal(rev.mean, module.mean.numpy().astype(np.float32))
    z = rng.standard_normal((2, 7, 3)).astype(np.float32)
    with torch.no_grad():
        ref = module(torch.from_numpy(z).double(), "denorm").numpy()
    np.testing.assert_allclose(rev(z, "denorm"), ref, rtol=1e-5, atol=1e-6)
