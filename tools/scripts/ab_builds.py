#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""ab_builds.py: two builds of libclnorm compared in one process.

`clnorm bench` run from two build trees in turn measures each build in a
process of its own, and the machine's state moves between the two by more
than a few per cent. Here both libraries are loaded side by side
(RTLD_LOCAL | RTLD_DEEPBIND: each keeps its own symbols), both wrap the same
OpenCL context and queue (clnorm_context_wrap) and run on the same input
and output buffers, and their calls alternate one by one (one build first,
then the other): drift hits both alike. A copy of the same bytes
(clEnqueueCopyBuffer) is timed among them as the scale.

Per call it takes the kernel's time on the device (the queue's profiling of
the event the call hands back) or, with --wall, the host's time of the call
and its wait. A round is --calls calls of each; its ratio is median
time(old) / median time(new) (above 1: the new build is faster). A process
has its own placement of code and buffers, which can favour one build by a
few per cent in all its rounds, so the comparison is --runs processes
(loading the builds in alternating order) of --rounds rounds each: per case,
the median and range over the runs of each run's median ratio, and each
build's median of copy / time. Both builds' outputs must agree to 1e-5 of
the largest (exit 1 otherwise: each build's own tests hold it to the float64
reference; this only checks that the two ran the same op).

    /usr/bin/python3 tools/scripts/ab_builds.py OLD/libclnorm.so NEW/libclnorm.so
        [--runs 8] [--rounds 30] [--calls 11] [--only OP[:LAYOUT]]
        [--case OP:LAYOUT:SHAPE ...] [--wall] [--device P:D]

The default cases are `clnorm bench`'s rows of the first layers; --case
takes those ops and layouts, varnorm2d (nchw), revin and revin-inverse (bld,
bdl), and layer_norm (rows: BxLxD, over the last axis, with weight and bias),
e.g. --case revin:bld:8x16000x80. The device is platform P's device D
(default 0:0; $CLNORM_DEVICE is not read). Both builds must have these
functions of include/clnorm.h (context wrap, each op's create, forward,
inverse and destroy).
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import pyopencl as cl

NO_CACHE = 1 << 1  # CLNORM_CONTEXT_NO_CACHE: each build compiles its own kernels
TRANSPOSED = 1 << 0  # CLNORM_REVIN_TRANSPOSED
# `clnorm bench`'s rows of the first layers (tools/ops: op_varnorm2d.c, op_revin.c)
CASES = (("varnorm2d", "nchw", (10, 64, 32, 32)), ("varnorm2d", "nchw", (4, 128, 64, 64)),
         ("varnorm2d", "nchw", (16, 64, 128, 128)), ("revin", "bld", (32, 10, 5)),
         ("revin", "bld", (8, 16000, 80)), ("revin", "bld", (64, 1024, 256)),
         ("revin", "bdl", (8, 80, 16000)), ("revin-inverse", "bld", (32, 10, 5)),
         ("revin-inverse", "bld", (8, 16000, 80)), ("revin-inverse", "bld", (64, 1024, 256)),
         ("revin-inverse", "bdl", (8, 80, 16000)))


class VarNormParams(ctypes.Structure):
    _fields_ = [("alpha", ctypes.POINTER(ctypes.c_float)), ("version", ctypes.c_uint64)]


class AffineParams(ctypes.Structure):
    _fields_ = [("weight", ctypes.POINTER(ctypes.c_float)),
                ("bias", ctypes.POINTER(ctypes.c_float)), ("version", ctypes.c_uint64)]


def floats(count, first, step):
    """A ctypes float array first, first + step, ... and a pointer to it."""
    array = (ctypes.c_float * count)(*[first + step * i for i in range(count)])
    return array, ctypes.cast(array, ctypes.POINTER(ctypes.c_float))


