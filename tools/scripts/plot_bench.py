#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Plot a `clnorm bench --csv` file: GB/s against tensor size, copy kernel as the ceiling.

Usage: /usr/bin/python3 tools/scripts/plot_bench.py bench.csv bench.png [--title TEXT]

One line per layer and layout (varnorm2d nchw, revin bld, revin bdl, revin-inverse bld,
...). The copy kernel was timed interleaved with every row on the same bytes (the
copy_gbps column), so it is drawn per row: grey crosses, and a dashed line through the
median at each size. Needs python3-matplotlib.
"""
import argparse
import csv
import re
import statistics
import sys

NEEDED = ("op", "layout", "shape", "bytes", "gbps", "copy_gbps")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("csv", help="written by clnorm bench --csv FILE")
    p.add_argument("png", help="the plot to write")
    p.add_argument("--title", help="plot title (the CSV does not name the device)")
    return p.parse_args()


def read_rows(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in NEEDED if c not in (reader.fieldnames or [])]
        if missing:
            sys.exit(f"plot_bench: {path}: no column {', '.join(missing)} "
                     "(expected the output of clnorm bench --csv)")
        rows = []
        for r in reader:
            try:
                rows.append({"op": r["op"], "layout": r["layout"],
                             # "[8x 16000x 80]": any separator, the numbers are what count
                             "shape": [int(v) for v in re.findall(r"\d+", r["shape"])],
                             "bytes": int(r["bytes"]), "gbps": float(r["gbps"]),
                             "copy_gbps": float(r["copy_gbps"])})
            except ValueError as e:
                sys.exit(f"plot_bench: {path}: line {reader.line_num}: {e}")
    if not rows:
        sys.exit(f"plot_bench: {path}: no results")
    return rows


def size_label(n):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n:g} B"


def main():
    args = parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
    except ImportError:
        sys.exit("plot_bench: python3-matplotlib is not installed: apt-get install "
                 f"python3-matplotlib (and run this with /usr/bin/python3; this is {sys.executable})")
    rows = read_rows(args.csv)

    fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
    series = {}
    for r in rows:  # keep the bench's order of first appearance
        series.setdefault(f"{r['op']} {r['layout']}", []).append(r)
    for name, rs in series.items():
        rs.sort(key=lambda r: r["bytes"])
        ax.plot([r["bytes"] for r in rs], [r["gbps"] for r in rs], marker="o", label=name)

    # The ceiling: every row's own copy, and the median per size (rows of equal size were
    # timed separately, and these machines drift).
    ax.scatter([r["bytes"] for r in rows], [r["copy_gbps"] for r in rows], marker="x",
               color="grey", zorder=3)
    sizes = sorted({r["bytes"] for r in rows})
    ceiling = [statistics.median(r["copy_gbps"] for r in rows if r["bytes"] == s) for s in sizes]
    ax.plot(sizes, ceiling, linestyle="--", color="grey", marker="x",
            label="copy kernel, same bytes (ceiling)")

    ax.set_xscale("log")
    lo, hi = min(sizes), max(sizes)
    ticks = [1 << k for k in range(0, 41, 2) if lo / 2 <= (1 << k) <= hi * 2]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: size_label(v)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("tensor size, input + output (bytes, log scale)")
    ax.set_ylabel("GB/s (input read once + output written once)")
    ax.set_ylim(bottom=0)
    ax.set_title(args.title or "clnorm bench")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(args.png)
    print(f"plot_bench: wrote {args.png} ({len(rows)} rows, {len(series)} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
