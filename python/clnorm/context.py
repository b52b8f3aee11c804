# SPDX-License-Identifier: Apache-2.0
"""context.py: clnorm.Context, a device with its queue and compiled kernels.

Layers (clnorm.nn) are made on a context; without one they use
``default_context()``, made on first use from ``$CLNORM_DEVICE`` (else the
first GPU, accelerator, CPU), exactly as clnorm_context_create(NULL).
"""
import ctypes
import threading
import weakref

from . import _capi, _library, errors


def _flags(fp64, cache, variant, accumulate):
    if accumulate not in (None, "auto", "fp64", "float-float"):
        raise errors.InvalidArgumentError(
            f"accumulate must be None, 'auto', 'fp64' or 'float-float', not {accumulate!r}"
        )
    if not fp64 and accumulate not in (None, "float-float"):
        raise errors.InvalidArgumentError(f"fp64=False contradicts accumulate={accumulate!r}")
    if not fp64 or accumulate == "float-float":
        flags = _capi.CONTEXT_NO_FP64
    else:
        flags = _capi.CONTEXT_FP64 if accumulate == "fp64" else 0
    if not cache:
        flags |= _capi.CONTEXT_NO_CACHE
    if variant == "gpu":
        flags |= _capi.CONTEXT_GPU_VARIANT
    elif variant == "cpu":
        flags |= _capi.CONTEXT_CPU_VARIANT
    elif variant is not None:
        raise errors.InvalidArgumentError(f"variant must be None, 'gpu' or 'cpu', not {variant!r}")
    return flags


def _made(lib, status, handle, what):
    """Raise for a failed create/wrap, destroying the error-only context."""
    if status:
        try:
            errors.check(status, lib, handle, what)
        finally:
            lib.clnorm_context_destroy(handle)


class Context:
    """A clnorm context: an OpenCL device, its command queue and the kernels.

    ``Context(device=None)`` picks the device as the C API does: ``"gpu"``,
    ``"cpu"``, ``"accelerator"``, ``"P:D"`` (platform and device index) or a
    case-insensitive part of a device or platform name; None reads
    ``$CLNORM_DEVICE``, else takes the first GPU, accelerator, then CPU.
    ``Context.wrap(queue)`` runs on a pyopencl queue (and its context) instead.

    Keyword options (the context flags): ``accumulate="fp64"`` or
    ``"float-float"`` chooses the statistics' accumulator (None or ``"auto"``:
    ``$CLNORM_ACCUMULATE``, else fp64 where the device runs it fast;
    ``fp64=False`` is ``accumulate="float-float"``), ``cache=False`` skips the
    program-binary cache, ``variant="gpu"`` or ``"cpu"`` forces a kernel shape.
    Raises NoDeviceError (with the list of devices there are) when nothing
    matches, InvalidArgumentError for fp64 on a device without it.

    Threads: as clnorm_context_*: layers of one context may be made and run
    from several threads, each layer from one thread at a time.
    """

    def __init__(self, device=None, *, fp64=True, cache=True, variant=None, accumulate=None):
        if device is not None and not isinstance(device, str):
            raise errors.InvalidArgumentError(f"device must be a str or None, not {device!r}")
        flags = _flags(fp64, cache, variant, accumulate)
        lib = _library.lib()
        handle = _capi.handle_t()
        spec = device.encode() if device else None
        status = lib.clnorm_context_create(spec, flags, ctypes.byref(handle))
        _made(lib, status, handle, f"Context({device!r})")
        self._init(lib, handle.value, None)

    @classmethod
    def wrap(cls, queue, *, fp64=True, cache=True, variant=None, accumulate=None):
        """A context on a pyopencl CommandQueue (its context and device): layers
        made on it enqueue on `queue`, and take and return pyopencl arrays of
        its context without copies. clnorm retains the queue, context and
        device, and releases only its own references."""
        for attr in ("int_ptr", "context", "device"):
            if not hasattr(queue, attr):
                raise errors.InvalidArgumentError(
                    f"Context.wrap takes a pyopencl.CommandQueue, not {type(queue).__name__}"
                )
        flags = _flags(fp64, cache, variant, accumulate)
        lib = _library.lib()
        handle = _capi.handle_t()
        status = lib.clnorm_context_wrap(
            queue.context.int_ptr, queue.device.int_ptr, queue.int_ptr, flags, ctypes.byref(handle)
        )
        _made(lib, status, handle, "Context.wrap")
        self = cls.__new__(cls)
        self._init(lib, handle.value, queue)
        return self

    def _init(self, lib, handle, queue):
        self._lib = lib
        self._handle = handle
        self._queue = queue  # the pyopencl queue: the caller's, or made on demand
        self._layers = weakref.WeakSet()
        self._finalizer = weakref.finalize(self, lib.clnorm_context_destroy, handle)

    @property
    def handle(self):
        """The clnorm_context pointer (an int), for ctypes callers."""
        if not self._finalizer.alive:
            raise errors.InvalidArgumentError("this clnorm.Context is closed")
        return self._handle

    @property
    def device_description(self):
        """"device name (platform name, driver version)"."""
        return self._lib.clnorm_context_device_description(self.handle).decode(errors="replace")

    @property
    def uses_fp64(self):
        """True when the kernels accumulate in fp64 (else in float-float)."""
        return bool(self._lib.clnorm_context_uses_fp64(self.handle))

    @property
    def cl_context(self):
        """The cl_context handle (an int; borrowed)."""
        return self._lib.clnorm_context_cl_context(self.handle)

    @property
    def cl_queue(self):
        """The cl_command_queue every forward enqueues on (an int; borrowed)."""
        return self._lib.clnorm_context_queue(self.handle)

    @property
    def queue(self):
        """That queue as a pyopencl.CommandQueue (needs pyopencl): the wrapped
        queue, or a new reference to the context's own."""
        if self._queue is None:
            import pyopencl

            self._queue = pyopencl.CommandQueue.from_int_ptr(self.cl_queue, retain=True)
        return self._queue

    def program_counts(self):
        """(built from source, loaded from the cache) so far."""
        built, cached = ctypes.c_uint(), ctypes.c_uint()
        self._lib.clnorm_context_program_counts(self.handle, ctypes.byref(built),
                                                ctypes.byref(cached))
        return built.value, cached.value

    def prepare(self):
        """Compile (or load from the cache) every kernel now rather than at the
        first forward. Optional."""
        errors.check(self._lib.clnorm_context_prepare(self.handle), self._lib, self.handle,
                     "Context.prepare")

    def close(self):
        """Destroy the layers made on this context, then the context. Enqueued
        work is not waited for. Closing twice is fine; using a closed layer
        raises InvalidArgumentError."""
        for layer in list(self._layers):
            layer.close()
        self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        if not self._finalizer.alive:
            return "<clnorm.Context (closed)>"
        return f"<clnorm.Context {self.device_description}>"


_default = None
_default_lock = threading.Lock()


def default_context():
    """The context that layers made without ``context=`` use (one per process,
    made on first use with ``Context()``)."""
    global _default
    with _default_lock:
        if _default is None or not _default._finalizer.alive:
            _default = Context()
        return _default