class Build:
    """One libclnorm, its context wrapping the shared queue, its layers."""

    def __init__(self, path, queue):
        self.path = path
        self.lib = ctypes.CDLL(path, mode=os.RTLD_NOW | os.RTLD_LOCAL | os.RTLD_DEEPBIND)
        vp, sz, u = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint
        forward = [vp, vp, sz, sz, vp, sz, vp, sz, u, vp, ctypes.POINTER(vp)]
        prototypes = {
            "clnorm_context_wrap": [vp, vp, vp, u, ctypes.POINTER(vp)],
            "clnorm_context_destroy": [vp],
            "clnorm_revin_create": [vp, sz, u, ctypes.POINTER(vp)],
            "clnorm_revin_forward": forward,
            "clnorm_revin_inverse": forward,
            "clnorm_revin_destroy": [vp],
            "clnorm_varnorm2d_create": [vp, sz, ctypes.POINTER(vp)],
            "clnorm_varnorm2d_forward": [vp, vp, sz, sz, sz, sz] + forward[4:],
            "clnorm_varnorm2d_destroy": [vp],
            "clnorm_layer_norm_create": [vp, sz, ctypes.c_double, u, ctypes.POINTER(vp)],
            "clnorm_layer_norm_forward": [vp, vp, sz] + forward[4:],
            "clnorm_layer_norm_destroy": [vp],
        }
        for name, argtypes in prototypes.items():
            if hasattr(self.lib, name):  # an older build may lack a layer
                getattr(self.lib, name).argtypes = argtypes
        self.lib.clnorm_status_name.restype = ctypes.c_char_p
        self.ctx = vp()
        self.check(self.lib.clnorm_context_wrap(queue.context.int_ptr, queue.device.int_ptr,
                                                queue.int_ptr, NO_CACHE, ctypes.byref(self.ctx)),
                   "clnorm_context_wrap")
        self.layers = []  # (destroy function, layer)
        self.keep = []  # host parameters the layers read

    def check(self, status, what):
        if status:
            name = self.lib.clnorm_status_name(status).decode()
            sys.exit(f"ab_builds: {self.path}: {what}: {name}")

    def create(self, op, *args):
        if not hasattr(self.lib, f"clnorm_{op}_forward"):
            sys.exit(f"ab_builds: {self.path} has no clnorm_{op}_forward")
        out = ctypes.c_void_p()
        self.check(getattr(self.lib, f"clnorm_{op}_create")(self.ctx, *args, ctypes.byref(out)),
                   f"clnorm_{op}_create")
        self.layers.append((getattr(self.lib, f"clnorm_{op}_destroy"), out))
        return out

    def runner(self, op, layout, shape, x, y):
        """A function that enqueues one call of the op and returns its event."""
        if op == "varnorm2d":
            alpha, pointer = floats(shape[1], 1.0, 0.01)
            params = VarNormParams(pointer, 1)
            layer = self.create(op, shape[1])
            call, args = self.lib.clnorm_varnorm2d_forward, (layer, ctypes.byref(params)) + shape
            self.keep.append(alpha)
        elif op == "layer_norm":  # over the last axis, weight and bias
            weight, w = floats(shape[-1], 1.0, 0.01)
            bias, b = floats(shape[-1], 0.0, 0.02)
            params = AffineParams(w, b, 1)
            layer = self.create(op, shape[-1], 1e-5, 0)
            rows = shape[0] * shape[1]
            call, args = self.lib.clnorm_layer_norm_forward, (layer, ctypes.byref(params), rows)
            self.keep += [weight, bias]
        else:
            b, length, d = shape if layout == "bld" else (shape[0], shape[2], shape[1])
            layer = self.create("revin", d, TRANSPOSED if layout == "bdl" else 0)
            call, args = self.lib.clnorm_revin_forward, (layer, None, b, length)
            if op == "revin-inverse":  # the statistics of a forward on the same input
                self.enqueue(call, args, x, y).wait()
                call = self.lib.clnorm_revin_inverse
        return lambda: self.enqueue(call, args, x, y)

    def enqueue(self, call, args, x, y):
        ev = ctypes.c_void_p()
        self.check(call(*args, x.int_ptr, 0, y.int_ptr, 0, 0, None, ctypes.byref(ev)),
                   call.__name__)
        return cl.Event.from_int_ptr(ev.value, retain=False)

    def close(self):
        for destroy, layer in self.layers:
            destroy(layer)
        self.lib.clnorm_context_destroy(self.ctx)


def timed(run, wall):
    """Seconds of one enqueued command: on the device, or on the host with its wait."""
    t0 = time.perf_counter()
    ev = run()
    ev.wait()
    if wall:
        return time.perf_counter() - t0
    start, end = ev.profile.start, ev.profile.end
    if end <= start:
        sys.exit("ab_builds: the event handed back has no device time (use --wall)")
    return (end - start) * 1e-9


def compare(queue, builds, case, args):
    """One case, both builds: [time(first) / time(second), each one's copy / time]."""
    op, layout, shape = case
    rng = np.random.default_rng()
    x_host = (rng.standard_normal(int(np.prod(shape))) * 3.0 + 5.0).astype(np.float32)
    mf = cl.mem_flags
    x = cl.Buffer(queue.context, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=x_host)
    y = cl.Buffer(queue.context, mf.READ_WRITE, x_host.nbytes)
    scratch = cl.Buffer(queue.context, mf.READ_WRITE, x_host.nbytes)
    runs = [build.runner(op, layout, shape, x, y) for build in builds]
    outs = []
    for run in runs:  # warm-up, and each build's result
        cl.enqueue_fill_buffer(queue, y, np.float32(np.nan), 0, x_host.nbytes).wait()
        run().wait()
        out = np.empty_like(x_host)
        cl.enqueue_copy(queue, out, y)
        outs.append(out)
    if not np.array_equal(outs[0], outs[1]):
        diff = np.abs(outs[0].astype(np.float64) - outs[1])
        scale = np.abs(outs[0]).max()
        if not np.isfinite(diff).all() or diff.max() > 1e-5 * max(scale, 1.0):
            sys.exit(f"ab_builds: {name_of(case)}: the builds' outputs differ "
                     f"(max |A - B| {np.nanmax(diff):.3g})")
    runs.append(lambda: cl.enqueue_copy(queue, scratch, x))
    ratio, of_copy = [], [[], []]
    for r in range(args.rounds):
        times = [[], [], []]
        for i in range(args.calls):
            order = (0, 1, 2) if (i + r) % 2 == 0 else (1, 0, 2)
            for k in order:
                times[k].append(timed(runs[k], args.wall))
        first, second, copy = (statistics.median(t) for t in times)
        ratio.append(first / second)
        of_copy[0].append(copy / first)
        of_copy[1].append(copy / second)
    return [statistics.median(ratio), statistics.median(of_copy[0]),
            statistics.median(of_copy[1])]


