"""Run many independent jobs (fine-tuning runs, zoo x target extractions) on a pool of
worker processes — local, or a Dask cluster — while one driver records the results.

Engines
    ``"local"`` (the default): a :class:`concurrent.futures.ProcessPoolExecutor` of
    ``workers`` processes on this machine (``spawn`` start method, so CUDA and torch threads
    start clean in every worker).

    ``"dask"``: a Dask distributed cluster (``pip install "tecore[dask]"``). Without
    ``address``, a ``LocalCluster`` of ``workers`` single-threaded worker processes;
    with ``address="tcp://scheduler:8786"``, the running cluster behind that scheduler;
    ``address`` may also be a ready ``distributed.Client`` or a cluster object (e.g.
    ``dask_jobqueue.SLURMCluster``). See the README section "Fine-tuning grids on a cluster".

    ``"inline"``: in this process, one job after the other (debugging; what
    :func:`tecore.finetune.run_grid` does without ``engine``).

Guarantees
    * One writer. Jobs return their result row to the driver; only the driver calls
      ``on_result`` (which appends it atomically to the results CSV). A worker never writes
      the CSV, so two writers never race and a killed worker cannot leave a half-written row.
    * A killed worker's job is retried. Local engine: when a worker process dies
      (``BrokenProcessPool``), the pool is rebuilt and every job that was not finished is
      submitted again; each job that was in flight is charged one attempt. Dask: the
      scheduler re-runs the tasks of a lost worker elsewhere (``allowed_failures`` =
      ``retries``). A job that keeps killing its worker more than ``retries`` times fails the
      whole call with a :class:`RuntimeError` naming it, after the other jobs finished.
    * Exceptions raised *by* a job (bad configuration, diverging code) are not retried: they
      are reported with the job's key.

Jobs are ``(key, fn, args, kwargs)``; ``fn`` must be importable (a module-level function)
or picklable with cloudpickle (lambdas and closures are, when cloudpickle is installed).
"""
from __future__ import annotations

import os
import pickle
import sys
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Hashable, Iterable

__all__ = ["ENGINES", "Job", "run_jobs", "dask_client"]

ENGINES = ("local", "dask", "inline")
Job = tuple  # (key, fn, args, kwargs)


def _dumps(obj) -> bytes:
    try:
        import cloudpickle
    except ImportError:  # plain pickle: fn must be importable
        return pickle.dumps(obj)
    return cloudpickle.dumps(obj)


def _call_pickled(blob: bytes):
    """Worker side of the local engine: unpickle ``(fn, args, kwargs)`` and call it, with
    single-threaded BLAS/torch unless the caller set threads explicitly."""
    fn, args, kwargs = pickle.loads(blob)
    return fn(*args, **kwargs)


def _worker_init(threads: int) -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    if "torch" in sys.modules:  # pragma: no cover - spawn workers start without torch
        sys.modules["torch"].set_num_threads(threads)


def _check(engine: str, workers, retries) -> int:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    if workers is None:
        workers = max(1, min(4, os.cpu_count() or 1))
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a non-negative integer, got {retries!r}")
    return workers


def _job_error(key, exc: BaseException) -> Exception:
    return RuntimeError(f"job {key!r} failed: {type(exc).__name__}: {exc}")


def run_jobs(jobs: Iterable[Job], on_result: Callable[[Hashable, Any], None], *, engine: str = "local",
             workers: int | None = None, address=None, retries: int = 2, threads_per_worker: int = 1,
             progress: bool = True, desc: str = "jobs") -> int:
    """Run ``jobs`` and call ``on_result(key, result)`` in this process as each finishes.

    Parameters
    ----------
    jobs : iterable of ``(key, fn, args, kwargs)``; keys must be unique.
    on_result : called by the driver only, once per finished job, in completion order.
    engine : ``"local"`` (default), ``"dask"`` or ``"inline"`` (see the module docstring).
    workers : worker processes (local pool / Dask LocalCluster); default min(4, CPUs).
    address : Dask only: scheduler address, ``distributed.Client`` or cluster object.
    retries : how many times a job whose worker died is run again.
    threads_per_worker : BLAS / torch threads per worker (local engine and LocalCluster).

    Returns the number of jobs run. Raises RuntimeError naming the first job that failed.
    """
    jobs = list(jobs)
    workers = _check(engine, workers, retries)
    keys = [j[0] for j in jobs]
    if len(set(keys)) != len(keys):
        raise ValueError("job keys must be unique")
    if not jobs:
        return 0
    from tecore._progress import progress_bar

    bar = progress_bar(total=len(jobs), disable=not progress, desc=desc, unit="job")
    try:
        if engine == "inline":
            for key, fn, args, kwargs in jobs:
                try:
                    res = fn(*args, **kwargs)
                except Exception as exc:  # noqa: BLE001 - reported with the key
                    raise _job_error(key, exc) from exc
                on_result(key, res)
                bar.update(1)
        elif engine == "local":
            _run_local(jobs, on_result, workers, retries, threads_per_worker, bar)
        else:
            _run_dask(jobs, on_result, workers, address, retries, threads_per_worker, bar)
    finally:
        bar.close()
    return len(jobs)


