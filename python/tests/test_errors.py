# SPDX-License-Identifier: Apache-2.0
"""test_errors.py: bad arguments give a clnorm.Error naming the status and
saying what was wrong (the library's message where the library found it),
never a crash; what the NumPy path converts instead."""
import os
import subprocess
import sys

import numpy as np
import pytest

import clnorm


def test_error_carries_status_and_message(default_ctx):
    layer = clnorm.nn.VarianceNorm2d(3, context=default_ctx)
    with pytest.raises(clnorm.ShapeMismatchError) as info:
        layer(np.zeros((2, 4, 5, 5), dtype=np.float32))
    e = info.value
    assert isinstance(e, clnorm.Error) and isinstance(e, ValueError)
    assert e.status_name == "CLNORM_SHAPE_MISMATCH" and e.status == 7
    assert "3 channels" in e.message and "C = 4" in e.message
    assert str(e).startswith("CLNORM_SHAPE_MISMATCH: ")


def test_library_message_reaches_the_exception(default_ctx, rng):
    """A failure the library finds: its status and clnorm_errmsg detail."""
    inp = clnorm.nn.ReversibleInstanceNorm1dInput(3, context=default_ctx)
    out = clnorm.nn.ReversibleInstanceNorm1dOutput(inp)
    inp(rng.standard_normal((2, 10, 3)).astype(np.float32))
    with pytest.raises(clnorm.ShapeMismatchError) as info:
        out(np.zeros((5, 10, 3), dtype=np.float32))
    assert "revin_inverse" in info.value.message and "B = 5" in info.value.message
    with pytest.raises(clnorm.InvalidArgumentError) as info:
        clnorm.nn.LayerNorm(4, eps=-1.0, context=default_ctx)
    assert "eps" in info.value.message
    with pytest.raises(clnorm.ZeroSizeError):
        clnorm.nn.VarianceNorm2d(0, context=default_ctx)


def test_revin_before_any_input(default_ctx):
    inp = clnorm.nn.ReversibleInstanceNorm1dInput(3, context=default_ctx)
    with pytest.raises(clnorm.NoStatisticsError):
        clnorm.nn.ReversibleInstanceNorm1dOutput(inp)(np.zeros((1, 4, 3), dtype=np.float32))
    with pytest.raises(clnorm.NoStatisticsError):
        inp.m
    with pytest.raises(clnorm.InvalidArgumentError):
        clnorm.nn.ReversibleInstanceNorm1dOutput(clnorm.nn.NoneNorm2d(3))
    with pytest.raises(clnorm.ShapeMismatchError):
        inp.set_stats(np.zeros((2, 4, 1)), np.ones((2, 4, 1)))


@pytest.mark.parametrize("bad, error, words", [
    (np.zeros((2, 3, 4, 4), dtype=np.complex64), clnorm.InvalidArgumentError, "complex64"),
    (np.full((2, 3, 4, 4), "a"), clnorm.InvalidArgumentError, "dtype"),
    ([[1, 2], [3]], clnorm.InvalidArgumentError, "not an array"),
    (np.zeros((3, 4, 4), dtype=np.float32), clnorm.ShapeMismatchError, "4-d (N, C, H, W)"),
    (np.zeros((0, 3, 4, 4), dtype=np.float32), clnorm.ZeroSizeError, "no elements"),
])
def test_refused_host_inputs(default_ctx, bad, error, words):
    with pytest.raises(error, match=None) as info:
        clnorm.nn.VarianceNorm2d(3, context=default_ctx)(bad)
    assert words in info.value.message


def test_converted_host_inputs(default_ctx, rng):
    """float64, integers and non-contiguous arrays are converted to contiguous
    float32 (a copy), as documented, and give the float32 input's result."""
    layer = clnorm.nn.InstanceNorm2d(3, context=default_ctx)
    x = rng.standard_normal((2, 3, 6, 10))
    want = layer(x.astype(np.float32))
    np.testing.assert_array_equal(layer(x), want)  # float64
    strided = np.zeros((2, 3, 6, 20))
    strided[..., ::2] = x
    np.testing.assert_array_equal(layer(strided[..., ::2]), want)
    np.testing.assert_array_equal(layer(np.asfortranarray(x)), want)
    ints = rng.integers(-5, 5, size=(2, 3, 6, 10))
    np.testing.assert_array_equal(layer(ints), layer(ints.astype(np.float32)))
    out = np.full(x.shape, np.nan, dtype=np.float32)
    assert layer(x, out=out) is out
    np.testing.assert_array_equal(out, want)
    with pytest.raises(clnorm.InvalidArgumentError, match="out must be"):
        layer(x, out=np.zeros(x.shape))  # float64 out is not converted: refused