def the_device(spec):
    platform, device = (int(v) for v in spec.split(":"))
    return cl.get_platforms()[platform].get_devices()[device]


def one_run(args):
    """This process: the builds in the order given, a JSON line per shape."""
    dev = the_device(args.device)
    context = cl.Context([dev])
    queue = cl.CommandQueue(context, dev,
                            properties=cl.command_queue_properties.PROFILING_ENABLE)
    builds = [Build(path, queue) for path in (args.build_a, args.build_b)]
    try:
        for case in args.cases:
            print(json.dumps(compare(queue, builds, case, args)), flush=True)
    finally:
        queue.finish()
        for build in builds:
            build.close()


def name_of(case):
    op, layout, shape = case
    return f"{op}:{layout}:{'x'.join(map(str, shape))}"


def parse_case(text):
    """OP:LAYOUT:AxBxC -> (op, layout, shape)."""
    try:
        op, layout, dims = text.split(":")
        shape = tuple(int(v) for v in dims.split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not OP:LAYOUT:SHAPE: {text}") from None
    rank = 4 if op == "varnorm2d" else 3
    layouts = {"varnorm2d": ("nchw",), "revin": ("bld", "bdl"), "revin-inverse": ("bld", "bdl"),
               "layer_norm": ("rows",)}
    if layout not in layouts.get(op, ()) or len(shape) != rank or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"unknown op, layout or shape: {text}")
    return op, layout, shape


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("old", help="the old build's libclnorm.so")
    ap.add_argument("new", help="the new build's libclnorm.so")
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--calls", type=int, default=11)
    ap.add_argument("--only", help="OP or OP:LAYOUT of the default cases")
    ap.add_argument("--case", type=parse_case, action="append", help="OP:LAYOUT:SHAPE")
    ap.add_argument("--wall", action="store_true", help="host time of call + wait")
    ap.add_argument("--device", default="0:0", help="platform:device indices (default 0:0)")
    ap.add_argument("--one-run", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if min(args.runs, args.rounds, args.calls) < 1:
        ap.error("--runs, --rounds and --calls take a positive count")
    args.cases = args.case or [c for c in CASES if not args.only
                               or args.only in (c[0], f"{c[0]}:{c[1]}")]
    if not args.cases:
        ap.error(f"no case of --only {args.only}")
    if args.one_run:
        args.build_a, args.build_b = args.old, args.new
        one_run(args)
        return
    for path in (args.old, args.new):
        if not os.path.isfile(path):
            ap.error(f"no such library: {path}")
    child = [sys.executable, os.path.abspath(__file__), "--one-run", "--rounds", str(args.rounds),
             "--calls", str(args.calls), "--device", args.device] + ["--wall"] * args.wall
    for case in args.cases:
        child += ["--case", name_of(case)]
    results = {name_of(case): [] for case in args.cases}  # (old/new, old of copy, new of copy)
    for run in range(args.runs):
        swapped = run % 2 == 1  # the new build loaded (and timed) first
        pair = [args.new, args.old] if swapped else [args.old, args.new]
        proc = subprocess.run(child + pair, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f"ab_builds: run {run + 1} failed:\n{proc.stderr}{proc.stdout}")
        for case, line in zip(args.cases, proc.stdout.splitlines()):
            ratio, first, second = json.loads(line)
            if swapped:
                ratio, first, second = 1.0 / ratio, second, first
            results[name_of(case)].append((ratio, first, second))
            print(f"run {run + 1}: {name_of(case)}: time old / new {ratio:.3f}", flush=True)
    dev = the_device(args.device)
    print(f"device: {dev.name} ({dev.platform.name}, {dev.driver_version}); "
          f"{'host time of call + wait' if args.wall else 'device time'}; {args.runs} runs of "
          f"{args.rounds} rounds of {args.calls} calls; old {args.old}, new {args.new}")
    med = statistics.median
    for name, rows in results.items():
        ratios = [row[0] for row in rows]
        print(f"{name}: time old / new {med(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f}), "
              f"new faster in {sum(q > 1.0 for q in ratios)} of {len(ratios)} runs; of copy: "
              f"old {med(row[1] for row in rows):.3f}, new {med(row[2] for row in rows):.3f}")


if __name__ == "__main__":
    main()
