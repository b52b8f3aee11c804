#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Compare `clnorm bench` with PyTorch on the CPU running ESPnet's formulas.

Usage: /usr/bin/python3 tools/scripts/bench_torch.py [--clnorm PATH] [--quick] [--json FILE]
                                             [--repeat N] [--device SPEC] [--fresh-memory]
                                             [--only OP[:LAYOUT]]

Runs `clnorm bench --json` once, times the same rows (op, layout, shape) with PyTorch
(2 threads, warm-up then the median of N repeats), runs `clnorm bench --json` again, and
prints torch ms, clnorm ms (the median of its two runs) and the speed-up per row (a
slow-down as "N.Nx<"). The shapes are taken from clnorm's own report so the two sides can
never disagree. The products (Linear, TransposedLinear, RLinear) run on whatever BLAS
PyTorch finds, named in the header: Debian's torch takes the system's libblas.so.3, the
reference BLAS unless OpenBLAS is installed; to compare with OpenBLAS without making it the
system's, install libopenblas0-pthread and run with
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread.
Needs python3-torch; without it the comparison is skipped (exit 0).

PyTorch's CPU tensors come from glibc's malloc, which serves blocks above its mmap
threshold (at most 32 MiB) with a fresh mmap and unmaps them on free, so each forward on a
large shape faults its output in page by page; on this VM that costs about ten times the
arithmetic (a 39 MiB multiply: 210 ms instead of 16 ms). By default the script re-runs
itself with malloc told to keep freed memory (GLIBC_TUNABLES mmap_max=0, a large trim
threshold), as a long-running process with a caching allocator would: the comparison that
favours PyTorch. --fresh-memory times glibc's default behaviour instead.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
KEEP_MEMORY = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736"
REEXEC_MARK = "CLNORM_BENCH_TORCH_REEXEC"  # holds the caller's GLIBC_TUNABLES (maybe empty)
LARGE_BYTES = 32 << 20  # "large": input + output >= 32 MiB
EPS_REVIN = 1e-4  # added to the std (ESPnet's RevIN; the README, "What the layers compute")
EPS_VARNORM = 1e-5  # added to the variance (ESPnet's VarianceNorm2d)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clnorm", default=str(ROOT / "build" / "tools" / "clnorm"),
                   help="the clnorm tool (default: build/tools/clnorm in the repository)")
    p.add_argument("--quick", action="store_true",
                   help="pass --quick to clnorm bench (its subset of shapes, fewer repeats)")
    p.add_argument("--json", metavar="FILE", help="also write the comparison as JSON")
    p.add_argument("--repeat", type=int, default=None,
                   help="timed PyTorch runs per row (default 21, 5 with --quick, as clnorm)")
    p.add_argument("--device", metavar="SPEC", help="passed to clnorm bench --device")
    p.add_argument("--only", metavar="OP[:LAYOUT]",
                   help="passed to clnorm bench --only (one class's rows)")
    p.add_argument("--fresh-memory", action="store_true",
                   help="leave glibc's malloc as it is: PyTorch pays page faults for every "
                        "large output (see the top of this file)")
    return p.parse_args()


# ESPnet's modules, written as their forward passes compute (the README, "What the layers compute").
# Nothing is fused or reordered: the point is what a user of ESPnet pays today.

def varnorm2d(x, alpha):
    var = torch.var(x, dim=(2, 3), keepdim=True)  # unbiased, as torch.var's default
    h = x / torch.sqrt(var + EPS_VARNORM)  # x, not x - mean
    return alpha.view(1, -1, 1, 1) * h


def revin_input(x, transposed):
    # ESPnet works on (B, D, L): a BLD input is viewed transposed, no copy.
    if not transposed:
        x = x.transpose(-1, -2)
    s, m = torch.std_mean(x, dim=-1, unbiased=False, keepdim=True)  # population std
    s += EPS_REVIN
    y = (x - m) / s
    if not transposed:
        y = y.transpose(-1, -2)
    return y, m, s


def revin_output(x, m, s, transposed):
    if not transposed:
        x = x.transpose(-1, -2)
    y = x * s + m
    if not transposed:
        y = y.transpose(-1, -2)
    return y


