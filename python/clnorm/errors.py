# SPDX-License-Identifier: Apache-2.0
"""errors.py: clnorm.Error and one subclass per clnorm_status.

Every failure of the library, and every argument the binding refuses before
calling it, raises an Error carrying the status name (``status_name``, for
example ``"CLNORM_SHAPE_MISMATCH"``), its number (``status``) and the detail
(``message``: the library's clnorm_errmsg, or the binding's own sentence).
The statuses that mean "a bad argument" are also ValueError, and
CLNORM_OUT_OF_MEMORY is also MemoryError, so generic handlers catch them.
"""

# The rows of CLNORM_STATUS_MAP in include/clnorm.h, in order (their values);
# python/tests/test_capi.py checks this against the library's status names.
STATUS_NAMES = (
    "OK",
    "NULL_ARGUMENT",
    "INVALID_ARGUMENT",
    "ZERO_SIZE",
    "SIZE_OVERFLOW",
    "BUFFER_TOO_SMALL",
    "MISALIGNED_OFFSET",
    "SHAPE_MISMATCH",
    "NO_STATISTICS",
    "TOO_LARGE",
    "NO_DEVICE",
    "BUILD_FAILED",
    "OPENCL_ERROR",
    "OUT_OF_MEMORY",
    "BLAS_ERROR",
)
STATUS = {name: value for value, name in enumerate(STATUS_NAMES)}


class Error(Exception):
    """A clnorm failure: ``status`` (int), ``status_name``, ``message`` and
    ``cl_error`` (the raw OpenCL error code behind it, or 0)."""

    status_name = "CLNORM_UNKNOWN"

    def __init__(self, message, status=None, status_name=None, cl_error=0):
        if status is None:
            status = STATUS.get(type(self).status_name[len("CLNORM_") :], -1)
        self.status = status
        if status_name is not None:
            self.status_name = status_name
        self.message = message
        self.cl_error = cl_error
        super().__init__(f"{self.status_name}: {message}")


class NullArgumentError(Error, ValueError):
    """CLNORM_NULL_ARGUMENT: a required handle or pointer is NULL."""

    status_name = "CLNORM_NULL_ARGUMENT"


class InvalidArgumentError(Error, ValueError):
    """CLNORM_INVALID_ARGUMENT: an argument is out of range, or of a type or dtype refused."""

    status_name = "CLNORM_INVALID_ARGUMENT"


class ZeroSizeError(Error, ValueError):
    """CLNORM_ZERO_SIZE: a dimension is zero."""

    status_name = "CLNORM_ZERO_SIZE"


class SizeOverflowError(Error, ValueError):
    """CLNORM_SIZE_OVERFLOW: a size product overflows size_t."""

    status_name = "CLNORM_SIZE_OVERFLOW"


class BufferTooSmallError(Error, ValueError):
    """CLNORM_BUFFER_TOO_SMALL: a buffer is smaller than offset + extent."""

    status_name = "CLNORM_BUFFER_TOO_SMALL"


class MisalignedOffsetError(Error, ValueError):
    """CLNORM_MISALIGNED_OFFSET: a byte offset is not a multiple of 4."""

    status_name = "CLNORM_MISALIGNED_OFFSET"


class ShapeMismatchError(Error, ValueError):
    """CLNORM_SHAPE_MISMATCH: a shape does not match the layer."""

    status_name = "CLNORM_SHAPE_MISMATCH"


class NoStatisticsError(Error, ValueError):
    """CLNORM_NO_STATISTICS: RevIN output (or its statistics) before any RevIN input forward."""

    status_name = "CLNORM_NO_STATISTICS"


class TooLargeError(Error, ValueError):
    """CLNORM_TOO_LARGE: the tensor exceeds the device's limits."""

    status_name = "CLNORM_TOO_LARGE"


class NoDeviceError(Error):
    """CLNORM_NO_DEVICE: no OpenCL device matches."""

    status_name = "CLNORM_NO_DEVICE"


class BuildFailedError(Error):
    """CLNORM_BUILD_FAILED: building the kernels failed."""

    status_name = "CLNORM_BUILD_FAILED"


class OpenCLError(Error):
    """CLNORM_OPENCL_ERROR: an OpenCL call failed."""

    status_name = "CLNORM_OPENCL_ERROR"


class OutOfMemoryError(Error, MemoryError):
    """CLNORM_OUT_OF_MEMORY: out of host memory."""

    status_name = "CLNORM_OUT_OF_MEMORY"


class BlasError(Error):
    """CLNORM_BLAS_ERROR: a CLBlast call failed (the matrix products)."""

    status_name = "CLNORM_BLAS_ERROR"


_BY_STATUS = {STATUS[c.status_name[len("CLNORM_") :]]: c for c in Error.__subclasses__()}


def error_for(status, message, status_name=None, cl_error=0):
    """The Error (its subclass for the status) for a non-zero clnorm_status."""
    cls = _BY_STATUS.get(status, Error)
    if cls is Error and status_name is None:
        status_name = f"CLNORM_UNKNOWN({status})"
    return cls(message, status=status, status_name=status_name, cl_error=cl_error)


def check(status, lib, ctx_handle, what):
    """Raise the Error for `status` unless it is CLNORM_OK, with the context's
    detail (clnorm_errmsg) or, when the context has none, the status message."""
    if status == 0:
        return
    detail = lib.clnorm_errmsg(ctx_handle) if ctx_handle else None
    detail = detail.decode(errors="replace") if detail else ""
    if not detail:
        detail = (lib.clnorm_status_message(status) or b"").decode(errors="replace")
    name = (lib.clnorm_status_name(status) or b"").decode()
    cl_error = lib.clnorm_last_cl_error(ctx_handle) if ctx_handle else 0
    raise error_for(status, f"{what}: {detail}", status_name=name or None, cl_error=cl_error)
