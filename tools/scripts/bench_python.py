#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench_python.py: what the Python binding adds to a forward, per call.

For one small tensor it times, call by call and alternating so that drift hits
both alike, the C forward called bare through ctypes with its arguments made
once (the least any Python caller pays) and the same forward through
clnorm.nn; the difference of the medians is the binding's overhead:

- pyopencl path, enqueue: the host time of the call alone (layer(x, out=y),
  and layer(x) which also allocates its output), in bursts of 20 calls held
  back by a user event (on PoCL the device is the host's cores: kernels
  running during the burst would be counted as the caller's time);
- pyopencl path, round trip: the call and a wait for its event;
- NumPy path: layer(x) (write, forward, blocking read) against the same three
  calls made bare.

    /usr/bin/python3 tools/scripts/bench_python.py [--calls N] [--layer revin|varnorm2d]
                                                   [--json FILE]

It uses the package of this checkout (python/) and the library of its build
tree (or $CLNORM_LIBRARY), on the default device ($CLNORM_DEVICE).
"""
import argparse
import ctypes
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "python"))

import numpy as np  # noqa: E402

import clnorm  # noqa: E402
from clnorm import _opencl  # noqa: E402

SHAPES = {"revin": (32, 10, 5), "varnorm2d": (2, 3, 4, 4)}


def make_layer(name, context):
    if name == "revin":
        return clnorm.nn.ReversibleInstanceNorm1dInput(SHAPES[name][2], context=context)
    return clnorm.nn.VarianceNorm2d(SHAPES[name][1], context=context)


def raw_forward(layer, shape):
    """A function calling the layer's C forward bare: (src, dst, wait) -> event."""
    sizes = layer._sizes(shape)
    fn, handle, params = layer._forward_fn, layer.handle, layer._params.pointer
    event = ctypes.c_void_p()
    ref = ctypes.byref(event)

    def call(src, dst, n, wait):
        if fn(handle, params, *sizes, src, 0, dst, 0, n, wait, ref):
            raise RuntimeError("forward failed")
        return event.value

    return call


def alternate(calls, fns):
    """Median time in us of each fn (each returns its own time), called
    `calls` times each, in a new random order every round."""
    rng = random.Random(0)
    times = [[] for _ in fns]
    order = list(range(len(fns)))
    for _ in range(calls):
        rng.shuffle(order)
        for i in order:
            times[i].append(fns[i]())
    return [statistics.median(t) for t in times]


def timed(fn):
    def run():
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) * 1e6

    return run


def bench_device(name, calls):
    import pyopencl as cl
    import pyopencl.array as cla

    ctx0 = clnorm.default_context()
    device = cl.Device.from_int_ptr(ctx0._lib.clnorm_context_device(ctx0.handle), retain=False)
    queue = cl.CommandQueue(cl.Context([device]))
    ctx = clnorm.Context.wrap(queue)
    layer = make_layer(name, ctx)
    shape = SHAPES[name]
    x = cla.to_device(queue, np.random.default_rng(0).standard_normal(shape).astype(np.float32))
    y = cla.empty(queue, shape, np.float32)
    raw = raw_forward(layer, shape)
    xm, ym = x.base_data.int_ptr, y.base_data.int_ptr
    release = _opencl._loader().clReleaseEvent
    layer(x, out=y).finish()
    y.events.clear()
    gated = {}

    def burst(fn, k=20):
        """Host time per call of k calls held back by a user event: on PoCL the
        device is these same cores, and kernels running meanwhile would be
        counted as the caller's time."""
        gate = cl.UserEvent(queue.context)
        x.events[:] = [gate]
        gated["wait"] = _opencl.event_list([gate.int_ptr])
        t0 = time.perf_counter()
        for _ in range(k):
            fn()
        elapsed = (time.perf_counter() - t0) * 1e6 / k
        gate.set_status(cl.command_execution_status.COMPLETE)
        queue.finish()
        return elapsed

    def raw_enqueue():
        release(raw(xm, ym, *gated["wait"]))

    def bound_enqueue_out():
        layer(x, out=y)
        y.events.clear()  # else pyopencl's add_event waits once y holds 12 pending events

    def bound_enqueue_new():
        layer(x)

    enqueue = alternate(max(calls // 20, 10),
                        [lambda: burst(raw_enqueue), lambda: burst(bound_enqueue_out),
                         lambda: burst(bound_enqueue_new)])
    x.events.clear()
    n_wait, wait_list = 0, None

    def raw_round():
        e = raw(xm, ym, n_wait, wait_list)
        _opencl.wait([e])
        release(e)

    def bound_round():
        layer(x, out=y).events.pop().wait()

    round_trip = alternate(calls, [timed(raw_round), timed(bound_round)])
    return {
        "enqueue_raw_us": enqueue[0], "enqueue_out_us": enqueue[1], "enqueue_new_us": enqueue[2],
        "round_trip_raw_us": round_trip[0], "round_trip_us": round_trip[1],
    }


def bench_numpy(name, calls):
    ctx = clnorm.default_context()
    layer = make_layer(name, ctx)
    shape = SHAPES[name]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    y = np.empty_like(x)
    layer(x)
    scratch = _opencl.Scratch(ctx.cl_context)
    mem = scratch.reserve(x.nbytes)
    raw = raw_forward(layer, shape)
    queue = ctx.cl_queue
    n1 = ctypes.c_uint32(1)

    def raw_call():
        w = _opencl.write(queue, mem, x)
        wl = (ctypes.c_void_p * 1)(w)
        e = raw(mem, mem, n1, wl)
        _opencl.read(queue, mem, y, [e])
        _opencl.release_events([w, e])

    times = alternate(calls, [timed(raw_call), timed(lambda: layer(x))])
    return {"numpy_raw_us": times[0], "numpy_us": times[1]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--layer", choices=sorted(SHAPES), default="revin")
    ap.add_argument("--json", help="write the numbers here")
    args = ap.parse_args()
    try:
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    ctx = clnorm.default_context()
    result = {"layer": args.layer, "shape": SHAPES[args.layer], "calls": args.calls,
              "device": ctx.device_description, "commit": commit,
              "date": time.strftime("%Y-%m-%d"), "python": platform.python_version(),
              "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"}
    try:
        import pyopencl  # noqa: F401

        result.update(bench_device(args.layer, args.calls))
    except ImportError:
        print("pyopencl is not installed: the NumPy path only", file=sys.stderr)
    result.update(bench_numpy(args.layer, args.calls))
    r = result
    print(f"clnorm {clnorm.__version__} binding overhead, {r['layer']} {r['shape']}, "
          f"{r['device']}, median of {r['calls']} calls, commit {r['commit']}, {r['date']}")
    print(f"  {'path':42s} {'bare C forward':>14s} {'clnorm.nn':>10s} {'overhead':>9s}")
    rows = [("pyopencl, enqueue only, layer(x, out=y)", "enqueue_raw_us", "enqueue_out_us"),
            ("pyopencl, enqueue only, layer(x)", "enqueue_raw_us", "enqueue_new_us"),
            ("pyopencl, call + wait, layer(x, out=y)", "round_trip_raw_us", "round_trip_us"),
            ("NumPy, write + forward + read, layer(x)", "numpy_raw_us", "numpy_us")]
    for label, bare, bound in rows:
        if bare in r:
            print(f"  {label:42s} {r[bare]:11.1f} us {r[bound]:7.1f} us "
                  f"{r[bound] - r[bare]:+6.1f} us")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