def test_torch_tensors_in_and_out(torch, default_ctx, rng):
    layer = clnorm.nn.LayerNorm(5, context=default_ctx)
    x = torch.randn(3, 5, requires_grad=True)
    y = layer(x)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float32
    np.testing.assert_array_equal(y.numpy(), layer(x.detach().numpy()))


def test_labels(default_ctx, rng):
    layer = clnorm.nn.ConditionalNoneNorm2d(3, 4, context=default_ctx)
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    with pytest.raises(clnorm.InvalidArgumentError, match=r"y\[1\] = 4 is not a class"):
        layer(x, [0, 4])
    with pytest.raises(clnorm.InvalidArgumentError, match=r"y\[0\] = -1"):
        layer(x, np.array([-1, 0]))
    with pytest.raises(clnorm.InvalidArgumentError, match="integers"):
        layer(x, np.array([0.0, 1.0]))
    with pytest.raises(clnorm.ShapeMismatchError, match=r"\(2,\)"):
        layer(x, [0, 1, 2])
    with pytest.raises(TypeError):
        layer(x)  # the label argument is required, as in PyTorch
    with pytest.raises(clnorm.InvalidArgumentError, match="labels"):
        layer(x, None)


@pytest.mark.parametrize("make, error", [
    (lambda: clnorm.nn.VarianceNorm2d(-1), clnorm.InvalidArgumentError),
    (lambda: clnorm.nn.VarianceNorm2d(2.5), clnorm.InvalidArgumentError),
    (lambda: clnorm.nn.LayerNorm(4, eps="x"), clnorm.InvalidArgumentError),
    (lambda: clnorm.nn.LayerNorm(()), clnorm.InvalidArgumentError),
    (lambda: clnorm.nn.InstanceNorm2d(3, track_running_stats=True), clnorm.InvalidArgumentError),
    (lambda: clnorm.nn.ConditionalBatchNorm2d(3, 0), clnorm.ZeroSizeError),
    (lambda: clnorm.Context(variant="fast"), clnorm.InvalidArgumentError),
    (lambda: clnorm.Context(3), clnorm.InvalidArgumentError),
    (lambda: clnorm.Context.wrap("queue"), clnorm.InvalidArgumentError),
])
def test_refused_constructor_arguments(make, error):
    with pytest.raises(error):
        make()


def test_no_device_lists_the_devices():
    with pytest.raises(clnorm.NoDeviceError) as info:
        clnorm.Context("no-such-device-anywhere")
    assert "no-such-device-anywhere" in info.value.message
    assert clnorm.default_context().device_description.split(" (")[0] in info.value.message


def test_closed_layers_and_contexts(rng):
    ctx = clnorm.Context()
    layer = clnorm.nn.NoneNorm2d(1, context=ctx)
    x = rng.standard_normal((1, 1, 2, 2)).astype(np.float32)
    np.testing.assert_array_equal(layer(x), x)
    ctx.close()  # closes its layers first
    with pytest.raises(clnorm.InvalidArgumentError, match="closed"):
        layer(x)
    with pytest.raises(clnorm.InvalidArgumentError, match="closed"):
        ctx.device_description
    ctx.close()  # twice is fine
    with clnorm.Context() as ctx2:
        other = clnorm.nn.NoneNorm2d(1, context=ctx2)
        other.close()
        with pytest.raises(clnorm.InvalidArgumentError, match="closed"):
            other(x)


def _run_python(code, **env):
    full = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full,
                          timeout=120)


def test_library_not_found_says_where_it_looked():
    r = _run_python("import clnorm; print(clnorm.__version__); clnorm.Context()",
                    CLNORM_LIBRARY="/nonexistent/libclnorm.so")
    assert r.stdout.strip() == clnorm.__version__  # importing needs no library
    assert "LibraryNotFoundError" in r.stderr and "/nonexistent/libclnorm.so" in r.stderr


def test_clnorm_device_is_read(default_ctx):
    r = _run_python("import clnorm; clnorm.Context()", CLNORM_DEVICE="no-such-device-anywhere",
                    CLNORM_LIBRARY=clnorm.library_path())
    assert "NoDeviceError" in r.stderr and "no-such-device-anywhere" in r.stderr


