"""Worker pools for the samplers: `--pool processes` (multiprocessing) and `--pool mpi` (mpi4py).

MPI usage: `mpiexec -n N darkportal run RUN.yaml --pool mpi`.  All N ranks enter `make_pool("mpi")`;
rank 0 drives the sampler and the other N - 1 ranks serve likelihood evaluations through
`mpi4py.futures.MPICommExecutor` until rank 0 leaves the `with` block.  On worker ranks the handle has
`is_master = False`, and the caller must skip the sampling and result writing:

    with make_pool(kind) as pool:
        if not pool.is_master:
            return 0
        run_sampler(..., pool=pool)

Everything sent through `map` must be picklable (see `inference.samplers.problem`).
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import numpy as np

from inference.errors import DarkportalError

log = logging.getLogger(__name__)

POOL_KINDS = ("processes", "mpi")


class PoolError(DarkportalError, RuntimeError):
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
        log.info("process pool: %d process%s compute (this one and %d worker%s)", n, "es" if n > 1 else "", n - 1,
                 "" if n == 2 else "s")
        pipe_pool = PipePool(n)
        try:
            yield PoolHandle("processes", n, pipe_pool.map)
        finally:
            pipe_pool.close()
    elif kind == "mpi":
        with _mpi_pool() as handle:
            yield handle
    else:
        raise PoolError(f"unknown pool kind {kind!r}; choose one of {', '.join(POOL_KINDS)} or none")


class PipePool:
    """``size`` processes map a function over a list: the calling process and ``size - 1`` workers.

    One duplex pipe per worker, no broker threads: ``map`` splits the items into ``size`` contiguous chunks,
    sends each worker ``(fn, chunk)`` pickled once, computes the first chunk itself, then reads the results in
    order (so results never depend on timing). ``multiprocessing.Pool`` costs ~0.5 ms of thread hand-offs per
    ``map``, more than one of dynesty's random walks on this model's compiled likelihood (benchmarks/README.md).
    A worker's exception is raised in the caller; a worker that dies raises :class:`PoolError`. Workers
    ignore SIGINT (Ctrl-C reaches the caller, which stops them).
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise PoolError(f"a process pool needs at least 1 process, got {size}")
        self.size = size
        ctx = multiprocessing.get_context()
        self._workers: list[tuple[Any, Any]] = []
        for _ in range(size - 1):
            parent, child = ctx.Pipe(duplex=True)
            proc = ctx.Process(target=_pipe_worker, args=(child,), daemon=True)
            proc.start()
            child.close()
            self._workers.append((proc, parent))

    def map(self, fn: Callable[[Any], Any], iterable: Iterable[Any]) -> list[Any]:
        items = list(iterable)
        bounds = np.linspace(0, len(items), self.size + 1).round().astype(int).tolist()
        chunks = [items[a:b] for a, b in itertools.pairwise(bounds)]
        sent = []
        for (proc, conn), chunk in zip(self._workers, chunks[1:], strict=True):
            if chunk:
                conn.send_bytes(pickle.dumps((fn, chunk), protocol=pickle.HIGHEST_PROTOCOL))
                sent.append((proc, conn))
        try:
            out = [fn(item) for item in chunks[0]]
        finally:  # read every worker's answer, so that the pipes stay in step even if fn raised here
            answers = [self._receive(proc, conn) for proc, conn in sent]
        for ok, value in answers:
            if not ok:
                raise value
            out.extend(value)
        return out

    @staticmethod
    def _receive(proc: Any, conn: Any) -> tuple[bool, Any]:
        try:
            return cast(tuple[bool, Any], pickle.loads(conn.recv_bytes()))
        except (EOFError, OSError) as exc:
            proc.join(timeout=1.0)
            raise PoolError(f"worker process {proc.pid} died (exit code {proc.exitcode})") from exc

    def close(self) -> None:
        for _, conn in self._workers:
            try:
                conn.send_bytes(b"")
            except OSError:
                pass
        for proc, conn in self._workers:
            proc.join(timeout=5.0)
            if proc.is_alive():
                proc.terminate()
                proc.join()
            conn.close()
        self._workers = []


def _pipe_worker(conn: Any) -> None:
    """Loop of a PipePool worker: (fn, chunk) in, (True, results) or (False, exception) out; b"" stops it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            blob = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if not blob:
            return
        try:
            fn, chunk = pickle.loads(blob)
            answer: tuple[bool, Any] = (True, [fn(item) for item in chunk])
        except Exception as exc:
            answer = (False, exc)
        try:
            payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an exception or result that does not pickle
            payload = pickle.dumps((False, RuntimeError(f"worker could not send its answer: {exc!r}")))
        conn.send_bytes(payload)


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
