# SPDX-License-Identifier: Apache-2.0
"""_capi.py: include/clnorm.h in ctypes: the parameter structs and every prototype.

The structs mirror the header field for field (order and types): they are the
ABI, so python/tests/test_capi.py checks them, and every prototype, against the
header. OpenCL handles are opaque pointers (c_void_p); enums are C ints.
"""
import ctypes
from ctypes import POINTER, c_char_p, c_double, c_float, c_int, c_size_t, c_uint, c_uint64, c_void_p

status_t = c_int  # enum clnorm_status
cl_int = ctypes.c_int32
cl_uint = ctypes.c_uint32
handle_t = c_void_p  # any opaque clnorm_* or cl_* pointer
event_p = POINTER(c_void_p)  # cl_event * (the event out) and const cl_event * (the wait list)
floats_p = POINTER(c_float)


def _bits(count):
    """The values of a flags enum of `count` members: 1 << 0 first."""
    return [1 << i for i in range(count)]


# Flags and kinds, as in the header and in its order: its flags are the bits
# 1 << 0, 1 << 1, ... and its kinds count from 0.
CONTEXT_NO_FP64, CONTEXT_NO_CACHE, CONTEXT_GPU_VARIANT, CONTEXT_CPU_VARIANT, CONTEXT_FP64 = _bits(5)
REVIN_TRANSPOSED, REVIN_AFFINE, REVIN_SUBTRACT_LAST = _bits(3)
NO_AFFINE, AFFINE, NOT_SCALAR, NO_BIAS, TRANSPOSED = _bits(5)
(CONDITIONAL_VARIANCE, CONDITIONAL_INSTANCE, CONDITIONAL_BATCH, CONDITIONAL_NONE,
 CONDITIONAL_INSTANCE_PLUS) = range(5)
NORMALIZATION_KINDS = {"layer": 0, "instance": 1, "batch": 2, "group": 3, "none": 4}
TS_METHODS = {"mean": 0, "last": 1}
LINEAR_LAST, LINEAR_TRANSPOSED, LINEAR_TIME = range(3)
LINEAR_INDIVIDUAL = 1 << 0
RLINEAR_INDIVIDUAL, RLINEAR_NO_REV = _bits(2)


def _params_struct(name, c_name, *arrays):
    """A clnorm_*_params struct: every one is its float arrays (weights,
    statistics, in the header's order), then the version counter."""
    fields = [(array, floats_p) for array in arrays] + [("version", c_uint64)]
    return type(name, (ctypes.Structure,),
                {"__doc__": f"{c_name}.", "__module__": __name__, "_fields_": fields})


VarNorm2dParams = _params_struct("VarNorm2dParams", "clnorm_varnorm2d_params", "alpha")
RevinParams = _params_struct("RevinParams", "clnorm_revin_params", "weight", "bias")
AffineParams = _params_struct("AffineParams", "clnorm_affine_params", "weight", "bias")
ConditionalParams = _params_struct("ConditionalParams", "clnorm_conditional_params",
                                   "embed", "running_mean", "running_var")
NormalizationParams = _params_struct("NormalizationParams", "clnorm_normalization_params",
                                     "weight", "bias", "running_mean", "running_var")
PlusParams = _params_struct("PlusParams", "clnorm_plus_params", "alpha", "gamma", "beta")
LinearParams = _params_struct("LinearParams", "clnorm_linear_params", "weight", "bias")
RlinearParams = _params_struct("RlinearParams", "clnorm_rlinear_params",
                               "weight", "bias", "affine_weight", "affine_bias")


def _forward_tail():
    """What every forward takes after its shape: input, output, wait list, event."""
    return [handle_t, c_size_t, handle_t, c_size_t, cl_uint, event_p, event_p]


def _layer(prefix, create_args, forward_args, params_t, upload_count=True):
    """The _create, _destroy, _forward and _upload_count of one layer."""
    protos = {
        f"{prefix}_create": (status_t, [handle_t] + create_args + [POINTER(handle_t)]),
        f"{prefix}_destroy": (None, [handle_t]),
        f"{prefix}_forward": (
            status_t,
            [handle_t] + ([POINTER(params_t)] if params_t else []) + forward_args + _forward_tail(),
        ),
    }
    if params_t and upload_count:
        protos[f"{prefix}_upload_count"] = (c_uint64, [handle_t])
    return protos


