# SPDX-License-Identifier: Apache-2.0
"""test_pyopencl.py: the zero-copy path: pyopencl arrays in and out on the
caller's queue, the buffers used as they are, no host transfer, no wait, the
wait list honoured and the event handed back."""
import threading
import time

import numpy as np
import pytest

import clnorm
from cases import CASES, assert_matches, randomize
from test_accuracy import reference


def to_device(queue, inputs):
    import pyopencl.array as cla

    return {k: cla.to_device(queue, v if v.dtype.kind == "f" else v.astype(np.int32))
            for k, v in inputs.items()}


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_every_class_on_device(torch, cl_queue, wrapped, rng, case):
    import pyopencl.array as cla

    module = randomize(case.torch_module(), rng, "normal").eval()
    layer = case.layer(wrapped)
    layer.load_state_dict(module.state_dict())
    inputs = case.inputs(rng, "normal")
    expected = reference(torch, case, module, inputs)
    got = case.run_clnorm(layer, to_device(cl_queue, inputs))
    bounds = case.bounds(module, inputs)
    y = got.pop("y")
    assert isinstance(y, cla.Array) and y.dtype == np.float32 and y.queue is cl_queue
    assert_matches(y.get(), *expected["y"], f"{case.id} on the device", bounds.get("y"))
    for key, value in got.items():  # RevIN's statistics: NumPy, read from the device
        assert_matches(value, *expected[key], f"{case.id} on the device: {key}",
                       bounds.get(key))


