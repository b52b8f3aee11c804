# SPDX-License-Identifier: Apache-2.0
"""_opencl.py: the few OpenCL calls of the NumPy path, through the ICD loader.

The NumPy path needs a device buffer, a write, a read and events, and nothing
else; calling the loader directly keeps pyopencl optional for it. The loader
is the one libclnorm links (loading it again returns the same handle).
"""
import ctypes
import ctypes.util
import sys
import threading
from ctypes import POINTER, c_size_t, c_uint64, c_void_p

from . import errors

cl_int = ctypes.c_int32
cl_uint = ctypes.c_uint32
CL_MEM_READ_WRITE = 1 << 0

# The codes a caller may meet here, by name (the rest by number).
_CL_ERRORS = {
    -4: "CL_MEM_OBJECT_ALLOCATION_FAILURE",
    -5: "CL_OUT_OF_RESOURCES",
    -6: "CL_OUT_OF_HOST_MEMORY",
    -14: "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
    -30: "CL_INVALID_VALUE",
    -34: "CL_INVALID_CONTEXT",
    -36: "CL_INVALID_COMMAND_QUEUE",
    -38: "CL_INVALID_MEM_OBJECT",
    -57: "CL_INVALID_EVENT_WAIT_LIST",
    -58: "CL_INVALID_EVENT",
    -61: "CL_INVALID_BUFFER_SIZE",
}

_lock = threading.Lock()
_cl = None


def _loader():
    global _cl
    with _lock:
        if _cl is None:
            if sys.platform == "darwin":
                name = "/System/Library/Frameworks/OpenCL.framework/OpenCL"
            elif sys.platform == "win32":
                name = "OpenCL.dll"
            else:
                name = ctypes.util.find_library("OpenCL") or "libOpenCL.so.1"
            try:
                cl = ctypes.CDLL(name)
            except OSError:
                cl = ctypes.CDLL("libOpenCL.so.1")
            ev_p = POINTER(c_void_p)
            cl.clCreateBuffer.restype = c_void_p
            cl.clCreateBuffer.argtypes = [c_void_p, c_uint64, c_size_t, c_void_p, POINTER(cl_int)]
            cl.clReleaseMemObject.restype = cl_int
            cl.clReleaseMemObject.argtypes = [c_void_p]
            for fn in (cl.clEnqueueWriteBuffer, cl.clEnqueueReadBuffer):
                fn.restype = cl_int
                fn.argtypes = [c_void_p, c_void_p, cl_uint, c_size_t, c_size_t, c_void_p, cl_uint,
                               ev_p, ev_p]
            cl.clWaitForEvents.restype = cl_int
            cl.clWaitForEvents.argtypes = [cl_uint, ev_p]
            cl.clReleaseEvent.restype = cl_int
            cl.clReleaseEvent.argtypes = [c_void_p]
            _cl = cl
        return _cl


def _fail(call, code):
    name = _CL_ERRORS.get(code, "OpenCL error")
    return errors.OpenCLError(f"{call} failed: {name} ({code})", cl_error=code)


def event_list(events):
    """A ctypes array of cl_event handles (ints), and its length."""
    n = len(events)
    return n, ((c_void_p * n)(*events) if n else None)


def release_events(events):
    cl = _loader()
    for e in events:
        if e:
            cl.clReleaseEvent(e)


def wait(events):
    events = [e for e in events if e]
    if events:
        n, arr = event_list(events)
        code = _loader().clWaitForEvents(n, arr)
        if code:
            raise _fail("clWaitForEvents", code)


def write(queue, mem, host, wait_for=()):
    """Enqueue a non-blocking write of the C-contiguous array `host` to the start
    of `mem`; returns the event (the caller keeps `host` alive until it completes)."""
    ev = c_void_p()
    n, arr = event_list(list(wait_for))
    code = _loader().clEnqueueWriteBuffer(queue, mem, 0, 0, host.nbytes, host.ctypes.data, n, arr,
                                          ctypes.byref(ev))
    if code:
        raise _fail(f"clEnqueueWriteBuffer({host.nbytes} bytes)", code)
    return ev.value


def read(queue, mem, host, wait_for=()):
    """Blocking read of the start of `mem` into the C-contiguous array `host`."""
    n, arr = event_list(list(wait_for))
    code = _loader().clEnqueueReadBuffer(queue, mem, 1, 0, host.nbytes, host.ctypes.data, n, arr,
                                         None)
    if code:
        raise _fail(f"clEnqueueReadBuffer({host.nbytes} bytes)", code)


class Scratch:
    """One device buffer that grows to the largest size asked of it: the
    NumPy path's input and output (forwards run in place in it)."""

    def __init__(self, cl_context):
        self._context = cl_context
        self.mem = None
        self.size = 0

    def reserve(self, nbytes):
        """The buffer, at least `nbytes` long (reallocated only to grow)."""
        if nbytes > self.size:
            self.release()
            code = cl_int(0)
            mem = _loader().clCreateBuffer(self._context, CL_MEM_READ_WRITE, nbytes, None,
                                           ctypes.byref(code))
            if code.value or not mem:
                raise _fail(f"clCreateBuffer({nbytes} bytes)", code.value)
            self.mem, self.size = mem, nbytes
        return self.mem

    def release(self):
        if self.mem:
            _loader().clReleaseMemObject(self.mem)
        self.mem, self.size = None, 0

    def __del__(self):
        try:
            self.release()
        except Exception:  # interpreter shutdown: the loader may be gone already
            pass
