# SPDX-License-Identifier: Apache-2.0
"""_library.py: find and load libclnorm, once, with every prototype declared.

Where it looks, in order (the first that loads wins):

1. ``$CLNORM_LIBRARY``: the path of the shared library. When it is set, nothing
   else is tried, so a wrong path is an error rather than a silent fallback.
2. A CMake build tree: ``build/`` and ``build-*/`` of the checkout this package
   is imported from (``PYTHONPATH=python``), and the directory above the
   virtual environment when the environment lives in a build tree (what
   ``tools/scripts/dev.sh test`` makes: ``build/venv``).
3. An installed prefix: ``<sys.prefix>/lib`` (``cmake --install build --prefix
   "$VIRTUAL_ENV"``), the dynamic loader's own search (``LD_LIBRARY_PATH``, the
   ldconfig cache) and the usual library directories.
"""
import ctypes
import ctypes.util
import os
import sys
import threading

from . import _capi

#: The soname of the ABI this package speaks (CLNORM_VERSION_MAJOR 0).
SONAME = "libclnorm.so.0"
_NAMES = (SONAME, "libclnorm.so", "libclnorm.0.dylib", "libclnorm.dylib", "clnorm.dll")


class LibraryNotFoundError(OSError):
    """libclnorm could not be found or loaded; the message says where it looked."""


_lock = threading.Lock()
_loaded = None  # (CDLL, path)


def _build_trees():
    """Build directories that may hold the library, nearest first."""
    here = os.path.dirname(os.path.abspath(__file__))
    checkout = os.path.dirname(os.path.dirname(here))  # python/clnorm -> the repository
    trees = []
    if os.path.isfile(os.path.join(checkout, "CMakeLists.txt")):
        build = os.path.join(checkout, "build")
        others = sorted(
            os.path.join(checkout, d) for d in os.listdir(checkout) if d.startswith("build-")
        )
        trees += [build] + others
    # A virtual environment made inside a build tree (dev.sh: build/venv).
    above_env = os.path.dirname(os.path.abspath(sys.prefix))
    if os.path.isfile(os.path.join(above_env, "CMakeCache.txt")):
        trees.append(above_env)
    return trees


def _prefix_dirs():
    dirs = [os.path.join(sys.prefix, "lib")]
    for prefix in ("/usr/local", "/usr"):
        dirs += [os.path.join(prefix, "lib"), os.path.join(prefix, "lib64")]
        dirs.append(os.path.join(prefix, "lib", "x86_64-linux-gnu"))
        dirs.append(os.path.join(prefix, "lib", "aarch64-linux-gnu"))
    return dirs


def _candidates():
    """(description, path or bare name) pairs, in search order."""
    out = []
    for tree in _build_trees():
        out += [("build tree", os.path.join(tree, n)) for n in _NAMES]
    out += [("prefix", os.path.join(sys.prefix, "lib", n)) for n in _NAMES]
    out.append(("dynamic loader", SONAME))
    found = ctypes.util.find_library("clnorm")
    if found:
        out.append(("ldconfig", found))
    for d in _prefix_dirs()[1:]:
        out += [("prefix", os.path.join(d, n)) for n in _NAMES]
    return out


def _open(path):
    lib = ctypes.CDLL(path)
    _capi.declare(lib)
    return lib


def find():
    """Load libclnorm (once) and return ``(CDLL, path)``.

    Raises LibraryNotFoundError naming every place it looked.
    """
    global _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        explicit = os.environ.get("CLNORM_LIBRARY")
        if explicit:
            try:
                _loaded = (_open(explicit), explicit)
            except (OSError, AttributeError) as e:
                raise LibraryNotFoundError(
                    f"CLNORM_LIBRARY={explicit} could not be loaded: {e}"
                ) from None
            return _loaded
        tried = []
        for where, path in _candidates():
            if os.sep in path and not os.path.exists(path):
                tried.append(path)
                continue
            try:
                _loaded = (_open(path), path)
                return _loaded
            except AttributeError as e:  # an older library without a symbol
                tried.append(f"{path} ({where}: {e})")
            except OSError:
                tried.append(f"{path} ({where})")
        raise LibraryNotFoundError(
            "libclnorm not found. Build it (cmake -S . -B build && cmake --build build) and "
            "set CLNORM_LIBRARY=/path/to/libclnorm.so, or install it (cmake --install build). "
            "Looked in: " + ", ".join(dict.fromkeys(tried))
        )


def lib():
    """The loaded library (see find)."""
    return find()[0]


def path():
    """The file the library was loaded from (see find)."""
    return find()[1]