def test_context_properties(default_ctx, float_float_ctx):
    assert isinstance(default_ctx.device_description, str) and default_ctx.device_description
    assert float_float_ctx.uses_fp64 is False
    default_ctx.prepare()
    built, cached = default_ctx.program_counts()
    assert built + cached > 0
    assert default_ctx.device_description in repr(default_ctx)
    assert clnorm.default_context() is default_ctx
    assert "VarianceNorm2d(3)" in repr(clnorm.nn.VarianceNorm2d(3))


def test_accumulate_option(default_ctx):
    assert clnorm.Context(accumulate="float-float").uses_fp64 is False
    assert clnorm.Context(fp64=False, accumulate="float-float").uses_fp64 is False
    # PoCL's CPU has fast fp64: auto and fp64 take it
    assert clnorm.Context(accumulate="fp64").uses_fp64 is True
    assert clnorm.Context(accumulate="auto").uses_fp64 is True
    with pytest.raises(clnorm.InvalidArgumentError, match="accumulate must be"):
        clnorm.Context(accumulate="double")
    with pytest.raises(clnorm.InvalidArgumentError, match="contradicts"):
        clnorm.Context(fp64=False, accumulate="fp64")
    r = _run_python("import clnorm; print(clnorm.Context().uses_fp64)",
                    CLNORM_ACCUMULATE="float-float", CLNORM_LIBRARY=clnorm.library_path())
    assert r.stdout.strip() == "False"
    r = _run_python("import clnorm; clnorm.Context()", CLNORM_ACCUMULATE="fast",
                    CLNORM_LIBRARY=clnorm.library_path())
    assert "InvalidArgumentError" in r.stderr and "CLNORM_ACCUMULATE='fast'" in r.stderr


def test_forecasting_classes(default_ctx, rng):
    with pytest.raises(clnorm.InvalidArgumentError, match="horizon >= 1"):
        clnorm.nn.TSNormalization("mean", 0)
    with pytest.raises(clnorm.InvalidArgumentError, match="'mean' or 'last'"):
        clnorm.nn.TSNormalization("max", 2)
    ts = clnorm.nn.TSNormalization("last", 2, context=default_ctx)
    inverse = clnorm.nn.TSInverseNormalization("last", ts)
    with pytest.raises(clnorm.NoStatisticsError):
        ts.scale
    with pytest.raises(clnorm.NoStatisticsError):
        inverse(np.ones((2, 4, 3), dtype=np.float32))
    x = rng.uniform(1, 2, (2, 10, 3)).astype(np.float32)
    y = ts(x)
    np.testing.assert_array_equal(ts.scale, np.abs(x[:, 7:8, :]))
    np.testing.assert_allclose(inverse(y), x, rtol=1e-6)
    with pytest.raises(clnorm.ShapeMismatchError, match="D = 4"):
        inverse(np.ones((2, 4, 4), dtype=np.float32))
    with pytest.raises(clnorm.ShapeMismatchError):
        inverse(np.ones((5, 4, 3), dtype=np.float32))  # the library: B of the scale
    x5 = rng.uniform(1, 2, (1, 6, 5)).astype(np.float32)  # another D: a new C layer
    ts(x5)
    assert ts.scale.shape == (1, 1, 5)
    ts.set_scale(np.full((2, 1, 3), 4.0))
    np.testing.assert_array_equal(inverse(np.ones((2, 7, 3), dtype=np.float32)),
                                  np.full((2, 7, 3), 4, dtype=np.float32))


def test_family_constructor_arguments(default_ctx):
    with pytest.raises(clnorm.InvalidArgumentError, match="_name_"):
        clnorm.nn.Normalization(4, _name_="weight")
    with pytest.raises(clnorm.InvalidArgumentError, match="keyword"):
        clnorm.nn.Normalization(4, _name_="instance", affine=True)
    with pytest.raises(clnorm.InvalidArgumentError):
        clnorm.nn.GroupNorm(4, 6, context=default_ctx)  # the library: 6 channels, 4 groups
    with pytest.raises(clnorm.ShapeMismatchError):
        clnorm.nn.Normalization(4, True, context=default_ctx)(np.zeros((2, 5, 3), np.float32))


