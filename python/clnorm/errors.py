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


# The subclass of each status but OK: its class name, the status, the
# generic exception it also is (a bad argument is a ValueError, running out of
# host memory a MemoryError) and what the status means. One table, made into
# classes below, instead of fourteen class statements that differ only there.
_SUBCLASSES = (
    ("NullArgumentError", "NULL_ARGUMENT", ValueError, "a required handle or pointer is NULL."),
    ("InvalidArgumentError", "INVALID_ARGUMENT", ValueError,
     "an argument is out of range, or of a type or dtype refused."),
    ("ZeroSizeError", "ZERO_SIZE", ValueError, "a dimension is zero."),
    ("SizeOverflowError", "SIZE_OVERFLOW", ValueError, "a size product overflows size_t."),
    ("BufferTooSmallError", "BUFFER_TOO_SMALL", ValueError,
     "a buffer is smaller than offset + extent."),
    ("MisalignedOffsetError", "MISALIGNED_OFFSET", ValueError,
     "a byte offset is not a multiple of 4."),
    ("ShapeMismatchError", "SHAPE_MISMATCH", ValueError, "a shape does not match the layer."),
    ("NoStatisticsError", "NO_STATISTICS", ValueError,
     "RevIN output (or its statistics) before any RevIN input forward."),
    ("TooLargeError", "TOO_LARGE", ValueError, "the tensor exceeds the device's limits."),
    ("NoDeviceError", "NO_DEVICE", None, "no OpenCL device matches."),
    ("BuildFailedError", "BUILD_FAILED", None, "building the kernels failed."),
    ("OpenCLError", "OPENCL_ERROR", None, "an OpenCL call failed."),
    ("OutOfMemoryError", "OUT_OF_MEMORY", MemoryError, "out of host memory."),
    ("BlasError", "BLAS_ERROR", None, "a CLBlast call failed (the matrix products)."),
)
for _name, _status, _also, _doc in _SUBCLASSES:
    globals()[_name] = type(
        _name,
        (Error, _also) if _also else (Error,),
        {"__doc__": f"CLNORM_{_status}: {_doc}", "__module__": __name__,
         "status_name": f"CLNORM_{_status}"},
    )
del _name, _status, _also, _doc

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