def instance_plus(x, alpha, gamma, beta):
    """ESPnet's InstanceNorm2dPlus forward (per-sample parameters: (N, C) or (C,))."""
    n, c = x.shape[:2]
    means = torch.mean(x, dim=(2, 3))
    m = torch.mean(means, dim=-1, keepdim=True)
    v = torch.var(means, dim=-1, keepdim=True)
    means = (means - m) / torch.sqrt(v + 1e-5)
    h = torch.nn.functional.instance_norm(x, eps=1e-5)
    h = h + means[..., None, None] * alpha.view(-1, c, 1, 1)
    out = gamma.view(-1, c, 1, 1) * h
    return out + beta.view(-1, c, 1, 1) if beta is not None else out


def transposed_ln(x, s_p, m_p):
    """ESPnet's TransposedLN(D, scalar=True) on (B, D, L)."""
    s, m = torch.std_mean(x, dim=1, unbiased=False, keepdim=True)
    return (s_p / s) * (x - m + m_p)


def ts_scale(x, method, horizon):
    """ESPnet's TSNormalization scale of (B, L, D)."""
    if method == "mean":
        return x.abs()[:, :-horizon].mean(dim=1, keepdim=True)
    return x.abs()[:, -horizon - 1][:, None]


def forward_of(row, x, gen):
    """The PyTorch forward of a bench row as ESPnet or torch.nn computes it, with
    trained-looking parameters; the row's class options come from clnorm's report."""
    op, o, shape = row["class"], row.get("options", {}), row["shape"]
    transposed = row["layout"] == "bdl"
    nn = torch.nn.functional

    def scale(n):
        return 1.0 + 0.1 * torch.randn(n, generator=gen)

    def shift(n):
        return 0.1 * torch.randn(n, generator=gen)

    if op == "VarianceNorm2d":
        alpha = 1.0 + 0.02 * torch.randn(shape[1], generator=gen)  # ESPnet's N(1, 0.02) init
        return lambda: varnorm2d(x, alpha)
    if op == "ReversibleInstanceNorm1dInput":
        return lambda: revin_input(x, transposed)
    if op == "ReversibleInstanceNorm1dOutput":
        _, m, s = revin_input(x, transposed)  # statistics of an input forward, not timed
        return lambda: revin_output(x, m, s, transposed)
    if op == "LayerNorm":
        d = shape[-1]
        w, b = (None, None) if o.get("no-affine") else (scale(d), shift(d))
        return lambda: nn.layer_norm(x, (d,), w, b, o.get("eps", 1e-5))
    if op == "InstanceNorm2d":
        c = shape[1]
        w, b = (scale(c), shift(c)) if o.get("affine") else (None, None)
        return lambda: nn.instance_norm(x, weight=w, bias=b, eps=o.get("eps", 1e-5))
    if op == "GroupNorm":
        c = shape[1]
        w, b = (None, None) if o.get("no-affine") else (scale(c), shift(c))
        return lambda: nn.group_norm(x, int(o["num-groups"]), w, b, o.get("eps", 1e-5))
    if op == "NoneNorm2d":
        return lambda: x  # ESPnet's NoneNorm2d returns its input
    if op == "InstanceNorm2dPlus":
        c = shape[1]
        alpha, gamma = scale(c), scale(c)
        beta = None if o.get("no-bias") else shift(c)
        return lambda: instance_plus(x, alpha, gamma, beta)
    if op.startswith("Conditional"):
        n, c = shape[:2]
        labels = torch.randint(0, 10, (n,), generator=gen)
        chunks = {"ConditionalVarianceNorm2d": 1, "ConditionalInstanceNorm2dPlus": 3}.get(op, 2)
        if o.get("no-bias"):
            chunks -= 1
        embed = torch.nn.Embedding(10, chunks * c)
        parts = lambda: embed(labels).chunk(chunks, dim=-1)
        if op == "ConditionalVarianceNorm2d":
            return lambda: parts()[0].view(-1, c, 1, 1) * (
                x / torch.sqrt(torch.var(x, dim=(2, 3), keepdim=True) + 1e-5))
        if op == "ConditionalInstanceNorm2dPlus":
            def plus():
                p = parts()
                return instance_plus(x, p[1], p[0], p[2] if len(p) > 2 else None)
            return plus
        rm, rv = shift(c), 1.0 + 0.1 * torch.rand(c, generator=gen)

        def affine():
            if op == "ConditionalInstanceNorm2d":
                h = nn.instance_norm(x, eps=1e-5)
            elif op == "ConditionalBatchNorm2d":
                h = nn.batch_norm(x, rm, rv, training=False, eps=1e-5)
            else:  # ConditionalNoneNorm2d
                h = x
            p = parts()
            out = p[0].view(-1, c, 1, 1) * h
            return out + p[1].view(-1, c, 1, 1) if len(p) > 1 else out
        return affine
    if op == "TransposedLN":
        if o.get("no-scalar"):
            d = shape[1]
            w, b = scale(d), shift(d)
            return lambda: nn.layer_norm(x.transpose(-1, -2), (d,), w, b, 1e-5).transpose(-1, -2)
        return lambda: transposed_ln(x, torch.ones(1), torch.zeros(1))
    if op == "Normalization":
        name = o.get("name", "layer")
        d = shape[1] if transposed else shape[2]
        w, b = scale(d), shift(d)
        xt = x if transposed else x.transpose(-1, -2)  # ESPnet's norms work on (B, D, L)
        back = (lambda y: y) if transposed else (lambda y: y.transpose(-1, -2))
        if name == "layer" and not transposed:
            return lambda: nn.layer_norm(x, (d,), w, b, 1e-5)
        if name == "layer":
            return lambda: transposed_ln(x, torch.ones(1), torch.zeros(1))
        if name == "instance":
            return lambda: back(nn.instance_norm(xt, eps=1e-5))
        if name == "batch":
            rm, rv = shift(d), 1.0 + 0.1 * torch.rand(d, generator=gen)
            return lambda: back(nn.batch_norm(xt, rm, rv, w, b, training=False, eps=1e-5))
        if name == "group":
            return lambda: back(nn.group_norm(xt, 1, w, b, 1e-5))
        return lambda: x
    if op == "TSNormalization":
        method, horizon = o.get("method", "mean"), int(o.get("horizon", 0))
        return lambda: x / ts_scale(x, method, horizon)
    if op == "TSInverseNormalization":
        s = 1.0 + torch.rand(shape[0], 1, shape[2], generator=gen)
        return lambda: x * s
    if op == "RevIN":  # RTSF's layers/Invertible.py (PatchTST's with subtract-last)
        d, eps = shape[2], o.get("eps", 1e-5)
        w, b = (None, None) if o.get("no-affine") else (scale(d), shift(d))
        if o.get("mode", "norm") == "norm":
            return lambda: rtsf_revin_norm(x, w, b, eps, o.get("subtract-last"))
        centre = shift(shape[0] * d).view(shape[0], 1, d)
        stdev = 1.0 + torch.rand(shape[0], 1, d, generator=gen)
        return lambda: rtsf_revin_denorm(x, centre, stdev, w, b, eps)
    if op in ("Linear", "TransposedLinear", "RLinear"):
        f = int(o["out_features"])
        k = shape[-1] if op == "Linear" else shape[1]
        if op == "RLinear" and o.get("individual"):
            heads = [torch.nn.Linear(k, f) for _ in range(shape[2])]
        else:
            heads = [torch.nn.Linear(k, f)]
        if op == "Linear":
            return lambda: heads[0](x)
        if op == "TransposedLinear":  # ESPnet's: einsum over the second axis, bias per row
            w, bias = heads[0].weight, heads[0].bias.view(-1, 1)
            return lambda: torch.einsum("bu...,vu->bv...", x, w) + bias
        d = shape[2]
        w, b = scale(d), shift(d)

        def rlinear():  # RTSF's models/RLinear.py
            xn, centre, stdev = rtsf_revin_norm(x, w, b, 1e-5, False, keep=True) \
                if not o.get("no-rev") else (x, None, None)
            if len(heads) > 1:
                pred = torch.stack([heads[i](xn[:, :, i]) for i in range(d)], dim=2)
            else:
                pred = heads[0](xn.transpose(1, 2)).transpose(1, 2)
            return pred if centre is None else rtsf_revin_denorm(pred, centre, stdev, w, b, 1e-5)
        return rlinear
    return None


