# SPDX-License-Identifier: Apache-2.0
"""test_readme.py: the Python examples of README.md run, and print what they
say they print; the package finds the library as the README says."""
import os
import re
import subprocess
import sys
import types

import pytest

import clnorm

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def python_blocks():
    with open(os.path.join(REPO, "README.md")) as f:
        text = f.read()
    section = re.search(r"^## Python\n(.*?)^## ", text, re.S | re.M).group(1)
    return re.findall(r"```python\n(.*?)```", section, re.S)


def fake_espnet(monkeypatch):
    """espnet2's module paths, holding the classes of espnet_modules.py."""
    import espnet_modules

    paths = ["espnet2", "espnet2.enh", "espnet2.enh.layers", "espnet2.enh.layers.ncsnpp_utils",
             "espnet2.enh.layers.ncsnpp_utils.normalization", "espnet2.asr",
             "espnet2.asr.state_spaces", "espnet2.asr.state_spaces.components"]
    for path in paths:
        module = types.ModuleType(path)
        module.__dict__.update({k: v for k, v in vars(espnet_modules).items()
                                if isinstance(v, type)})
        monkeypatch.setitem(sys.modules, path, module)


def test_three_examples():
    assert len(python_blocks()) == 3


def test_espnet_quick_start(torch, monkeypatch, capsys):
    fake_espnet(monkeypatch)
    exec(compile(python_blocks()[0], "README.md (ESPnet quick start)", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert float(lines[0]) < 1e-5  # "about 1e-6"
    assert lines[1] == "(4, 80, 1) (4, 80, 1)"


def test_pyopencl_pipeline(cl, capsys):
    scope = {}
    exec(compile(python_blocks()[1], "README.md (pyopencl pipeline)", "exec"), scope)
    x, h, y = scope["x"], scope["h"], scope["y"]
    assert y is h  # in place
    import numpy as np

    host = x.get().astype(np.float64)
    m = host.mean(axis=1, keepdims=True)
    s = host.std(axis=1, keepdims=True) + 1e-4
    np.testing.assert_allclose(y.get(), (0.5 * (host - m) / s + 0.1) * s + m, rtol=1e-4, atol=1e-4)
    assert capsys.readouterr().out.startswith("[[")


def test_forecast_example(capsys):
    exec(compile(python_blocks()[2], "README.md (forecasting)", "exec"), {})
    assert capsys.readouterr().out.splitlines() == ["(8, 26, 2)", "True"]


def test_library_found_without_clnorm_library():
    """Where the README says: from the build tree of a checkout or of the
    virtual environment, without $CLNORM_LIBRARY."""
    loaded = os.path.realpath(clnorm.library_path())
    trees = [os.path.realpath(t) for t in clnorm._library._build_trees()]
    if os.path.dirname(loaded) not in trees:
        pytest.skip(f"the library in use ({loaded}) is not in a build tree the finder knows")
    env = {k: v for k, v in os.environ.items() if k != "CLNORM_LIBRARY"}
    r = subprocess.run([sys.executable, "-c", "import clnorm; print(clnorm.library_path())"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert os.path.dirname(os.path.realpath(r.stdout.strip())) in trees
