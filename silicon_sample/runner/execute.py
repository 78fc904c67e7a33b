"""Running a study: create the run, send every pending cell to its backend, store each answer.

:func:`start_run` validates everything (study, files, models) before it
creates the run directory, so a bad input leaves nothing behind.
:func:`resume_run` finishes an interrupted run from the run's own copies of
its inputs, sending only the cells that have no response yet; because every
cell has its own derived seed, the result equals that of an uninterrupted run.
"""

from __future__ import annotations

import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import backends
from ..backends.base import Backend, check_reachable
from ..backends.response_cache import CachedBackend, ResponseCache
from ..design.cells import count_cells, draw_personas, empty_groups, iter_cells, iter_variants, shown_instrument
from ..design.study import ModelSpec, Study, load_study, read_study_text
from ..errors import BackendError, RunStoreError, SiliconSampleError, SpecError
from ..specs.yaml_files import load_spec
from ..store.run_store import RESOLVED_STUDY, RunStore
from .batch_journal import StoreBatchJournal
from .manifest import build_manifest, environment
from .plan import ModelPlan, store_plan


@dataclass
class Progress:
    """Passed to the progress callback after each stored answer."""

    model_id: str
    done: int
    total: int
    elapsed_s: float
    last_status: str
    prompt_tokens: int | None = None        # of the answer just stored (the cost so far adds them up)
    completion_tokens: int | None = None


ProgressCallback = Callable[[Progress], None]


def resolved_spec(study: Study) -> dict:
    """The study spec pointing at the run's copies of its inputs (read by resume)."""
    spec = dict(study.spec)
    spec["population"] = {**spec["population"], "name": f"population/{study.population.path.name}", "n": study.n}
    if study.selection is not None:    # a catalogue: its selection, with n only as the number of regular personas
        spec["population"].pop("n")
        spec["population"].update(study.selection)
    spec.pop("baseline", None)  # its population and instrument are copied below; the baseline is in the manifest
    spec.pop("persona_template", None)
    spec["persona_styles"] = [f"persona_templates/{t.path.name}" for t in study.persona_templates]
    if study.names is not None:
        spec["name_cues"] = f"name_cues/{study.names.path.name}"
    if study.weighting is not None:
        spec["population"]["weighting"] = {**spec["population"]["weighting"],
                                           "target": f"weighting_target/{study.weighting.target.path.name}"}
    spec["prompt_layout"] = f"prompt_layout/{study.prompt_layout.path.name}"
    spec["instruments"] = [f"instruments/{i.path.name}" for i in study.instruments]
    return spec


BackendFactory = Callable[[ModelSpec], Backend]
"""Makes the backend of one model of a study (see :mod:`silicon_sample.backends.base`)."""


def create_backend(model: ModelSpec) -> Backend:
    """The default :data:`BackendFactory`: :func:`silicon_sample.backends.create` from the model's fields."""
    return backends.create(model.backend, model.model, model.options)


def check_scales(study: Study, model: ModelSpec, backend: Backend) -> None:
    """Can this backend read answers on every response scale of the study in the model's mode (before anything
    is written: a distribution-mode option code that is not one token fails here, not in the middle of a run)."""
    prefill = study.prompt_layout.distribution_prefill if model.answer_mode == "distribution" else None
    for instrument in study.instruments:
        shown = [shown_instrument(study, instrument.id, p) for p in study.perturbations]
        scales = dict.fromkeys(tuple(i.scale_of(item).values) for i in shown for item in i.coded_items)
        questions = dict.fromkeys(q for item in instrument.items if (q := instrument.question_of(item)) is not None)
        try:
            backend.check_presentation(study.presentation(instrument).mode, model.answer_mode)
            for options in scales:
                backend.check_scale(options, model.answer_mode, prefill)
            for question in questions:
                backend.check_question(question, model.answer_mode)
        except BackendError as exc:
            raise BackendError(exc.what, where=f"model {model.id}, instrument {instrument.id}",
                               fix=exc.fix) from None


def preflight(study: Study, backend_factory: BackendFactory | None = None) -> None:
    """Everything about a study's models that can be checked without a call: options in range (made by
    the backend factory) and every scale readable (:func:`check_scales`). Used by validate and dry runs."""
    for model in study.models:
        with (backend_factory or create_backend)(model) as backend:
            check_scales(study, model, backend)