def rtsf_revin_norm(x, w, b, eps, subtract_last, keep=False):
    centre = x[:, -1:, :] if subtract_last else torch.mean(x, dim=1, keepdim=True)
    stdev = torch.sqrt(torch.var(x, dim=1, keepdim=True, unbiased=False) + eps)
    y = (x - centre) / stdev
    if w is not None:
        y = y * w + b
    return (y, centre, stdev) if keep else y


def rtsf_revin_denorm(x, centre, stdev, w, b, eps):
    if w is not None:
        x = (x - b) / (w + eps * eps)
    return x * stdev + centre


def time_torch(row, warmup, repeat):
    """Median ms of one forward on the row's shape; None for a class without a forward here."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(*row["shape"], generator=gen, dtype=torch.float32)
    run = forward_of(row, x, gen)
    if run is None:
        return None
    times = []
    with torch.inference_mode():
        for i in range(warmup + repeat):
            t0 = time.perf_counter()
            out = run()
            t1 = time.perf_counter()
            del out  # free the output before the next run, as a model would
            if i >= warmup:
                times.append((t1 - t0) * 1e3)
    return statistics.median(times)


def run_clnorm(args):
    """One `clnorm bench --json` run: (report, problem or None)."""
    fd, path = tempfile.mkstemp(prefix="clnorm-bench-", suffix=".json")
    os.close(fd)
    # --no-startup: the start-up probes time new processes, not the layers compared here.
    cmd = [args.clnorm, "bench", "--no-startup", "--json", path]
    if args.quick:
        cmd.append("--quick")
    if args.device:
        cmd += ["--device", args.device]
    if args.only:
        cmd += ["--only", args.only]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=clnorm_env())
        report = None
        if os.path.getsize(path) > 0:
            with open(path) as f:
                report = json.load(f)
    finally:
        os.unlink(path)
    problem = None
    if proc.returncode != 0:
        problem = (f"{' '.join(cmd)} exited {proc.returncode}: "
                   f"{proc.stderr.strip() or proc.stdout.strip()}")
    if report is None:
        sys.exit(f"bench_torch: no report from clnorm bench. {problem or ''}")
    return report, problem


def keep_memory(args):
    """Re-run this script with malloc keeping freed memory, unless asked not to."""
    if args.fresh_memory or REEXEC_MARK in os.environ:
        return
    env = dict(os.environ)
    env[REEXEC_MARK] = env.get("GLIBC_TUNABLES", "")
    env["GLIBC_TUNABLES"] = (env[REEXEC_MARK] + ":" if env[REEXEC_MARK] else "") + KEEP_MEMORY
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def clnorm_env():
    """clnorm runs with the caller's environment, not the malloc settings meant for PyTorch."""
    env = dict(os.environ)
    if REEXEC_MARK in env:
        saved = env.pop(REEXEC_MARK)
        if saved:
            env["GLIBC_TUNABLES"] = saved
        else:
            env.pop("GLIBC_TUNABLES", None)
    return env


