# SPDX-License-Identifier: Apache-2.0
"""conftest.py: what the clnorm package's tests share: the contexts (the
default device, and the same device with the float-float kernels), the random
generator (fresh each run; CLNORM_TEST_SEED repeats one), and skips with a
message where python3-torch or python3-pyopencl is missing."""
import os
import secrets

import numpy as np
import pytest

import clnorm

SEED = int(os.environ.get("CLNORM_TEST_SEED") or secrets.randbits(32))


def pytest_report_header(config):
    return [
        f"clnorm {clnorm.__version__} from {os.path.dirname(clnorm.__file__)}",
        f"libclnorm {clnorm.library_version()} from {clnorm.library_path()}",
        f"device: {clnorm.default_context().device_description}",
        f"seed: CLNORM_TEST_SEED={SEED}",
    ]


@pytest.fixture
def rng(request):
    """Fresh inputs every run, reproducible from the seed in the header."""
    return np.random.default_rng([SEED, abs(hash(request.node.nodeid)) % (1 << 32)])


@pytest.fixture(scope="session")
def default_ctx():
    return clnorm.default_context()


@pytest.fixture(scope="session")
def float_float_ctx():
    return clnorm.Context(fp64=False)


@pytest.fixture(scope="session", params=["fp64-if-any", "float-float"])
def ctx(request, default_ctx, float_float_ctx):
    """Both accumulations on the default device (fp64 where it has it)."""
    return default_ctx if request.param == "fp64-if-any" else float_float_ctx


@pytest.fixture(scope="session")
def torch():
    return pytest.importorskip(
        "torch", reason="python3-torch is not installed (apt-get install python3-torch)"
    )


@pytest.fixture(scope="session")
def cl():
    return pytest.importorskip(
        "pyopencl", reason="python3-pyopencl is not installed (apt-get install python3-pyopencl)"
    )


@pytest.fixture(scope="session")
def cl_queue(cl):
    """A pyopencl queue on the device clnorm picks by default, and a clnorm
    context wrapped around it."""
    import pyopencl.array  # noqa: F401  (makes pyopencl arrays known to clnorm)

    ctx = clnorm.default_context()
    device = cl.Device.from_int_ptr(ctx._lib.clnorm_context_device(ctx.handle), retain=False)
    queue = cl.CommandQueue(cl.Context([device]))
    return queue


@pytest.fixture(scope="session")
def wrapped(cl_queue):
    return clnorm.Context.wrap(cl_queue)