def open_backends(study: Study, fresh: bool = False, backend_factory: BackendFactory | None = None
                  ) -> dict[str, Backend]:
    """Create each model's backend and check that it can make calls and read every scale; backends that call
    a server are wrapped by the response cache."""
    opened: dict[str, Backend] = {}
    cache = None
    try:
        for model in study.models:
            backend = (backend_factory or create_backend)(model)
            if backend.cacheable:
                cache = cache or ResponseCache()
                backend = CachedBackend(backend, cache, fresh=fresh)
            opened[model.id] = backend
            check_scales(study, model, backend)
            backend.check_ready()
    except BaseException:
        for backend in opened.values():
            backend.close()
        raise
    return opened


@dataclass(frozen=True)
class Executor:
    """Where the cells are answered: ``local`` (this process) or ``dask`` (a Dask cluster: the scheduler at
    ``scheduler``, or a ``LocalCluster`` of one single-threaded worker per core; see
    :mod:`.dask_executor`)."""

    name: str = "local"
    scheduler: str | None = None
    personas_per_shard: int | None = None

    def describe(self) -> dict:
        return {"executor": self.name, **({"scheduler": self.scheduler or "LocalCluster (one worker per core)"}
                                          if self.name == "dask" else {})}


EXECUTORS = ("local", "dask")


def executor_of(study: Study, executor: str | None = None, scheduler: str | None = None) -> Executor:
    """The executor a run uses: the command line's (``executor``, ``scheduler``) over the study's ``executor:``."""
    spec = study.spec.get("executor", "local")
    spec = {"name": spec} if isinstance(spec, str) else dict(spec)
    name = executor or spec.get("name", "local")
    if name not in EXECUTORS:
        raise SpecError(f"unknown executor {name!r}", where="--executor", fix=f"use one of: {', '.join(EXECUTORS)}")
    if scheduler and name != "dask":
        raise SpecError("--scheduler is the address of a Dask scheduler: it needs --executor dask",
                        where="--scheduler", fix="add --executor dask, or leave --scheduler out")
    return Executor(name, scheduler or spec.get("scheduler"), spec.get("personas_per_shard"))


def start_run(study_path: str | Path, out: str | Path, *, n: int | None = None, command: str = "run",
              progress: ProgressCallback | None = None, fresh: bool = False,
              backend_factory: BackendFactory | None = None, executor: str | None = None,
              scheduler: str | None = None) -> RunStore:
    """Create a run of ``study_path`` in ``out`` and run it to the end.

    ``fresh`` bypasses the response cache; ``backend_factory`` makes each model's backend (default
    :func:`create_backend`); ``executor`` (``local`` or ``dask``) and ``scheduler`` (a Dask scheduler's
    address) say where the cells are answered (default: the study's ``executor:``, else this process).
    """
    out = Path(out)
    RunStore.refuse_existing(out)        # before drawing personas and loading models
    study = load_study(study_path, n=n)
    where = executor_of(study, executor, scheduler)
    personas, weights = draw_personas(study)
    if where.scheduler:          # before the run folder is made
        check_reachable([where.scheduler.replace("tcp://", "http://", 1)], where="--scheduler")
    opened = open_backends(study, fresh=fresh, backend_factory=backend_factory)
    try:
        models = {m.id: {**m.model_dump(), **opened[m.id].describe()} for m in study.models}
        manifest = build_manifest(study, models, n_personas=len(personas),
                                  n_cells=count_cells(study, len(personas)), weights=weights,
                                  sampling_warnings=empty_groups(study, personas))
        store = RunStore.create(out, study_text=read_study_text(Path(study_path)), resolved_spec=resolved_spec(study),
                                inputs=study.input_files(), manifest=manifest, personas=personas,
                                variants=iter_variants(study, personas), cells=iter_cells(study, personas))
        _dispatch(store, study, opened, command, progress, where, fresh, backend_factory)
    finally:
        for backend in opened.values():
            backend.close()
    return store


def _dispatch(store: RunStore, study: Study, opened: dict[str, Backend], command: str,
              progress: ProgressCallback | None, where: Executor, fresh: bool,
              backend_factory: BackendFactory | None) -> None:
    if where.name == "local":
        _execute(store, study, opened, command, progress)
        return
    for backend in opened.values():     # checked and described here; the workers build their own
        backend.close()
    _execute_on_cluster(store, study, command, progress, where, fresh, backend_factory)


