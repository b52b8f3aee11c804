#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every class's speed against the first layers, over repeated bench runs: the README's table.

Usage: /usr/bin/python3 tools/scripts/bench_family.py [--runs N] [--repeat R] [--clnorm PATH]
           [--only OP[:LAYOUT]] [--json-dir DIR]

Runs `clnorm bench --no-startup --reference --repeat R --json` N times in a row. In each
repeat of each row the bench times the class, a copy kernel on its bytes, then the class's
reference (VarianceNorm2d on an NCHW class's shape, RevIN on the reduction view of the
others, RevIN's inverse for the classes that read statistics) and the copy again, so the
class and its reference alternate at the finest grain the bench has. Prints a Markdown table
of the medians (and ranges) over the runs of the ratio to the copy and the ratio to the
reference, with the device, date and commit. Rows without a reference (the products, the
references themselves) show "-".
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5, help="full bench runs (default 5)")
    p.add_argument("--repeat", type=int, default=11, help="bench --repeat (default 11)")
    p.add_argument("--clnorm", default=os.path.join(ROOT, "build", "tools", "clnorm"),
                   help="the tool (default build/tools/clnorm)")
    p.add_argument("--only", help="bench --only OP[:LAYOUT]")
    p.add_argument("--json-dir", help="keep each run's JSON here")
    return p.parse_args()


def run_bench(args, path):
    cmd = [args.clnorm, "bench", "--no-startup", "--reference", "--repeat", str(args.repeat),
           "--json", path]
    if args.only:
        cmd += ["--only", args.only]
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"bench_family: {' '.join(cmd)} failed ({done.returncode}): {done.stderr}")
    with open(path) as f:
        return json.load(f)


def spread(values):
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    args = parse_args()
    if args.runs < 1 or args.repeat < 1:
        sys.exit("bench_family: --runs and --repeat want at least 1")
    rows, device = {}, None
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            out = os.path.join(args.json_dir or tmp, f"family-{i + 1}.json")
            if args.json_dir:
                os.makedirs(args.json_dir, exist_ok=True)
            run = run_bench(args, out)
            device = f"{run['device']}, driver {run['driver']}, {run['accumulator']} accumulator"
            for r in run["results"]:
                key = (r["class"], r["layout"], "x".join(map(str, r["shape"])))
                row = rows.setdefault(key, {"copy": [], "ref": [], "of": None})
                row["copy"].append(r["ratio_to_copy"])
                if "reference" in r:
                    ref = r["reference"]
                    row["of"] = f"{ref['class']} {ref['layout']} {'x'.join(map(str, ref['shape']))}"
                    row["ref"].append(r["ratio_to_reference"])
    print(f"{args.runs} runs of `clnorm bench --no-startup --reference --repeat {args.repeat}` "
          f"on {datetime.date.today()}, commit {commit()}, {device}; median (range):\n")
    print("| class | layout, shape | of copy | reference | of the reference |")
    print("|---|---|---|---|---|")
    for (cls, layout, shape), row in rows.items():
        print(f"| {cls} | {layout} {shape} | {spread(row['copy'])} | {row['of'] or '-'} "
              f"| {spread(row['ref'])} |")


if __name__ == "__main__":
    main()
