# SPDX-License-Identifier: Apache-2.0
"""_module.py: what every clnorm.nn class shares: the layer's lifetime, its
parameters, and the two ways to call it (NumPy and pyopencl).

A class names its C layer (the prefix of its _create/_forward/_destroy), makes
its parameter block, and says how a tensor's shape becomes the forward's size
arguments (`_sizes`); everything else is here.
"""
import ctypes
import weakref
from collections import namedtuple

import numpy as np

from .. import _arrays, _opencl, errors
from ..context import default_context

#: What load_state_dict returns, as torch's: the keys it missed and did not know.
IncompatibleKeys = namedtuple("IncompatibleKeys", "missing_keys unexpected_keys")


def _destroy(destroy_fn, handle, context):
    # `context` is here to keep the context alive until its layers are gone.
    destroy_fn(handle)


class Module:
    """A clnorm layer, called like the PyTorch module it is named after.

    ``layer(x)`` with a NumPy array (or a torch CPU tensor, or anything
    numpy.asarray takes) converts it to C-contiguous float32 (a copy only when
    it is not that already), runs on the context's queue, waits, and returns a
    new float32 NumPy array (a torch tensor for a torch tensor). ``out=`` (a
    C-contiguous float32 array of the result's shape) receives the result
    instead. The result has x's shape, but for the matrix products (Linear,
    TransposedLinear, RLinear), whose features or horizon differ.

    ``layer(x)`` with a pyopencl.array.Array runs on the device memory as it is:
    x must be float32, C-contiguous, on the layer's OpenCL context (make the
    layer with ``context=clnorm.Context.wrap(queue)``); anything else is
    refused with InvalidArgumentError, never copied. The forward is enqueued on
    the context's queue (the wrapped one) after x.events (and out.events),
    without any host wait; the result is a pyopencl array (of the result's
    shape) on x's queue whose events hold the forward's event (pyopencl owns
    it). ``out=`` (a pyopencl array; ``out=x`` runs in place, but for the
    products, whose output must not overlap x) receives the result instead of
    a new array.
    """

    _c_layer = None  # "clnorm_varnorm2d": the prefix of the C layer's functions
    _takes_params = True  # whether its forward takes a params struct (NULL without parameters)
    _c_create = None  # the create function, when not _c_layer + "_create"
    _in_place = True  # whether the forward may write over its input (never for a product)
    _out_scratch = None  # the NumPy path's output buffer, for the layers not in place

    def _make(self, context, create_args, params):
        """Create the C layer on `context` (None: the default context)."""
        self.context = context if context is not None else default_context()
        ctx = self.context
        lib = ctx._lib
        handle = ctypes.c_void_p()
        create = getattr(lib, self._c_create or self._c_layer + "_create")
        status = create(ctx.handle, *create_args, ctypes.byref(handle))
        errors.check(status, lib, ctx.handle, f"{type(self).__name__}: create")
        self._lib = lib
        self._handle = handle.value
        self._forward_fn = getattr(lib, self._c_layer + "_forward")
        self._finalizer = weakref.finalize(
            self, _destroy, getattr(lib, self._c_layer + "_destroy"), handle.value, ctx
        )
        ctx._layers.add(self)
        self._params = params
        self._scratch = None
        self._label_scratch = None

    # ---------------------------------------------------------- parameters

    def load_state_dict(self, state_dict, strict=True, prefix=""):
        """Load the parameters from a state_dict with the PyTorch module's names
        (``module.state_dict()``: torch tensors, or NumPy arrays). Values are
        converted to float32; a wrong shape is a ShapeMismatchError. `prefix`
        selects a submodule of a whole model's state_dict ("encoder.norm.");
        names outside it are skipped. With `strict`, missing or unknown names
        are an InvalidArgumentError. Returns (missing_keys, unexpected_keys)."""
        missing, unexpected = self._params.load(state_dict, strict, prefix)
        return IncompatibleKeys([prefix + k for k in missing], [prefix + k for k in unexpected])

    def state_dict(self):
        """{name: float32 NumPy copy} with the PyTorch module's names."""
        return self._params.state_dict()

    def upload_count(self):
        """How many times the layer has uploaded its parameters (a forward
        uploads them only after they changed)."""
        return int(getattr(self._lib, self._c_layer + "_upload_count")(self.handle))

    # ------------------------------------------------------------ lifetime

    @property
    def handle(self):
        """The C layer's pointer (an int), for ctypes callers."""
        if not self._finalizer.alive:
            raise errors.InvalidArgumentError(f"this {type(self).__name__} is closed")
        return self._handle

    def close(self):
        """Destroy the C layer now (else when the object is collected)."""
        self._finalizer()
        for s in (self._scratch, self._label_scratch, self._out_scratch):
            if s is not None:
                s.release()

    # --------------------------------------------------------------- calls

    def __call__(self, x, out=None):
        return self._run(x, out)

    def forward(self, x, out=None):
        """The same as calling the layer (PyTorch's spelling)."""
        return self(x, out=out)

    def _sizes(self, shape):
        """The forward's size arguments for a tensor of `shape`; raises
        ShapeMismatchError for a shape the layer cannot take."""
        raise NotImplementedError

    def _out_shape(self, shape):
        """The result's shape for an x of `shape` (already checked by _sizes):
        x's, but for the products."""
        return tuple(shape)

    def _c_args(self, sizes, labels):
        """The forward's arguments between the layer and the input buffer."""
        return ((self._params.pointer,) if self._takes_params else ()) + tuple(sizes)

    def _classes(self):
        """K, for the layers that take labels."""
        raise NotImplementedError

    def _enqueue(self, sizes, labels, src, src_off, dst, dst_off, wait):
        n, wait_list = _opencl.event_list(wait)
        event = ctypes.c_void_p()
        status = self._forward_fn(self.handle, *self._c_args(sizes, labels), src, src_off, dst,
                                  dst_off, n, wait_list, ctypes.byref(event))
        errors.check(status, self._lib, self.context.handle, f"{type(self).__name__}: forward")
        return event.value

    def _run(self, x, out=None, labels=None):
        if _arrays.is_device_array(x):
            return self._run_device(x, out, labels)
        if _arrays.is_device_array(out) or _arrays.is_device_array(labels):
            raise errors.InvalidArgumentError(
                "x is a host array but out or the labels are pyopencl arrays: pass all on the "
                "device or all on the host"
            )
        return self._run_host(x, out, labels)

    def _run_host(self, x, out, labels):
        arr, back = _arrays.host_input(x)
        sizes = self._sizes(arr.shape)
        if arr.size == 0:
            raise errors.ZeroSizeError(f"x has no elements (shape {arr.shape})")
        lab = None
        if labels is not None:
            lab = _arrays.host_labels(labels, arr.shape[0], self._classes())
        out_shape = self._out_shape(arr.shape)
        if out is None:
            result = np.empty(out_shape, dtype=np.float32)
        else:
            result = out
            if not (isinstance(out, np.ndarray) and out.dtype == np.float32
                    and out.flags.c_contiguous and out.flags.writeable
                    and out.shape == out_shape):
                whose = "x's shape" if out_shape == arr.shape else "the result's shape"
                raise errors.InvalidArgumentError(
                    f"out must be a writable C-contiguous float32 NumPy array of {whose} "
                    f"{out_shape}"
                )
        ctx = self.context
        queue = ctx.cl_queue
        if self._scratch is None:
            self._scratch = _opencl.Scratch(ctx.cl_context)
        mem = self._scratch.reserve(arr.nbytes)
        events = []
        try:
            events.append(_opencl.write(queue, mem, arr))
            label_arg = None
            if lab is not None:
                if self._label_scratch is None:
                    self._label_scratch = _opencl.Scratch(ctx.cl_context)
                label_mem = self._label_scratch.reserve(lab.nbytes)
                events.append(_opencl.write(queue, label_mem, lab))
                label_arg = (label_mem, 0)
            # In place in the scratch buffer: one buffer, one write, one read
            # (a product writes a second buffer: it never runs in place).
            dst = mem
            if not self._in_place:
                if self._out_scratch is None:
                    self._out_scratch = _opencl.Scratch(ctx.cl_context)
                dst = self._out_scratch.reserve(result.nbytes)
            done = self._enqueue(sizes, label_arg, mem, 0, dst, 0, list(events))
            events.append(done)
            _opencl.read(queue, dst, result, [done])
        except BaseException:
            # The writes may still be reading arr and lab: let them finish first.
            try:
                _opencl.wait(events)
            except errors.Error:
                pass
            raise
        finally:
            _opencl.release_events(events)
        return back(result)

    def _run_device(self, x, out, labels):
        import pyopencl
        import pyopencl.array as cla

        ctx = self.context
        cl_context = ctx.cl_context
        src = _arrays.check_device(x, cl_context, np.float32, "x")
        sizes = self._sizes(x.shape)
        wait = list(x.events)
        label_arg = None
        if labels is not None:
            label_arg, label_events = self._device_labels(labels, x, cl_context)
            wait += label_events
        out_shape = self._out_shape(x.shape)
        if out is None:
            queue = x.queue if x.queue is not None else ctx.queue
            out = cla.empty(queue, out_shape, np.float32, allocator=x.allocator)
        else:
            if not _arrays.is_device_array(out):
                raise errors.InvalidArgumentError(
                    "out must be a pyopencl array when x is one (no host copies on this path)"
                )
            _arrays.check_device(out, cl_context, np.float32, "out")
            if out.shape != out_shape:
                if out_shape == tuple(x.shape):
                    raise errors.ShapeMismatchError(f"out has shape {out.shape}, x has {x.shape}")
                raise errors.ShapeMismatchError(
                    f"out has shape {out.shape}; the result of x {x.shape} has {out_shape}"
                )
            wait += out.events
        dst = out.base_data.int_ptr
        done = self._enqueue(sizes, label_arg, src, x.offset, dst, out.offset,
                             [e.int_ptr for e in wait])
        # The forward's event is ours to release: pyopencl takes it over.
        out.add_event(pyopencl.Event.from_int_ptr(done, retain=False))
        return out

    def _device_labels(self, labels, x, cl_context):
        """((mem, offset), events) of the labels for the pyopencl path: an int32
        pyopencl array as it is, or host integers uploaded without a wait."""
        n = x.shape[0]
        if _arrays.is_device_array(labels):
            mem = _arrays.check_device(labels, cl_context, np.int32, "y")
            if labels.shape != (n,):
                raise errors.ShapeMismatchError(
                    f"y has shape {labels.shape}; one label per sample, ({n},)"
                )
            return (mem, labels.offset), list(labels.events)
        import pyopencl.array as cla

        host = _arrays.host_labels(labels, n, self._classes())
        queue = x.queue if x.queue is not None else self.context.queue
        dev = cla.to_device(queue, host, async_=True)
        # pyopencl's event keeps `host` alive until the copy is done; keeping
        # `dev` until the next call keeps that event from being waited on early.
        self._labels_in_flight = dev
        return (dev.base_data.int_ptr, dev.offset), list(dev.events)

    def __repr__(self):
        return f"clnorm.nn.{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self):
        return ""