def load_run_study(store: RunStore) -> Study:
    """The study of a run, loaded from the run's own copies of its inputs."""
    path = store.dir / RESOLVED_STUDY
    return load_study(path, data=load_spec(path, "study"), base_dir=path.parent)


def resume_run(run_dir: str | Path, *, command: str = "resume", progress: ProgressCallback | None = None,
               fresh: bool = False, backend_factory: BackendFactory | None = None, executor: str | None = None,
               scheduler: str | None = None) -> RunStore:
    """Answer the cells of an existing run that have no response yet (same arguments as :func:`start_run`)."""
    store = RunStore.open(run_dir)
    study = load_run_study(store)
    where = executor_of(study, executor, scheduler)
    if where.scheduler:
        check_reachable([where.scheduler.replace("tcp://", "http://", 1)], where="--scheduler")
    if not store.count_pending():
        _write_outputs(store)
        return store
    opened = open_backends(study, fresh=fresh, backend_factory=backend_factory)
    try:
        recorded = store.manifest().get("models", {})
        for model_id, backend in opened.items():
            sha_then = recorded.get(model_id, {}).get("model_sha256")
            sha_now = backend.describe().get("model_sha256")
            if sha_then and sha_now and sha_then != sha_now:
                raise RunStoreError(
                    f"model {model_id!r} is not the file this run started with (SHA-256 {sha_now[:12]} "
                    f"now, {sha_then[:12]} then)", where=str(store.dir),
                    fix="install the model file the run started with, or start a new run")
        _dispatch(store, study, opened, command, progress, where, fresh, backend_factory)
    finally:
        for backend in opened.values():
            backend.close()
    return store


GRACE_SECONDS = 10.0
"""After Ctrl-C: how long the calls already in flight may take to come back (and be stored)."""
_FINISHED = object()


def _lanes(opened: dict[str, Backend]) -> list[list[str]]:
    """Models that answer at the same time: each server-calling model on its own; in-process models (they
    share this machine's cores) one after another in one lane."""
    local = [m for m, b in opened.items() if not b.cacheable]
    return ([local] if local else []) + [[m] for m, b in opened.items() if b.cacheable]


def _answer_lane(lane: list[str], work: dict[str, ModelPlan], answers: queue.Queue) -> None:
    try:
        for model_id in lane:
            plan = work[model_id]
            for requests in plan.streams():
                for answer in plan.backend.answer(requests):
                    kept = plan.deliver(answer)
                    if kept is None:
                        plan.backend.stored([answer])     # stored by an earlier session: its slot is free
                    else:
                        answers.put((model_id, kept))
    except BaseException as exc:  # handed to the main thread, which raises it
        answers.put((lane[0], exc))
    finally:
        answers.put((lane[0], _FINISHED))


def _execute(store: RunStore, study: Study, opened: dict[str, Backend], command: str,
             progress: ProgressCallback | None) -> None:
    """Answer every pending cell: one stream of calls per model across personas, the models at the same time
    (:func:`_lanes`), each answer stored as it arrives (answers that arrive together share a commit)."""
    with store.lock():
        session = store.begin_session(command, {**environment(), "executor": "local"})
        outcome, facts = "interrupted", {}
        stop = threading.Event()
        answers: queue.Queue = queue.Queue()
        journals: list[StoreBatchJournal] = []
        try:
            models = {m.id: m for m in study.models}
            work, totals = {}, {}
            for model_id, backend in opened.items():
                backend.wait_for_storage()
                if backend.journaled:
                    journals.append(StoreBatchJournal(store.dir, model_id))
                    backend.attach_journal(journals[-1])
                totals[model_id] = store.count_pending(model_id)
                work[model_id] = store_plan(study, models[model_id], store, backend, stop)
            lanes = [threading.Thread(target=_answer_lane, args=(lane, work, answers), daemon=True,
                                      name=f"answers-{lane[0]}") for lane in _lanes(opened)]
            for thread in lanes:
                thread.start()
            try:
                _store_answers(store, session, answers, len(lanes), totals, opened, progress)
            except KeyboardInterrupt:
                stop.set()      # no new calls; those in flight come back and are stored, briefly
                for backend in opened.values():
                    backend.stop_waiting()
                out = _store_answers(store, session, answers, sum(t.is_alive() for t in lanes), totals, opened, None,
                                     deadline=time.monotonic() + GRACE_SECONDS)
                facts["stopped"] = ("every call in flight came back and was stored" if not out else
                                    f"{out} lane(s) of calls still out when the {GRACE_SECONDS:.0f} s grace ended "
                                    "(their cells stay pending)")
                raise
            outcome = "completed"
        finally:
            stop.set()
            _end_session(store, session, outcome, **facts)
            for journal in journals:
                journal.close()
    _write_outputs(store)


