"""numba where it is on: :func:`jit` compiles a scalar function (``cache=True``) or leaves it plain Python;
:func:`shared` marks a physics formula written once for numpy arrays and for the compiled kernel.

``DARKPORTAL_JIT=0`` in the environment (or numba missing) turns compilation off: :data:`ENABLED` is False and
the same functions run as Python, with the same arithmetic. Every module with jitted functions calls
:func:`clear_stale_cache` at import, naming the files whose functions or constants it compiles in.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _numba_njit() -> Callable[[Any], Any] | None:
    if os.environ.get("DARKPORTAL_JIT", "1").strip().lower() in {"0", "false", "no", "off"}:
        return None
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency; this keeps a broken install usable
        return None
    return numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True)


_NJIT = _numba_njit()
ENABLED = _NJIT is not None


def clear_stale_cache(module_file: str, depends_on: Sequence[str]) -> bool:
    """Delete the numba cache of ``module_file`` when it or a file it depends on changed since it was written.

    numba invalidates a cached function only when its own source file changes, not when a jitted function it
    calls from another file, or a module-level constant it reads from another file, changes; a stale cache
    would then run old code. Call this at import of every module with ``cache=True`` functions, naming the
    files whose code or constants they compile in. Returns True if a stale cache was removed.
    """
    cache = Path(module_file).parent / "__pycache__"
    stem = Path(module_file).stem
    digest = hashlib.sha256()
    for f in (module_file, *depends_on):
        digest.update(Path(f).read_bytes())
    try:
        import numba
        digest.update(numba.__version__.encode())
    except ImportError:  # pragma: no cover
        pass
    stamp = cache / f"{stem}.jit-sources.sha256"
    try:
        if stamp.exists() and stamp.read_text() == digest.hexdigest():
            return False
        stale = [p for p in cache.glob(f"{stem}.*") if p.suffix in (".nbi", ".nbc")]
        for p in stale:
            p.unlink(missing_ok=True)
        cache.mkdir(exist_ok=True)
        tmp = stamp.with_name(f"{stamp.name}.{os.getpid()}.tmp")
        tmp.write_text(digest.hexdigest())
        os.replace(tmp, stamp)
        return bool(stale)
    except OSError:  # a read-only install: numba then caches elsewhere, and the sources do not change there
        return False


def jit[F: Callable[..., Any]](fn: F) -> F:
    """numba.njit(cache=True) where compilation is enabled, else the plain Python function."""
    return _NJIT(fn) if _NJIT is not None else fn


def shared[F: Callable[..., Any]](fn: F) -> F:
    """A physics formula written once: called from Python it is the plain function on numpy arrays (or floats);
    called from a :func:`jit` function numba compiles it there for floats (``numba.extending.register_jitable``).

    The body must therefore be arithmetic, ``np.`` ufuncs and the helpers below, with no ``np.asarray``, no
    Python branches on array values and no attribute lookups on Python objects: physical constants come in as
    module-level numbers or NamedTuples (physics.constants.VALUES), which numba freezes at compile time.
    """
    if _NJIT is None:
        return fn
    from numba.extending import register_jitable

    return register_jitable(fn)


@shared
def sqrt_pos(x: Any) -> Any:
    """sqrt(x) for x > 0, else 0 (a closed channel gives zero rate, never NaN); NaN stays NaN."""
    return np.sqrt(np.maximum(x, 0.0))


def compiled_as[F: Callable[..., Any]](scalar: Callable[..., Any]) -> Callable[[F], F]:
    """Decorator: the decorated function is the numpy form (what Python calls); inside :func:`jit` functions numba
    compiles ``scalar`` instead, a float-only form of the same quantity with the same arguments."""
    def register(fn: F) -> F:
        if _NJIT is not None:
            import functools

            from numba.extending import overload

            @functools.wraps(scalar)
            def typer(*args: Any, **kwargs: Any) -> Callable[..., Any]:
                return scalar
            overload(fn)(typer)
        return fn
    return register


def _ratio_scalar(a: Any, b: Any, default: Any) -> Any:
    return a / b if b > 0.0 else default


@compiled_as(_ratio_scalar)
def ratio(a: Any, b: Any, default: Any) -> Any:
    """a / b where b > 0, else ``default`` (a float where both are floats, else an array); a quotient that
    overflows (b subnormal) is inf without a warning."""
    if isinstance(a, float | np.floating) and isinstance(b, float | np.floating):  # one value: no array work
        with np.errstate(over="ignore", divide="ignore"):
            return np.float64(a) / b if b > 0.0 else default
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    out = np.full(np.broadcast_shapes(a_arr.shape, b_arr.shape), default, dtype=float)
    with np.errstate(over="ignore"):
        np.divide(a_arr, b_arr, out=out, where=b_arr > 0)
    return out[()] if out.ndim == 0 else out
