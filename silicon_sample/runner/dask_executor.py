"""Answering a run's pending cells on a Dask cluster; the driver alone writes the run store.

``silicon-sample run STUDY --executor dask [--scheduler ADDRESS]`` (``executor: dask`` in the study, or
``ss.run(..., executor="dask")``) sends the pending cells to Dask workers in *shards* of whole personas
(every cell of a persona for one model, so a conversation or a battery never straddles two workers) and
stores each shard's answers as it comes back, in the driver process: the run store, its lock and its
sessions stay where they are for the local executor.

**Workers.** Each worker builds a model's backend once, on the first shard it answers, and keeps it for the
rest of the run (the embedded model is loaded once per worker, not per shard); a lock makes the tasks of a
worker with several threads take the backend in turn. The embedded model's llama.cpp threads are the worker's
Dask threads (``n_threads`` in the study overrides it): on a ``LocalCluster`` — started when no scheduler is
given — one single-threaded worker per usable core, so llama.cpp never runs more threads than the cores it
was given (threads that share a core stall each other: on 2 cores one competing busy process cut the
two-thread pilot from 14.8 to 4.5 items/s). Answers do not depend on the thread count (llama.cpp gives the
same logits), so a Dask run equals a single-process run with the same seed, cell for cell (tested).

**Failures.** A worker that dies mid-shard (killed, out of memory, its node lost) is replaced, and Dask
runs the shard again elsewhere; its answers reach the driver once. Should a shard still be answered twice,
the run store keeps the first answer of each cell and counts the second in the session's
``duplicates_refused`` (:meth:`~silicon_sample.store.run_store.RunStore.record_many`). Ctrl-C cancels the
shards not yet answered; ``resume`` (with either executor) answers what is left.

The study, with its population data, is sent to every worker once (``Client.scatter(broadcast=True)``): no
shared file system is needed.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator

from ..answers import Answer
from ..backends.base import Backend
from ..backends.response_cache import CachedBackend, ResponseCache
from ..design.study import ModelSpec, Study
from ..errors import BackendError
from ..store.run_store import RunStore
from .plan import ModelPlan

PERSONAS_PER_SHARD = 2
"""Personas per shard: small enough that a lost worker costs little and the shards spread over the workers,
large enough that a shard's round trip is small beside its answers (25 items take the embedded model about
2 s per persona)."""

_BACKENDS: dict[str, tuple[Backend, threading.Lock]] = {}
_BUILDING = threading.Lock()


def worker_threads() -> int:
    """The threads (cores) this Dask worker was given, or the CPUs this process may use outside a worker."""
    try:
        from distributed import get_worker

        return max(1, int(get_worker().state.nthreads))
    except (ImportError, ValueError, AttributeError):
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _worker_backend(model: ModelSpec, factory: Callable[[ModelSpec], Backend] | None, fresh: bool
                    ) -> tuple[Backend, threading.Lock]:
    """This worker's backend of ``model``, built on its first shard (with llama.cpp threads = the worker's)."""
    key = model.model_dump_json()
    with _BUILDING:
        if key not in _BACKENDS:
            if factory is None:
                from .. import backends

                options = dict(model.options)
                threads = backends.entry(model.backend).threads_option
                if threads and threads not in options:
                    options[threads] = worker_threads()
                backend = backends.create(model.backend, model.model, options)
            else:
                backend = factory(model)
            if backend.cacheable:
                backend = CachedBackend(backend, ResponseCache(), fresh=fresh)
            _BACKENDS[key] = (backend, threading.Lock())
        return _BACKENDS[key]


def answer_shard(study: Study, model: ModelSpec, cells: list[dict], stored: dict[str, dict],
                 factory: Callable[[ModelSpec], Backend] | None = None, fresh: bool = False) -> list[Answer]:
    """Run on a worker: the answers to one shard's pending ``cells`` (with their ``persona_text``), in their
    instrument's presentation (:class:`~.plan.ModelPlan`); ``stored`` holds the answers an earlier session
    stored for these personas (a conversation's earlier turns)."""
    backend, lock = _worker_backend(model, factory, fresh)
    with lock:
        plan = ModelPlan(study, model, backend, threading.Event(), lambda: iter(cells),
                         lambda ids: {i: stored[i] for i in ids if i in stored})
        answers = []
        for requests in plan.streams():
            for answer in backend.answer(requests):
                kept = plan.deliver(answer)
                if kept is not None:
                    answers.append(kept)
    return answers


def shards(store: RunStore, model_id: str, personas_per_shard: int = PERSONAS_PER_SHARD
           ) -> Iterator[tuple[list[str], list[dict]]]:
    """(persona ids, their pending cells in run order) of one model, ``personas_per_shard`` personas at a time,
    read from the store a chunk at a time."""
    personas: list[str] = []
    cells: list[dict] = []
    for cell in store.iter_pending(model_id):
        if not personas or cell["persona_id"] != personas[-1]:
            if len(personas) == personas_per_shard:
                yield personas, cells
                personas, cells = [], []
            personas.append(cell["persona_id"])
        cells.append(cell)
    if cells:
        yield personas, cells


def start_client(scheduler: str | None):
    """A client of the scheduler at ``scheduler``, or of a new ``LocalCluster`` with one single-threaded worker
    per usable core (returned too, to be closed); the scheduler must be reachable, or a clear error."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as exc:
            raise BackendError(f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__}: {exc})",
                               where="--scheduler", fix="start the scheduler (dask scheduler) and its workers, "
                                                        "or leave --scheduler out for a local cluster") from None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cluster = LocalCluster(n_workers=cores, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=40)
    return Client(cluster), cluster


def answer_on_cluster(store: RunStore, study: Study, session: int, client, *, fresh: bool = False,
                      factory: Callable[[ModelSpec], Backend] | None = None,
                      personas_per_shard: int = PERSONAS_PER_SHARD, on_answers=None) -> tuple[int, float]:
    """Send every pending cell of the run to the cluster of ``client`` in shards, storing each shard's answers
    as it arrives (``on_answers(model_id, answers)`` after each); at most two shards per worker thread are in
    flight, so the driver's memory does not grow with the run. Returns the answers stored and the seconds
    from the first shard sent to the last answer stored."""
    from distributed import as_completed

    scattered = client.scatter(study, broadcast=True)
    threads = sum(client.nthreads().values()) or 1
    window = 2 * threads
    stored_count = 0
    started = time.perf_counter()
    for model in study.models:
        futures = as_completed()
        in_flight = 0

        def store_one(future, model_id: str = model.id) -> int:
            answers = future.result()
            refused = store.record_many(answers, session)
            if on_answers is not None:
                on_answers(model_id, answers)
            return len(answers) - refused

        try:
            for personas, cells in shards(store, model.id, personas_per_shard):
                earlier = store.answered_cells(model.id, personas)
                futures.add(client.submit(answer_shard, scattered, model, cells, earlier, factory, fresh,
                                          pure=False, key=f"shard-{model.id}-{personas[0]}-{time.monotonic_ns()}"))
                in_flight += 1
                while in_flight >= window:
                    stored_count += store_one(next(futures))
                    in_flight -= 1
            for future in futures:
                stored_count += store_one(future)
        except BaseException:
            client.cancel(list(futures.futures))
            raise
    return stored_count, time.perf_counter() - started


__all__ = ["PERSONAS_PER_SHARD", "answer_on_cluster", "answer_shard", "shards", "start_client", "worker_threads"]
