#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""forecast_demo.py: run a real trained RLinear forecaster through the clnorm tool.

Runs `clnorm RLinear` on the 81 test windows of the `rlinear_real` fixture (monthly
Mauna Loa CO2 and Pacific SST, 104 months in, 26 months out), checks the output
against PyTorch's with the fixture pass rule, prints the test MSE of the model and
of two naive forecasts, and with --png plots the last test window.

    /usr/bin/python3 tools/scripts/forecast_demo.py --clnorm build/tools/clnorm
                     [--fixtures DIR] [--device SPEC] [--png OUT.png]

Exit 0 when everything passes, 1 when the tool fails or its output is out of
tolerance, 2 when --png is given without matplotlib.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

CASE = "rlinear_real"
DEFAULT_FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "fixtures", "family")


def load_case(fixtures):
    with open(os.path.join(fixtures, "index.json")) as f:
        entry = next(e for e in json.load(f) if e["case"] == CASE)
    arrays = {k: np.load(os.path.join(fixtures, v))
              for k, v in entry["files"].items() if v.endswith(".npy")}
    return entry, arrays


def run_clnorm(clnorm, fixtures, device, out_path):
    cmd = [clnorm, "RLinear", "-i", os.path.join(fixtures, CASE + ".x.npy"), "-o", out_path,
           "--params", os.path.join(fixtures, CASE + ".params.safetensors")]
    if device:
        cmd += ["--device", device]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        sys.exit(f"forecast_demo: cannot run {clnorm}: {e}")
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        sys.exit(f"forecast_demo: {' '.join(cmd)} exited with {proc.returncode}")
    return np.load(out_path)


def naive_forecasts(x, horizon):
    """The two baselines: the window's last value, and its last 12 months tiled."""
    last = np.repeat(x[:, -1:, :], horizon, axis=1)
    season = x[:, x.shape[1] - 12 + np.arange(horizon) % 12, :]
    return last, season


def mse(pred, truth, axes=(0, 1)):
    return np.mean((np.asarray(pred, np.float64) - truth) ** 2, axis=axes)


def month_label(first_month, month):
    year, mon = (int(s) for s in first_month.split("-")[:2])
    total = year * 12 + mon - 1 + month
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def plot(png, entry, arrays, got, season, k):
    try:
        import matplotlib
        matplotlib.use("Agg")  # files only, no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        print("forecast_demo: --png needs matplotlib: apt-get install python3-matplotlib")
        sys.exit(2)
    data = entry["data"]
    series, truth = arrays["series"], arrays["truth"]
    seq_len, horizon = data["L"], data["H"]
    start = data["test_window_starts"][k]
    year0, mon0 = (int(s) for s in data["first_month"].split("-")[:2])
    years = year0 + (mon0 - 1) / 12 + np.arange(len(series)) / 12
    hist = years[start:start + seq_len]
    fut = years[start + seq_len:start + seq_len + horizon]
    fut_joined = np.concatenate([hist[-1:], fut])
    names = ["CO2 (ppm)", "SST (°C)"]

    fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for d, ax in enumerate(axes):
        # Truth and forecasts start at the last observed month so they join the history.
        join = slice(start + seq_len - 1, start + seq_len)
        ax.plot(hist, series[start:start + seq_len, d], color="0.45", lw=1.2,
                label=f"history (model input, {seq_len} months)")
        ax.plot(fut_joined, np.concatenate([series[join, d], truth[k, :, d]]), color="black",
                lw=1.8, label="truth")
        ax.plot(fut_joined, np.concatenate([series[join, d], got[k, :, d]]), color="tab:red",
                lw=1.8, label="RLinear via clnorm")
        ax.plot(fut_joined, np.concatenate([series[join, d], season[k, :, d]]),
                color="tab:blue", lw=1.4, ls="--", label="repeat the last 12 months")
        ax.axvline(hist[-1], color="0.7", lw=0.8)
        ax.set_title(f"{names[d]}: forecast MSE RLinear {mse(got[k, :, d], truth[k, :, d], 0):.2f}"
                     f", repeat last 12 months {mse(season[k, :, d], truth[k, :, d], 0):.2f}",
                     fontsize=9, loc="left")
        ax.set_ylabel(names[d])
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("year")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=9, frameon=False)
    fig.suptitle("RLinear (RevIN + Linear 104 -> 26) on OpenCL via clnorm,\n"
                 f"test window starting {month_label(data['first_month'], start)} "
                 f"(forecast {month_label(data['first_month'], start + seq_len)} to "
                 f"{month_label(data['first_month'], start + seq_len + horizon - 1)})",
                 fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 1))  # room for the shared legend below
    fig.savefig(png, dpi=100)
    print(f"wrote {png}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clnorm", required=True, help="path to the clnorm binary")
    ap.add_argument("--fixtures", default=os.path.normpath(DEFAULT_FIXTURES))
    ap.add_argument("--device", help="passed to clnorm as --device")
    ap.add_argument("--png", help="write a plot of the last test window here")
    args = ap.parse_args()

    entry, arrays = load_case(args.fixtures)
    x, expected, bound, truth = (arrays[k] for k in ("x", "y", "bound", "truth"))
    with tempfile.TemporaryDirectory() as tmp:
        got = run_clnorm(args.clnorm, args.fixtures, args.device, os.path.join(tmp, "y.npy"))
    if got.shape != expected.shape or got.dtype != np.float32:
        print(f"FAIL: clnorm wrote {got.dtype} {got.shape}, expected float32 {expected.shape}")
        return 1

    # Fixture pass rule (SPEC.md 8): |got - expected| <= max(tol, bound) per element.
    allowed = np.maximum(entry["tolerance"]["y"]["tol"], bound)
    ratio = np.abs(got.astype(np.float64) - expected) / allowed
    failing = int(np.count_nonzero(~(ratio <= 1)))  # NaN counts as failing
    ok = failing == 0
    print(f"clnorm RLinear vs PyTorch: {got.size} elements, largest |err|/allowed "
          f"{np.nanmax(ratio):.3g}, {failing} failing -> {'PASS' if ok else 'FAIL'}")

    data = entry["data"]
    last, season = naive_forecasts(x, truth.shape[1])
    rows = [("RLinear, clnorm", mse(got, truth), data["mse_model"]),
            ("RLinear, PyTorch (y.npy)", mse(expected, truth), data["mse_model"]),
            ("repeat the last value", mse(last, truth), data["mse_repeat_last"]),
            ("repeat the last 12 months", mse(season, truth), data["mse_repeat_last_year"])]
    print(f"\ntest MSE over {x.shape[0]} windows x {truth.shape[1]} months "
          f"(CO2 ppm^2, SST degC^2)")
    print(f"{'forecast':28s} {'CO2':>8s} {'SST':>8s}   {'recorded CO2':>12s} {'SST':>8s}")
    for name, ours, recorded in rows:
        same = np.allclose(ours, recorded, rtol=1e-3)
        print(f"{name:28s} {ours[0]:8.4g} {ours[1]:8.4g}   {recorded[0]:12.4g} "
              f"{recorded[1]:8.4g}{'' if same else '   <- differs from the recorded value'}")

    if args.png:
        plot(args.png, entry, arrays, got, season, len(data["test_window_starts"]) - 1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