def _execute_on_cluster(store: RunStore, study: Study, command: str, progress: ProgressCallback | None,
                        where: Executor, fresh: bool, backend_factory: BackendFactory | None) -> None:
    """Answer every pending cell on a Dask cluster (:mod:`.dask_executor`), the answers stored here."""
    from .dask_executor import PERSONAS_PER_SHARD, answer_on_cluster, start_client

    with store.lock():
        client, cluster = start_client(where.scheduler)
        try:
            workers = client.nthreads()
            session = store.begin_session(command, {**environment(), **where.describe(), "dask_workers": len(workers),
                                                    "dask_threads": sum(workers.values())})
            outcome = "interrupted"
            totals = {m.id: store.count_pending(m.id) for m in study.models}
            done = dict.fromkeys(totals, 0)
            started = time.perf_counter()

            def on_answers(model_id: str, answers: list) -> None:
                for answer in answers:
                    done[model_id] += 1
                    if progress:
                        progress(Progress(model_id, done[model_id], totals[model_id], time.perf_counter() - started,
                                          answer.status, answer.prompt_tokens, answer.completion_tokens))
            timing = {}
            try:
                stored, seconds = answer_on_cluster(store, study, session, client, fresh=fresh,
                                                    factory=backend_factory,
                                                    personas_per_shard=where.personas_per_shard or PERSONAS_PER_SHARD,
                                                    on_answers=on_answers)
                timing = {"answers_stored_by_workers": stored, "answering_seconds": round(seconds, 3)}
                outcome = "completed"
            finally:
                _end_session(store, session, outcome, **timing)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    _write_outputs(store)


def _end_session(store: RunStore, session: int, outcome: str, **facts) -> None:
    """End the session; when the run is already failing (a full disk), a second failure to record the end is
    not allowed to hide the first (the next session closes this one as killed)."""
    failing = sys.exc_info()[1] is not None
    try:
        store.end_session(session, outcome, **facts)
    except (SiliconSampleError, sqlite3.Error):
        if not failing:
            raise


def _store_answers(store: RunStore, session: int, answers: queue.Queue, running: int, totals: dict[str, int],
                   opened: dict[str, Backend], progress: ProgressCallback | None, deadline: float | None = None
                   ) -> int:
    """Store answers until every lane has finished (or ``deadline`` passes); re-raise a lane's error. Returns
    the lanes still running (0 unless ``deadline`` passed first)."""
    done = dict.fromkeys(totals, 0)
    started = time.perf_counter()
    error: BaseException | None = None
    while running and (deadline is None or time.monotonic() < deadline):
        try:
            batch = [answers.get(timeout=0.2)]
        except queue.Empty:
            continue
        while len(batch) < 1000:
            try:
                batch.append(answers.get_nowait())
            except queue.Empty:
                break
        arrived = []
        for model_id, item in batch:
            if item is _FINISHED:
                running -= 1
            elif isinstance(item, BaseException):
                error = error or item
            else:
                arrived.append((model_id, item))
        if arrived:
            store.record_many([answer for _, answer in arrived], session)
            for model_id in {m for m, _ in arrived}:       # their calls leave the count of calls in flight
                opened[model_id].stored([a for m, a in arrived if m == model_id])
        for model_id, answer in arrived:
            done[model_id] += 1
            if progress:
                progress(Progress(model_id, done[model_id], totals[model_id], time.perf_counter() - started,
                                  answer.status, answer.prompt_tokens, answer.completion_tokens))
    if error is not None:
        raise error
    return running


def _write_outputs(store: RunStore) -> None:
    # imported here: the summary's psychometrics load scipy (about a second), which a CLI command that
    # runs nothing should not pay for
    from ..report.summary import write_outputs

    write_outputs(store)


__all__ = ["BackendFactory", "Progress", "ProgressCallback", "create_backend", "load_run_study", "resume_run",
           "start_run"]
