# SPDX-License-Identifier: Apache-2.0
"""clnorm: PyTorch and ESPnet normalization layers on OpenCL devices.

    import clnorm
    norm = clnorm.nn.VarianceNorm2d(64)
    norm.load_state_dict(torch_module.state_dict())
    y = norm(x)            # NumPy in, NumPy out; pyopencl arrays in and out, no copies

Importing needs only NumPy; the library (libclnorm) is loaded on first use,
found as clnorm._library explains ($CLNORM_LIBRARY, a build tree, a prefix).
"""
from . import nn
from ._library import LibraryNotFoundError
from .context import Context, default_context
from .errors import (
    BlasError,
    BufferTooSmallError,
    BuildFailedError,
    Error,
    InvalidArgumentError,
    MisalignedOffsetError,
    NoDeviceError,
    NoStatisticsError,
    NullArgumentError,
    OpenCLError,
    OutOfMemoryError,
    ShapeMismatchError,
    SizeOverflowError,
    TooLargeError,
    ZeroSizeError,
)

#: The version of this package (the library it binds has its own, library_version()).
__version__ = "0.1.0"


def library_version():
    """The loaded libclnorm's version string, "MAJOR.MINOR.PATCH"."""
    from . import _library

    return _library.lib().clnorm_version_string().decode()


def library_path():
    """The file libclnorm was loaded from."""
    from . import _library

    return _library.path()


def blas_clear_cache():
    """Release CLBlast's compiled programs (process-wide), and with them the
    references CLBlast holds to every OpenCL context a Linear, TransposedLinear
    or RLinear ran on (clnorm_blas_clear_cache): call it after closing the last
    such layer of a context whose OpenCL context must really go (a wrapped
    pyopencl one, say). Layers still alive compile again on their next call.
    Not while a Linear or RLinear call runs in another thread."""
    from . import _library, errors

    lib = _library.lib()
    errors.check(lib.clnorm_blas_clear_cache(), lib, None, "blas_clear_cache")


__all__ = [
    "__version__",
    "nn",
    "Context",
    "default_context",
    "library_version",
    "library_path",
    "LibraryNotFoundError",
    "Error",
    "NullArgumentError",
    "InvalidArgumentError",
    "ZeroSizeError",
    "SizeOverflowError",
    "BufferTooSmallError",
    "MisalignedOffsetError",
    "ShapeMismatchError",
    "NoStatisticsError",
    "TooLargeError",
    "NoDeviceError",
    "BuildFailedError",
    "OpenCLError",
    "OutOfMemoryError",
    "BlasError",
    "blas_clear_cache",
]