def _new_pool(n: int, threads: int) -> ProcessPoolExecutor:
    import multiprocessing as mp

    return ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"), initializer=_worker_init,
                               initargs=(threads,))


def _run_local(jobs, on_result, workers, retries, threads, bar) -> None:
    """The local engine. Jobs share one pool of ``workers`` processes. When a worker dies,
    the pool breaks and every unfinished job fails with it; the jobs that were with a worker
    then become *suspects* and run once more each in a pool of its own, so that a death is
    charged to the job that caused it, never to the innocent jobs beside it."""
    todo = {key: _dumps((fn, args, kwargs)) for key, fn, args, kwargs in jobs}
    attempts = {key: 0 for key in todo}
    suspects: set = set()
    errors: list[Exception] = []

    def finish(key, fut) -> bool:
        """Record a finished future; False when its pool broke (the job must run again)."""
        try:
            res = fut.result()
        except BrokenProcessPool:
            return False
        except Exception as exc:  # noqa: BLE001 - the job raised: reported, not retried
            errors.append(_job_error(key, exc))
        else:
            on_result(key, res)
        todo.pop(key, None)
        suspects.discard(key)
        bar.update(1)
        return True

    while todo:
        if suspects:  # each suspect alone in its own pool, up to `workers` at a time
            batch = [k for k in todo if k in suspects][:workers]
            pools = {k: _new_pool(1, threads) for k in batch}
            try:
                futs = {pools[k].submit(_call_pickled, todo[k]): k for k in batch}
                wait(futs)
                for f, key in futs.items():
                    if not finish(key, f):
                        attempts[key] += 1
                        if attempts[key] > retries:
                            errors.append(RuntimeError(
                                f"job {key!r}: its worker process died {attempts[key]} times (retries={retries}); "
                                "it may run out of memory or crash the interpreter"))
                            todo.pop(key)
                            suspects.discard(key)
                            bar.update(1)
            finally:
                for p in pools.values():
                    p.shutdown(wait=True, cancel_futures=True)
            continue
        pool = _new_pool(min(workers, len(todo)), threads)
        futs = {pool.submit(_call_pickled, blob): key for key, blob in todo.items()}
        pending, running = set(futs), set()
        try:
            while pending:
                # the jobs with a worker right now: the suspects if the pool breaks
                running = {futs[f] for f in pending if f.running()} or running
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                broken = [futs[f] for f in done if not finish(futs[f], f)]
                if broken:
                    suspects = (running & set(todo)) or set(todo)
                    break
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    if errors:
        raise errors[0]


def dask_client(address=None, *, workers: int = 2, threads_per_worker: int = 1, retries: int = 2):
    """A ``distributed.Client``: to ``address`` (scheduler address string, cluster object or
    ready client), or to a new ``LocalCluster`` of ``workers`` processes. Returns
    ``(client, owned)``; ``owned`` says whether the caller must close it."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("engine='dask' needs Dask distributed: pip install 'tecore[dask]'") from None
    if address is None:
        threads = {v: str(threads_per_worker) for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
        # the scheduler reads allowed-failures when it starts; a remote cluster keeps its own setting
        with dask.config.set({"distributed.scheduler.allowed-failures": int(retries)}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=threads_per_worker, processes=True,
                                   dashboard_address=None, env=threads)
        return Client(cluster), True
    if isinstance(address, Client):
        return address, False
    return Client(address), True


def _run_dask(jobs, on_result, workers, address, retries, threads, bar) -> None:
    from distributed import as_completed

    client, owned = dask_client(address, workers=workers, threads_per_worker=threads, retries=retries)
    first_error: Exception | None = None
    try:
        tag = uuid.uuid4().hex[:12]
        futs = {client.submit(fn, *args, key=f"tecore-{tag}-{i}", pure=False, **kwargs): key
                for i, (key, fn, args, kwargs) in enumerate(jobs)}
        for f in as_completed(list(futs)):
            key = futs[f]
            try:
                res = f.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker or the job's own error
                first_error = first_error or _job_error(key, exc)
                bar.update(1)
                continue
            on_result(key, res)
            bar.update(1)
    finally:
        if owned:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None and address is None:
                cluster.close()
    if first_error is not None:
        raise first_error