class NoTransfers:
    """Within the block, every way this process could move tensor data between
    host and device raises: pyopencl's copies and array transfers, and the
    OpenCL loader clnorm's NumPy path goes through."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def __enter__(self):
        import pyopencl
        import pyopencl.array as cla

        def refuse(*args, **kwargs):
            raise AssertionError("a host transfer on the zero-copy path")

        mp = self.monkeypatch
        for target, name in [(pyopencl, "enqueue_copy"), (cla.Array, "get"), (cla.Array, "set"),
                             (cla.Array, "get_async"), (cla, "to_device"),
                             (clnorm._opencl, "write"), (clnorm._opencl, "read"),
                             (clnorm._opencl, "_loader"), (np, "asarray"),
                             (np, "ascontiguousarray")]:
            if hasattr(target, name):
                mp.setattr(target, name, refuse)
        return self

    def __exit__(self, *exc):
        self.monkeypatch.undo()


def test_no_host_transfer(cl_queue, wrapped, rng, monkeypatch):
    import pyopencl.array as cla

    layer = clnorm.nn.VarianceNorm2d(5, context=wrapped)
    labelled = clnorm.nn.ConditionalInstanceNorm2d(5, 4, context=wrapped)
    x_host = rng.standard_normal((3, 5, 7, 9)).astype(np.float32)
    labels_host = np.array([3, 0, 2], dtype=np.int32)
    x = cla.to_device(cl_queue, x_host)
    labels = cla.to_device(cl_queue, labels_host)
    out = cla.to_device(cl_queue, np.full(x.shape, np.nan, dtype=np.float32))
    expected = layer(x_host)
    expected_labelled = labelled(x_host, labels_host)
    with NoTransfers(monkeypatch):
        y = layer(x)
        y_out = layer(x, out=out)
        y_labelled = labelled(x, labels)
    assert y_out is out
    assert y.base_data.int_ptr not in (x.base_data.int_ptr, out.base_data.int_ptr)
    np.testing.assert_array_equal(y.get(), expected)
    np.testing.assert_array_equal(out.get(), expected)
    np.testing.assert_array_equal(y_labelled.get(), expected_labelled)
    np.testing.assert_array_equal(x.get(), x_host)  # the input is read, not written


def test_no_transfers_guard_catches_a_copy(cl_queue, monkeypatch):
    """The guard above is not vacuous: a NumPy call or a read-back trips it."""
    import pyopencl.array as cla

    layer = clnorm.nn.NoneNorm2d(1)
    x = cla.to_device(cl_queue, np.zeros((1, 1, 2, 2), dtype=np.float32))
    with NoTransfers(monkeypatch):
        with pytest.raises(AssertionError, match="host transfer"):
            layer(np.zeros((1, 1, 2, 2), dtype=np.float32))
        with pytest.raises(AssertionError, match="host transfer"):
            x.get()


def test_no_wait_and_wait_list(cl, cl_queue, wrapped, rng):
    """The call returns while x's event is still pending (no host wait), and
    the forward runs only after it (the wait list is passed)."""
    import pyopencl.array as cla

    layer = clnorm.nn.ReversibleInstanceNorm1dInput(8, context=wrapped)
    x_host = rng.standard_normal((2, 50, 8)).astype(np.float32)
    expected = layer(x_host)
    x = cla.to_device(cl_queue, x_host)
    gate = cl.UserEvent(cl_queue.context)
    x.add_event(gate)
    result = {}
    caller = threading.Thread(target=lambda: result.setdefault("y", layer(x)))
    caller.start()
    caller.join(10)
    returned = not caller.is_alive()
    if not returned:
        gate.set_status(cl.command_execution_status.COMPLETE)
        caller.join()
    assert returned, "the call waited for its input's event"
    y = result["y"]
    done = y.events[-1]
    assert isinstance(done, cl.Event)
    time.sleep(0.2)
    assert done.command_execution_status != cl.command_execution_status.COMPLETE, \
        "the forward ran before its wait list completed"
    gate.set_status(cl.command_execution_status.COMPLETE)
    done.wait()
    assert done.command_execution_status == cl.command_execution_status.COMPLETE
    np.testing.assert_array_equal(y.get(), expected)


def test_in_place_at_an_offset(cl_queue, wrapped, rng):
    """x and out inside a larger buffer (byte offsets), in place: the caller's
    buffer is the one written, and nothing outside x changes."""
    import pyopencl.array as cla

    layer = clnorm.nn.LayerNorm(12, context=wrapped)
    layer.load_state_dict({"weight": rng.uniform(0.5, 2, 12), "bias": rng.standard_normal(12)})
    x_host = rng.standard_normal((5, 12)).astype(np.float32)
    expected = layer(x_host)
    big = cla.to_device(cl_queue, np.full(200, 7.0, dtype=np.float32))
    x = big[16:76].reshape(5, 12)
    x.set(x_host)
    assert x.offset == 64 and x.base_data.int_ptr == big.base_data.int_ptr
    y = layer(x, out=x)
    assert y is x and y.base_data.int_ptr == big.base_data.int_ptr and y.offset == 64
    whole = big.get()
    np.testing.assert_array_equal(whole[16:76].reshape(5, 12), expected)
    assert (whole[:16] == 7).all() and (whole[76:] == 7).all()
    # another region of the same buffer as out
    out = big[100:160].reshape(5, 12)
    x.set(x_host)
    layer(x, out=out)
    np.testing.assert_array_equal(out.get(), expected)


def test_overlapping_out_is_refused(cl_queue, wrapped):
    import pyopencl.array as cla

    layer = clnorm.nn.NoneNorm2d(1, context=wrapped)
    big = cla.zeros(cl_queue, 40, np.float32)
    with pytest.raises(clnorm.InvalidArgumentError):
        layer(big[0:20].reshape(1, 1, 4, 5), out=big[4:24].reshape(1, 1, 4, 5))


def test_wrap_uses_the_callers_queue(cl_queue, wrapped):
    assert wrapped.cl_queue == cl_queue.int_ptr
    assert wrapped.cl_context == cl_queue.context.int_ptr
    assert wrapped.queue is cl_queue


def test_device_labels_out_of_range_are_clamped_and_reported(cl_queue, wrapped, rng):
    import pyopencl.array as cla

    layer = clnorm.nn.ConditionalNoneNorm2d(3, 4, context=wrapped)
    layer.load_state_dict({"embed.weight": rng.standard_normal((4, 6))})
    x_host = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    x = cla.to_device(cl_queue, x_host)
    layer(x, cla.to_device(cl_queue, np.array([1, 2], dtype=np.int32))).finish()
    assert layer.label_errors() is False
    y = layer(x, cla.to_device(cl_queue, np.array([1, 9], dtype=np.int32)))
    assert layer.label_errors() is True  # clamped to the last class, 3
    np.testing.assert_array_equal(y.get(), layer(x_host, [1, 3]))
    assert layer.label_errors() is False  # reading the report clears it


def test_host_labels_with_device_x(cl_queue, wrapped, rng):
    layer = clnorm.nn.ConditionalInstanceNorm2d(3, 4, context=wrapped)
    x_host = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    import pyopencl.array as cla

    y = layer(cla.to_device(cl_queue, x_host), np.array([3, 1]))
    np.testing.assert_array_equal(y.get(), layer(x_host, [3, 1]))


def test_refused_device_arrays(cl, cl_queue, wrapped, rng):
    """Device arrays clnorm would have to copy are refused, never converted."""
    import pyopencl.array as cla

    layer = clnorm.nn.VarianceNorm2d(4, context=wrapped)
    x = cla.to_device(cl_queue, rng.standard_normal((2, 4, 3, 6)).astype(np.float32))
    with pytest.raises(clnorm.InvalidArgumentError, match="float32"):
        layer(x.astype(np.float64))
    with pytest.raises(clnorm.InvalidArgumentError, match="contiguous"):
        wide = cla.to_device(cl_queue, rng.standard_normal((2, 4, 3, 12)).astype(np.float32))
        layer(wide[..., ::2])
    other = cl.CommandQueue(cl.Context([cl_queue.device]))
    with pytest.raises(clnorm.InvalidArgumentError, match="another OpenCL context"):
        layer(cla.to_device(other, np.zeros((2, 4, 3, 6), dtype=np.float32)))
    with pytest.raises(clnorm.InvalidArgumentError, match="pyopencl array"):
        layer(x, out=np.zeros((2, 4, 3, 6), dtype=np.float32))
    with pytest.raises(clnorm.ShapeMismatchError):
        layer(x, out=cla.zeros(cl_queue, (2, 4, 3, 5), np.float32))
    cond = clnorm.nn.ConditionalBatchNorm2d(4, 3, context=wrapped)
    with pytest.raises(clnorm.InvalidArgumentError, match="int32"):
        cond(x, cla.to_device(cl_queue, np.array([0, 1], dtype=np.int64)))
    with pytest.raises(clnorm.ShapeMismatchError):
        cond(x, cla.to_device(cl_queue, np.array([0, 1, 2], dtype=np.int32)))


def test_default_context_arrays(default_ctx, cl, rng):
    """A layer on a context clnorm made takes arrays on that context's queue."""
    import pyopencl.array as cla

    layer = clnorm.nn.InstanceNorm2d(3, context=default_ctx)
    x_host = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    queue = default_ctx.queue
    assert isinstance(queue, cl.CommandQueue) and queue.int_ptr == default_ctx.cl_queue
    y = layer(cla.to_device(queue, x_host))
    np.testing.assert_array_equal(y.get(), layer(x_host))