def test_forecast_revin_calls(default_ctx, rng):
    """RevIN's modes, statistics and refusals (the module's NotImplementedError
    for another mode is an InvalidArgumentError here)."""
    rev = clnorm.nn.RevIN(3, context=default_ctx)
    x = rng.standard_normal((2, 10, 3)).astype(np.float32)
    with pytest.raises(clnorm.NoStatisticsError):
        rev(x, "denorm")
    with pytest.raises(clnorm.NoStatisticsError):
        rev.stdev
    with pytest.raises(clnorm.InvalidArgumentError, match="'norm' or 'denorm'"):
        rev(x, "inverse")
    with pytest.raises(TypeError):
        rev(x)  # the mode is required, as in RTSF and PatchTST
    with pytest.raises(clnorm.ShapeMismatchError, match=r"\(B, L, 3\)"):
        rev(np.zeros((2, 10, 4), dtype=np.float32), "norm")
    y = rev(x, "norm")
    assert rev.mean.shape == rev.stdev.shape == (2, 1, 3)
    with pytest.raises(AttributeError, match="mean"):
        rev.last
    np.testing.assert_allclose(rev(y[:, :4], "denorm"), x[:, :4], rtol=1e-5, atol=1e-5)
    with pytest.raises(clnorm.ShapeMismatchError):
        rev(np.zeros((5, 4, 3), dtype=np.float32), "denorm")  # the library: B of the statistics
    rev.set_stats(np.full((4, 1, 3), 1.0), np.full((4, 3), 2.0))
    np.testing.assert_allclose(rev(np.ones((4, 2, 3), dtype=np.float32), "denorm"),
                               np.full((4, 2, 3), 3.0), rtol=1e-6)
    with pytest.raises(clnorm.ShapeMismatchError):
        rev.set_stats(np.zeros((2, 1, 4)), np.ones((2, 1, 4)))
    last = clnorm.nn.RevIN(3, affine=False, subtract_last=True, context=default_ctx)
    last(x, "norm")
    np.testing.assert_array_equal(last.last, x[:, -1:, :])
    with pytest.raises(AttributeError, match="last"):
        last.mean
    with pytest.raises(clnorm.InvalidArgumentError):
        clnorm.nn.RevIN(3, eps=-1.0, context=default_ctx)  # the library: eps >= 0


def test_product_shapes(torch, default_ctx, rng):
    """The products' results have their own shape: new arrays of it, out= of
    it, and the shapes each class refuses."""
    lin = clnorm.nn.Linear(4, 6, context=default_ctx)
    lin.load_state_dict({"weight": rng.standard_normal((6, 4)), "bias": rng.standard_normal(6)})
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    y = lin(x)
    assert y.shape == (2, 3, 6) and y.dtype == np.float32
    out = np.full((2, 3, 6), np.nan, dtype=np.float32)
    assert lin(x, out=out) is out
    np.testing.assert_array_equal(out, y)
    np.testing.assert_array_equal(lin(x[1, 2]), y[1, 2])  # 1-d x, as torch's Linear takes
    t = lin(torch.from_numpy(x))
    assert isinstance(t, torch.Tensor) and tuple(t.shape) == (2, 3, 6)
    with pytest.raises(clnorm.InvalidArgumentError, match=r"result's shape \(2, 3, 6\)"):
        lin(x, out=np.empty((2, 3, 4), dtype=np.float32))
    with pytest.raises(clnorm.ShapeMismatchError, match=r"\(\.\.\., 4\)"):
        lin(np.zeros((2, 5), dtype=np.float32))
    tl = clnorm.nn.TransposedLinear(4, 6, context=default_ctx)
    assert tl(np.zeros((2, 4), dtype=np.float32)).shape == (2, 6)
    assert tl(np.zeros((2, 4, 3, 5), dtype=np.float32)).shape == (2, 6, 3, 5)
    with pytest.raises(clnorm.ShapeMismatchError, match=r"\(B, 4, \.\.\.\)"):
        tl(np.zeros((2, 3, 4), dtype=np.float32))
    rl = clnorm.nn.RLinear(10, 3, 2, context=default_ctx)
    assert rl(rng.standard_normal((4, 10, 2))).shape == (4, 3, 2)
    for bad in ((4, 9, 2), (4, 10, 3), (10, 2)):
        with pytest.raises(clnorm.ShapeMismatchError, match=r"\(B, 10, 2\)"):
            rl(np.zeros(bad, dtype=np.float32))
    assert rl.upload_count() == 2  # the Linear's and RevIN's first uploads
    with pytest.raises(clnorm.ZeroSizeError):
        clnorm.nn.Linear(0, 3, context=default_ctx)


def test_blas_error_status():
    e = clnorm.errors.error_for(clnorm.errors.STATUS["BLAS_ERROR"], "detail")
    assert isinstance(e, clnorm.BlasError) and e.status_name == "CLNORM_BLAS_ERROR"
