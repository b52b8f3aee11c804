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
]