def test_out_of_order_queue(cl, cl_queue, rng):
    """An out-of-order queue: every ordering comes from the events, on both paths."""
    props = cl.command_queue_properties.OUT_OF_ORDER_EXEC_MODE_ENABLE
    if not cl_queue.device.queue_properties & props:
        pytest.skip("the device has no out-of-order queues")
    import pyopencl.array as cla

    queue = cl.CommandQueue(cl_queue.context, properties=props)
    ctx = clnorm.Context.wrap(queue)
    inp = clnorm.nn.ReversibleInstanceNorm1dInput(5, transposed=True, context=ctx)
    out = clnorm.nn.ReversibleInstanceNorm1dOutput(inp)
    reference_in = clnorm.nn.ReversibleInstanceNorm1dInput(5, transposed=True)
    x_host = (1e4 + rng.standard_normal((3, 5, 40))).astype(np.float32)
    expected = reference_in(x_host)
    for _ in range(3):
        np.testing.assert_array_equal(inp(x_host), expected)  # NumPy path on that queue
        x = cla.to_device(queue, x_host)
        y = inp(x)
        z = out(y, out=y)
        np.testing.assert_allclose(z.get(), x_host, rtol=1e-6)
    np.testing.assert_array_equal(inp.m, reference_in.m)


def test_products_on_device(cl_queue, wrapped, rng, monkeypatch):
    """The products on pyopencl arrays: a new array of the result's shape, or
    out= of it, with no host transfer; out overlapping x is refused (a product
    is never in place)."""
    import pyopencl.array as cla

    lin = clnorm.nn.TransposedLinear(6, 4, context=wrapped)
    lin.load_state_dict({"weight": rng.standard_normal((4, 6)), "bias": rng.standard_normal(4)})
    model = clnorm.nn.RLinear(12, 5, 6, context=wrapped)
    model.load_state_dict({"Linear.weight": rng.standard_normal((5, 12)),
                           "Linear.bias": rng.standard_normal(5),
                           "rev.affine_weight": rng.uniform(0.5, 2, 6),
                           "rev.affine_bias": rng.standard_normal(6)})
    x_host = rng.standard_normal((2, 6, 12)).astype(np.float32)
    want_lin = lin(x_host)
    want_model = model(x_host.transpose(0, 2, 1))
    x = cla.to_device(cl_queue, x_host)
    xt = cla.to_device(cl_queue, np.ascontiguousarray(x_host.transpose(0, 2, 1)))
    out = cla.empty(cl_queue, (2, 4, 12), np.float32)
    with NoTransfers(monkeypatch):
        y = lin(x)
        y_out = lin(x, out=out)
        forecast = model(xt)
    assert y.shape == (2, 4, 12) and y_out is out and forecast.shape == (2, 5, 6)
    np.testing.assert_array_equal(y.get(), want_lin)
    np.testing.assert_array_equal(out.get(), want_lin)
    np.testing.assert_array_equal(forecast.get(), want_model)
    with pytest.raises(clnorm.ShapeMismatchError, match=r"\(2, 4, 12\)"):
        lin(x, out=cla.empty(cl_queue, (2, 6, 12), np.float32))
    big = cla.zeros(cl_queue, 300, np.float32)
    with pytest.raises(clnorm.InvalidArgumentError):
        lin(big[:144].reshape(2, 6, 12), out=big[100:196].reshape(2, 4, 12))


def test_blas_clear_cache(wrapped, rng):
    """After clearing CLBlast's programs a live layer compiles again and gives
    the same result."""
    layer = clnorm.nn.Linear(9, 5, context=wrapped)
    layer.load_state_dict({"weight": rng.standard_normal((5, 9)), "bias": rng.standard_normal(5)})
    x = rng.standard_normal((4, 9)).astype(np.float32)
    before = layer(x)
    clnorm.blas_clear_cache()
    np.testing.assert_array_equal(layer(x), before)
