"""Worker pools for the samplers: `--pool processes` (multiprocessing) and `--pool mpi` (mpi4py).

MPI usage: `mpiexec -n N darkportal run RUN.yaml --pool mpi`.  All N ranks enter `make_pool("mpi")`;
rank 0 drives the sampler and the other N - 1 ranks serve likelihood evaluations through
`mpi4py.futures.MPICommExecutor` until rank 0 leaves the `with` block.  On worker ranks the handle has
`is_master = False`, and the caller must skip the sampling and result writing:

    with make_pool(kind) as pool:
        if not pool.is_master:
            return 0
        run_sampler(..., pool=pool)

Everything sent through `map` must be picklable (see `inference.problem`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import numpy as np

log = logging.getLogger(__name__)

POOL_KINDS = ("processes", "mpi")


class PoolError(RuntimeError):
    """The requested pool cannot be created (unknown kind, mpi4py missing, ...)."""


class PoolHandle:
    """A pool-like object: `map`, `size` (number of workers) and `is_master`.

    dynesty reads `size` to choose its queue size; `map` always returns a list.
    """

    def __init__(self, kind: str | None, size: int, mapper: Callable[..., Iterable[Any]] | None,
                 is_master: bool = True) -> None:
        self.kind = kind
        self.size = size
        self.is_master = is_master
        self._mapper = mapper

    def map(self, fn: Callable[[Any], Any], iterable: Iterable[Any]) -> list[Any]:
        if self._mapper is None:
            return [fn(item) for item in iterable]
        return list(self._mapper(fn, iterable))

    def __repr__(self) -> str:
        return f"PoolHandle(kind={self.kind!r}, size={self.size}, is_master={self.is_master})"


def map_chunked(pool: PoolHandle | None, fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Apply a vectorised (N, d) -> (N,) function to `x`, split into one chunk per worker."""
    if pool is None or pool.kind is None or len(x) == 0:
        return np.asarray(fn(x), dtype=float)
    chunks = [c for c in np.array_split(x, max(1, min(pool.size, len(x)))) if len(c)]
    return np.concatenate([np.asarray(r, dtype=float) for r in pool.map(fn, chunks)])


class ChunkedFunction:
    """Vectorised function whose batches are split across a pool (used for emcee's log-probability)."""

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray], pool: PoolHandle | None) -> None:
        self.fn = fn
        self.pool = pool

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return map_chunked(self.pool, self.fn, x)


@contextmanager
def make_pool(kind: str | None, nprocs: int | None = None) -> Iterator[PoolHandle]:
    """Context manager yielding a `PoolHandle`.

    kind None: serial, size 1.  "processes": a multiprocessing pool of `nprocs` workers (default: the
    CPU count).  "mpi": an `MPICommExecutor` over COMM_WORLD (nprocs is ignored; the size is set by
    `mpiexec -n`).
    """
    if kind is None or kind == "none":
        yield PoolHandle(None, 1, None)
    elif kind == "processes":
        n = nprocs or os.cpu_count() or 1
        log.info("starting a pool of %d worker processes", n)
        with multiprocessing.get_context().Pool(n) as mp_pool:
            yield PoolHandle("processes", n, mp_pool.map)
    elif kind == "mpi":
        with _mpi_pool() as handle:
            yield handle
    else:
        raise PoolError(f"unknown pool kind {kind!r}; choose one of {', '.join(POOL_KINDS)} or none")


@contextmanager
def _mpi_pool() -> Iterator[PoolHandle]:
    try:
        from mpi4py import MPI
        from mpi4py.futures import MPICommExecutor
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise PoolError("--pool mpi needs mpi4py: install the extra with pip install -e '.[mpi]'") from exc
    comm = MPI.COMM_WORLD
    nworkers = comm.Get_size() - 1
    if nworkers < 1:
        log.warning("--pool mpi with a single MPI rank: running serially (start with mpiexec -n N)")
        yield PoolHandle("mpi", 1, None)
        return
    with MPICommExecutor(comm, root=0) as executor:
        if executor is None:
            yield PoolHandle("mpi", nworkers, None, is_master=False)
        else:
            log.info("MPI pool with %d worker ranks", nworkers)
            yield PoolHandle("mpi", nworkers, cast(Any, executor).map)