def key(row):
    """A row by class, layout, shape and options (RLinear's shared and individual rows
    have one shape)."""
    return (row["op"], row["layout"], tuple(row["shape"]),
            json.dumps(row.get("options", {}), sort_keys=True))


def blas_library():
    """The BLAS library PyTorch's products ran on (after one), from the process's
    mappings: Debian's torch takes the system's libblas.so.3, the reference BLAS
    unless OpenBLAS is installed (or found first on LD_LIBRARY_PATH)."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    torch.nn.functional.linear(torch.ones(2, 64), torch.ones(8, 64))
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line and "/" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted(paths)) or "none found"


def main():
    args = parse_args()
    keep_memory(args)  # re-executes (once), before torch is loaded
    global torch
    try:
        import torch
    except ModuleNotFoundError as e:
        if e.name != "torch":
            raise
        # Optional comparison: a skip, not a failure.
        print("bench_torch: skipped: python3-torch is not installed: apt-get install python3-torch "
              f"(and run this with /usr/bin/python3; this is {sys.executable})")
        return 0
    if not os.access(args.clnorm, os.X_OK):
        sys.exit(f"bench_torch: {args.clnorm} is not an executable clnorm "
                 "(build it: cmake --build build, or pass --clnorm PATH)")
    torch.set_num_threads(2)  # the yardstick: PyTorch on the CPU with 2 threads
    repeat = args.repeat or (5 if args.quick else 21)
    warmup = 3

    # Both sides use both cores: another busy process skews them (PyTorch's OpenMP threads
    # then wait for a scheduler slice, ~16 ms here). The load average before the run says
    # whether something else was busy (during the run it counts this run too).
    load_before = os.getloadavg()[0]
    t_start = time.perf_counter()
    before, problem1 = run_clnorm(args)
    rows = before["results"]
    torch_ms = {}
    for row in rows:
        torch_ms[key(row)] = time_torch(row, warmup, repeat)
    after, problem2 = run_clnorm(args)
    after_ms = {key(r): r["ms"] for r in after["results"]}
    elapsed = time.perf_counter() - t_start

    memory = "fresh memory per forward" if args.fresh_memory else "freed memory reused"
    blas = blas_library()
    print(f"clnorm on {before['device']} (driver {before['driver']}); "
          f"PyTorch {torch.__version__} on the CPU, {torch.get_num_threads()} threads, {memory}; "
          f"BLAS {blas}")
    print(f"{'op':<14} {'lay':<5} {'shape':<20} {'MiB':>8} {'torch ms':>10} "
          f"{'clnorm ms':>10} {'speed-up':>9}")
    out_rows = []
    for row in rows:
        k = key(row)
        runs = [row["ms"], after_ms.get(k)]
        runs = [r for r in runs if isinstance(r, (int, float))]
        cl_ms = statistics.median(runs) if runs else None
        t_ms = torch_ms[k]
        speedup = t_ms / cl_ms if cl_ms and t_ms else None
        shape = "[" + ", ".join(str(s) for s in row["shape"]) + "]"
        cl_text = f"{cl_ms:10.3f}" if cl_ms else f"{'-':>10}"
        up_text = (f"{speedup:8.1f}x" if speedup >= 0.95 else f"{1 / speedup:7.1f}x<") \
            if speedup else f"{'-':>9}"
        t_text = f"{t_ms:10.3f}" if t_ms else f"{'-':>10}"
        print(f"{row['op']:<14} {row['layout']:<5} {shape:<20} {row['bytes'] / 2**20:8.2f} "
              f"{t_text} {cl_text} {up_text}")
        out_rows.append({"op": row["op"], "layout": row["layout"], "shape": row["shape"],
                         "bytes": row["bytes"], "torch_ms": t_ms, "clnorm_ms": cl_ms,
                         "clnorm_ms_runs": runs, "speedup": speedup})
    large = [r["speedup"] for r in out_rows if r["bytes"] >= LARGE_BYTES and r["speedup"]]
    min_large = min(large) if large else None
    if min_large is not None:
        print(f"minimum speed-up on the large shapes (>= 32 MiB input + output): {min_large:.1f}x "
              f"over {len(large)} rows")
    else:
        print("no large shapes (>= 32 MiB input + output) in this run")
    print(f"({elapsed:.0f} s; clnorm ms is the median of two bench runs, before and after "
          f"the PyTorch timings; torch ms the median of {repeat} after {warmup} warm-ups; "
          f"1-minute load average before the run {load_before:.2f} on {os.cpu_count()} CPUs)")
    if load_before > 0.5:
        print(f"bench_torch: note: the machine was busy before the run (load {load_before:.2f}): "
              "times that are multiples of a scheduler slice mean both sides waited for a core",
              file=sys.stderr)
    problems = [p for p in (problem1, problem2) if p]
    for p in problems:
        # e.g. a result outside the accuracy bar: its speed does not count.
        print(f"bench_torch: warning: {p}", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": before["device"], "driver": before["driver"],
                       "torch_version": torch.__version__,
                       "torch_threads": torch.get_num_threads(), "torch_blas": blas,
                       "torch_repeat": repeat, "torch_fresh_memory": args.fresh_memory,
                       "load_average_before": load_before, "results": out_rows,
                       "min_speedup_large": min_large, "clnorm_problems": problems},
                      f, indent=1)
            f.write("\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