PROTOTYPES = {
    "clnorm_version_number": (c_uint, []),
    "clnorm_version_string": (c_char_p, []),
    "clnorm_status_name": (c_char_p, [status_t]),
    "clnorm_status_message": (c_char_p, [status_t]),
    "clnorm_context_create": (status_t, [c_char_p, c_uint, POINTER(handle_t)]),
    "clnorm_context_wrap": (status_t, [handle_t, handle_t, handle_t, c_uint, POINTER(handle_t)]),
    "clnorm_context_prepare": (status_t, [handle_t]),
    "clnorm_context_destroy": (None, [handle_t]),
    "clnorm_errmsg": (c_char_p, [handle_t]),
    "clnorm_last_cl_error": (cl_int, [handle_t]),
    "clnorm_device_count": (status_t, [POINTER(c_size_t)]),
    "clnorm_device_get": (
        status_t,
        [c_size_t, POINTER(handle_t), POINTER(c_uint), POINTER(c_uint), POINTER(c_int),
         POINTER(c_int)],
    ),
    "clnorm_context_cl_context": (handle_t, [handle_t]),
    "clnorm_context_device": (handle_t, [handle_t]),
    "clnorm_context_queue": (handle_t, [handle_t]),
    "clnorm_context_device_description": (c_char_p, [handle_t]),
    "clnorm_context_uses_fp64": (c_int, [handle_t]),
    "clnorm_context_program_counts": (None, [handle_t, POINTER(c_uint), POINTER(c_uint)]),
    # RevIN: forward and inverse share a signature; statistics in and out.
    "clnorm_revin_inverse": (
        status_t,
        [handle_t, POINTER(RevinParams), c_size_t, c_size_t] + _forward_tail(),
    ),
    "clnorm_revin_read_stats": (status_t, [handle_t, floats_p, floats_p, c_size_t]),
    "clnorm_revin_set_stats": (status_t, [handle_t, c_size_t, floats_p, floats_p]),
    # The forecasting RevIN: a clnorm_revin made with eps (RTSF, PatchTST).
    "clnorm_revin_forecast_create": (
        status_t, [handle_t, c_size_t, c_double, c_uint, POINTER(handle_t)]
    ),
    "clnorm_blas_clear_cache": (status_t, []),
    "clnorm_conditional_norm2d_label_errors": (status_t, [handle_t, POINTER(c_int)]),
    # TSNormalization: the inverse and the scale in and out.
    "clnorm_ts_norm_inverse": (status_t, [handle_t, c_size_t, c_size_t] + _forward_tail()),
    "clnorm_ts_norm_read_scale": (status_t, [handle_t, floats_p, c_size_t]),
    "clnorm_ts_norm_set_scale": (status_t, [handle_t, c_size_t, floats_p]),
}
PROTOTYPES.update(_layer("clnorm_varnorm2d", [c_size_t], [c_size_t] * 4, VarNorm2dParams))
PROTOTYPES.update(_layer("clnorm_revin", [c_size_t, c_uint], [c_size_t] * 2, RevinParams))
PROTOTYPES.update(
    _layer("clnorm_layer_norm", [c_size_t, c_double, c_uint], [c_size_t], AffineParams)
)
PROTOTYPES.update(
    _layer("clnorm_instance_norm2d", [c_size_t, c_double, c_uint], [c_size_t] * 4, AffineParams)
)
PROTOTYPES.update(_layer("clnorm_none_norm2d", [c_uint], [c_size_t], None))
PROTOTYPES.update(_layer("clnorm_transposed_ln", [c_size_t, c_uint], [c_size_t] * 2, AffineParams))
PROTOTYPES.update(
    _layer("clnorm_group_norm", [c_size_t, c_size_t, c_double, c_uint], [c_size_t] * 2,
           AffineParams)
)
PROTOTYPES.update(
    _layer("clnorm_normalization", [c_size_t, c_int, c_uint], [c_size_t] * 2, NormalizationParams)
)
PROTOTYPES.update(_layer("clnorm_ts_norm", [c_size_t, c_int, c_size_t], [c_size_t] * 2, None))
PROTOTYPES.update(
    _layer("clnorm_instance_norm2d_plus", [c_size_t, c_uint], [c_size_t] * 4, PlusParams)
)
PROTOTYPES.update(
    _layer(
        "clnorm_conditional_norm2d",
        [c_int, c_size_t, c_size_t, c_uint],
        [handle_t, c_size_t] + [c_size_t] * 4,  # labels, labels_offset, n, c, h, w
        ConditionalParams,
    )
)

# The products: form (clnorm_linear_form), in_features, out_features, channels,
# flags; forward sizes batch and length. RLinear: l, h, d, flags; forward b.
PROTOTYPES.update(
    _layer("clnorm_linear", [c_int, c_size_t, c_size_t, c_size_t, c_uint], [c_size_t] * 2,
           LinearParams)
)
PROTOTYPES.update(
    _layer("clnorm_rlinear", [c_size_t] * 3 + [c_uint], [c_size_t], RlinearParams)
)


def declare(lib):
    """Set restype and argtypes of every function on the CDLL `lib`.

    Raises AttributeError when the library lacks one (an older build)."""
    for name, (restype, argtypes) in PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
