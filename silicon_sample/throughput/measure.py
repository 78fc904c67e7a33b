"""``silicon-sample bench``: our throughput beside the ceiling measured in the same process, on this machine.

Hosted (OpenAI-compatible) calls, against :class:`~.loopback.LoopbackServer` answering every call after a
fixed delay, in a process of its own (:class:`~.loopback.LoopbackProcess`), as a real server is:

- **ceiling** — a bare ``AsyncOpenAI`` loop with a semaphore of ``concurrency`` sending the very calls the
  run sends in ``distribution`` mode (the study's messages, one token, log-probabilities): what the client
  library and this machine allow;
- **ours** — a bfi25 study of enough personas run by the runner at the same concurrency, in
  ``distribution`` and in ``sample`` mode; its rate counts the answers stored per second from the first
  call to the last answer stored (setting the run up and writing its summary are not counted);
- ``hosted_ratio`` = ours / ceiling, and ``hosted_max_in_flight``, the most calls the server held at once.

Embedded model: items per second of a bfi25 study in ``distribution`` and ``sample`` mode (the answering
only), and the **limit**: the forward-pass rate of llama.cpp on this machine (tokens per second,
evaluating prompt-sized batches) divided by the tokens evaluated per answer (the item's own tokens plus its
share of the persona prefix, which the backend evaluates once per persona). Beside it, a 0–100 feeling
thermometer (the ANES replica's items) in distribution mode, where every allowed value is scored as its
tokens: its items per second and its limit, the forward-pass rate over the prompt tokens per item plus one
token per node of the values' trie (``thermometer_ratio_to_limit``; each trie node is one token evaluated
alone, slower per token than a prompt batch, so this limit is not reached).

Shared machine: the embedded model's distribution rate again while one other process keeps a core busy
(a busy loop in a subprocess), with the thread count the backend chooses then
(:func:`~silicon_sample.backends.embedded.choose_threads`), as a share of the solo rate
(``shared_ratio``).

Design: with ``design``, the run store of a bfi25 study of 10,000 and of 100,000 personas written in a
process each (:func:`design_memory`): seconds and peak memory; cells are streamed, so ten times the cells
should cost far less than ten times the memory (``design_peak_rss_ratio`` beside ``design_cells_ratio``).

Dask: with ``dask``, the same bfi25 study answered on a ``LocalCluster`` of one single-threaded worker per
core (:mod:`silicon_sample.runner.dask_executor`), beside its ceiling: as many times the
single-thread rate of the embedded model in this process as there are workers (``dask_ratio``), and the
rate per worker a cluster recipe can plan with (``dask_answers_per_s_per_worker``). A first run loads the
model on every worker; the second is timed from its first shard sent to its last answer stored.

Memory: the peak resident set size (``peak_rss_mb``, from ``resource.getrusage``; Linux reports
kilobytes), and with ``memory_calls`` the resident memory at 10 % and at 100 % of a run of that many
calls.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..answers import written_answer
from ..backends import create
from ..design.cells import (
    build_cells,
    build_request,
    count_cells,
    draw_personas,
    iter_cells,
    iter_variants,
    render_personas,
)
from ..design.study import load_study
from ..runner.execute import start_run
from ..store.run_store import RunStore
from .bench_study import bench_study
from .loopback import MODEL, LoopbackProcess


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Resident memory now (Linux: VmRSS of /proc/self/status); the peak so far where that is unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


# -- hosted ------------------------------------------------------------------------------------------
def bare_loop_rate(url: str, messages: list[list[dict]], concurrency: int) -> float:
    """Calls per second of a bare AsyncOpenAI loop with a semaphore (the ceiling), sending the same
    distribution-mode calls as the run: these messages, one token, 20 log-probabilities."""
    import openai

    from ..backends.openai_compatible import pooled_client

    async def run() -> float:
        async with openai.AsyncOpenAI(base_url=url, api_key="not-needed", max_retries=0,
                                      http_client=pooled_client(openai, concurrency)) as client:
            semaphore = asyncio.Semaphore(concurrency)

            async def one(i: int, chat: list[dict]) -> None:
                async with semaphore:
                    await client.chat.completions.create(model=MODEL, messages=chat, max_tokens=1, logprobs=True,
                                                         top_logprobs=20, temperature=0.7, seed=i)

            started = time.perf_counter()
            await asyncio.gather(*(one(i, chat) for i, chat in enumerate(messages)))
            return len(messages) / (time.perf_counter() - started)

    return asyncio.run(run())


def study_requests(folder: Path, personas: int, model: dict) -> list:
    """The request of every cell of a bfi25 study of ``personas`` with this one model (what a run sends)."""
    study = load_study(bench_study(folder, personas, [model]))
    people, _ = draw_personas(study)
    texts = {(v["persona_id"], v["persona_style"], v["cue_type"]): v["persona_text"]
             for v in render_personas(study, people).to_dict(orient="records")}
    return [build_request(study, study.models[0], c, texts[(c["persona_id"], c["persona_style"], c["cue_type"])])
            for c in build_cells(study, people).to_dict(orient="records")]


def study_messages(personas: int, folder: Path) -> list[list[dict]]:
    """The chat messages of every cell of a bfi25 study of ``personas`` (what the run sends)."""
    requests = study_requests(folder, personas, {"id": "loopback", "backend": "openai", "model": MODEL,
                                                 "answer_mode": "distribution", "temperature": 0.7})
    return [[m.model_dump() for m in r.messages] for r in requests]


def run_rate(url: str, personas: int, concurrency: int, mode: str, folder: Path) -> dict:
    """Answers stored per second by a run of ``personas`` × bfi25 against ``url``."""
    study = bench_study(folder, personas, [{"id": "loopback", "backend": "openai", "model": MODEL, "answer_mode": mode,
                                       "temperature": 0.7, "options": {"base_url": url, "concurrency": concurrency}}])
    stamps: list[float] = []
    rss: list[float] = []

    def progress(p) -> None:
        stamps.append(p.elapsed_s)
        if p.done in (max(1, p.total // 10), p.total):
            rss.append(rss_mb())

    store = start_run(study, folder / "run", progress=progress, fresh=True)
    counts = store.status_counts()
    store.close()
    return {"calls_per_s": len(stamps) / stamps[-1], "answered": int(counts["answered"].sum()),
            "calls": len(stamps), "rss_mb_at_10_and_100_percent": rss}


def hosted(delay: float, concurrency: int, personas: int, folder: Path) -> dict:
    with LoopbackProcess(delay) as server:
        ceiling = bare_loop_rate(server.url, study_messages(personas, folder / "ceiling"), concurrency)
        server.reset_counts()
        ours = {mode: run_rate(server.url, personas, concurrency, mode, folder / f"{mode}-{concurrency}")
                for mode in ("distribution", "sample")}
        max_in_flight = server.max_concurrent
    return {"delay_s": delay, "concurrency": concurrency, "ideal_calls_per_s": concurrency / delay,
            "ceiling_calls_per_s": ceiling,
            "distribution_calls_per_s": ours["distribution"]["calls_per_s"],
            "sample_calls_per_s": ours["sample"]["calls_per_s"],
            "ratio_distribution": ours["distribution"]["calls_per_s"] / ceiling,
            "ratio_sample": ours["sample"]["calls_per_s"] / ceiling,
            "max_in_flight": max_in_flight, "calls": ours["distribution"]["calls"],
            "rss_mb": ours["distribution"]["rss_mb_at_10_and_100_percent"]}


# -- embedded ----------------------------------------------------------------------------------------
def embedded(personas: int, folder: Path) -> dict:
    """Items per second of the embedded model in both modes, and the forward-pass limit (distribution mode:
    the better of two runs, the forward pass: the best of five rounds, so both are read at the machine's best)."""
    backend = create("embedded")
    try:
        out = {}
        for mode in ("distribution", "sample"):
            requests = study_requests(folder / f"embedded-{mode}", personas, {
                "id": "smollm2", "backend": "embedded", "answer_mode": mode, "temperature": 0.7})
            rates = []
            for _ in range(2 if mode == "distribution" else 1):   # best of two, as the limit is a best of rounds
                started = time.perf_counter()
                answered = sum(a.status == "answered" for a in backend.answer(requests))
                rates.append(len(requests) / (time.perf_counter() - started))
            out[f"{mode}_items_per_s"] = max(rates)
            out[f"{mode}_answered"] = answered
            if mode == "distribution":
                parts = [backend.prompt_tokens(r) for r in requests]
                prefixes = {tuple(p) for p, _ in parts}
                evaluated = sum(len(t) for _, t in parts) + sum(len(p) for p in prefixes)
                out["prompt_tokens_per_response"] = evaluated / len(requests)
                sample_prompt = parts[0][0] + parts[0][1]
        out["forward_tokens_per_s"] = forward_rate(backend, sample_prompt)
        out.update(thermometer(backend, personas, folder, out["forward_tokens_per_s"]))
        backend.close()
        out.update(shared_machine(folder, personas, out["distribution_items_per_s"]))
        out["limit_items_per_s"] = out["forward_tokens_per_s"] / out["prompt_tokens_per_response"]
        out["distribution_ratio_to_limit"] = out["distribution_items_per_s"] / out["limit_items_per_s"]
        return out
    finally:
        backend.close()


def thermometer_requests(folder: Path, personas: int) -> list:
    """The requests of a distribution-mode run of the ANES party thermometers (0-100) with ``personas``."""
    from ..specs import resources

    study = load_study(resources.data_dir("studies") / "replica_anes_thermometers.yaml", n=personas)
    people, _ = draw_personas(study)
    texts = {(v["persona_id"], v["persona_style"], v["cue_type"]): v["persona_text"]
             for v in render_personas(study, people).to_dict(orient="records")}
    return [build_request(study, study.models[0], c, texts[(c["persona_id"], c["persona_style"], c["cue_type"])])
            for c in build_cells(study, people).to_dict(orient="records")]


def thermometer(backend, personas: int, folder: Path, forward_tokens_per_s: float) -> dict:
    """Items per second of a 0-100 thermometer in distribution mode (every value scored as its tokens,
    :meth:`~silicon_sample.backends.embedded.EmbeddedBackend._sequence_logprobs`) and its limit: the forward
    pass over the prompt tokens evaluated per item plus one token per node of the values' trie."""
    requests = thermometer_requests(folder / "thermometer", personas)
    started = time.perf_counter()
    answered = sum(a.status == "answered" for a in backend.answer(requests))
    rate = len(requests) / (time.perf_counter() - started)
    parts = [backend.prompt_tokens(r) for r in requests]
    prefixes = {tuple(p) for p, _ in parts}
    prompt = (sum(len(t) for _, t in parts) + sum(len(p) for p in prefixes)) / len(requests)
    question = requests[0].question
    sequences = [tuple(backend.continuation(requests[0].prefill, written_answer(v))) for v in question.allowed_values()]
    nodes = len({s[:k] for s in sequences for k in range(1, len(s) + 1)})
    limit = forward_tokens_per_s / (prompt + nodes)
    return {"thermometer_items_per_s": rate, "thermometer_answered": answered,
            "thermometer_tokens_per_item": prompt + nodes, "thermometer_trie_nodes": nodes,
            "thermometer_limit_items_per_s": limit, "thermometer_ratio_to_limit": rate / limit}


def shared_machine(folder: Path, personas: int, solo_items_per_s: float) -> dict:
    """The embedded model's distribution rate with one other busy process, and its share of the solo rate."""
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        backend = create("embedded")            # chooses its threads now, with the other process busy
        try:
            requests = study_requests(folder / "embedded-shared", personas, {
                "id": "smollm2", "backend": "embedded", "answer_mode": "distribution", "temperature": 0.7})
            started = time.perf_counter()
            for _ in backend.answer(requests):
                pass
            rate = len(requests) / (time.perf_counter() - started)
            threads = backend.n_threads
        finally:
            backend.close()
    finally:
        busy.kill()
        busy.wait()
    return {"shared_items_per_s": rate, "shared_ratio": rate / solo_items_per_s, "shared_threads": threads}


def forward_rate(backend, tokens: list[int], rounds: int = 5, repeats: int = 4) -> float:
    """Tokens per second of llama.cpp evaluating this prompt from an empty cache (the forward-pass rate):
    the best of ``rounds`` rounds, so a moment of other load on the machine does not lower the limit."""
    llm = backend.llm
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeats):
            llm.reset()
            llm.eval(tokens)
        best = max(best, repeats * len(tokens) / (time.perf_counter() - started))
    llm.reset()
    return best


# -- a load test -------------------------------------------------------------------------------------
LOAD_FAULTS = {"error": 0.05, "rate_limit": 0.02, "timeout": 0.01, "hold": 3.0}
"""The load test's server: 5 % HTTP 500, 2 % HTTP 429, 1 % held past the client's 1 s time-out."""


def load_test(calls: int, folder: Path) -> dict:
    """``silicon-sample run`` (a process of its own) of about ``calls`` distribution-mode calls, 256 in flight,
    against a loopback server with :data:`LOAD_FAULTS`: every cell's status, the faults served, what the run
    printed on stderr (tracebacks, lines other than progress), its resident memory at 10 % and 100 %."""
    with LoopbackProcess(0.02, LOAD_FAULTS) as server:
        study = bench_study(folder, max(1, calls // 25), [{
            "id": "loopback", "backend": "openai", "model": MODEL, "answer_mode": "distribution", "temperature": 0.7,
            "options": {"base_url": server.url, "concurrency": 256, "timeout": 1.0, "base_delay": 0.02,
                        "max_attempts": 6}}])
        out = folder / "load-run"
        process = subprocess.Popen([sys.executable, "-m", "silicon_sample", "run", str(study), "--out", str(out),
                                    "--fresh"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        stderr: list[str] = []
        reader = threading.Thread(target=lambda: stderr.extend(process.stderr), daemon=True)
        reader.start()
        rss, total = {}, None
        while process.poll() is None:
            time.sleep(0.2)
            try:
                with sqlite3.connect(out / "responses.sqlite", timeout=5) as db:
                    total = total or db.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
                    done = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
            except sqlite3.Error:           # the run's folder is not made yet
                continue
            mb = _rss_of(process.pid)
            if mb and done >= 0.1 * total and "at_10" not in rss:
                rss["at_10"] = mb
            if mb and done >= total and "at_100" not in rss:
                rss["at_100"] = mb          # every cell answered: before the summary loads the statistics
        reader.join(timeout=10)
        faults = server.stats()["faults_served"]
    with sqlite3.connect(out / "responses.sqlite") as db:
        statuses = dict(db.execute("SELECT status, COUNT(*) FROM responses GROUP BY status").fetchall())
        total = db.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
    printed = [line for line in stderr if not line.startswith("  loopback: ")]
    return {"load_calls": total, "load_exit_code": process.returncode, "load_statuses": statuses,
            "load_pending": total - sum(statuses.values()), "load_faults_served": faults,
            "load_tracebacks": sum("Traceback" in line or "never retrieved" in line for line in stderr),
            "load_other_stderr_lines": len(printed),
            "load_rss_mb_at_10_percent": rss.get("at_10"), "load_rss_mb_at_100_percent": rss.get("at_100")}


def dask_rate(personas: int, folder: Path) -> dict:
    """Answers per second of the embedded model on a LocalCluster, and its ceiling (see the module docstring)."""
    from distributed import LocalCluster

    from ..backends.embedded import EmbeddedBackend
    from ..runner.dask_executor import worker_threads

    model = {"id": "smollm2", "backend": "embedded", "answer_mode": "distribution", "temperature": 0.7}
    requests = study_requests(folder / "dask-ceiling", personas, model)
    single = EmbeddedBackend(n_threads=1)
    try:
        started = time.perf_counter()
        for _ in single.answer(requests):
            pass
        one_thread = len(requests) / (time.perf_counter() - started)
    finally:
        single.close()
    cores = worker_threads()
    with LocalCluster(n_workers=cores, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster:
        # a first run loads the model on every worker; the second is timed from its first shard sent to its
        # last answer stored (the session's answering_seconds)
        start_run(bench_study(folder / "dask-warm", cores, [model]), folder / "dask-warm" / "run", executor="dask",
                  scheduler=cluster.scheduler_address)
        store = start_run(bench_study(folder / "dask", personas, [model]), folder / "dask" / "run", executor="dask",
                          scheduler=cluster.scheduler_address)
    session = store.manifest()["sessions"][-1]
    workers = session["dask_threads"]
    rate = session["answers_stored_by_workers"] / session["answering_seconds"]
    return {"dask_workers": workers, "dask_answers_per_s": rate, "dask_answers_per_s_per_worker": rate / workers,
            "single_thread_items_per_s": one_thread, "dask_ceiling_answers_per_s": workers * one_thread,
            "dask_ratio": rate / (workers * one_thread)}


def _rss_of(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# -- the design of a large study -------------------------------------------------------------------
def store_design(personas: int, folder: Path) -> dict:
    """Draw a bfi25 study of ``personas`` and write its run store (personas, variants, cells), streaming: the
    seconds it took and the peak resident memory before and after writing the design (this process)."""
    started = time.perf_counter()
    study = load_study(bench_study(folder, personas, [{"id": "m", "backend": "embedded",
                                                  "answer_mode": "distribution"}]))
    people, _ = draw_personas(study)
    before = peak_rss_mb()
    RunStore.create(folder / "design-run", study_text="", resolved_spec={}, inputs=study.input_files(), manifest={},
                    personas=people, variants=iter_variants(study, people), cells=iter_cells(study, people))
    return {"personas": personas, "cells": count_cells(study, personas),
            "seconds": round(time.perf_counter() - started, 1), "peak_rss_mb_before_design": round(before, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def design_memory(folder: Path, sizes: tuple[int, ...] = (10_000, 100_000)) -> dict:
    """:func:`store_design` for each size in a fresh process: the peak memory of writing the design grows with
    the personas table (a few hundred bytes a persona), not with the cells (streamed a chunk at a time)."""
    rows = []
    for size in sizes:
        code = ("import json, sys; from pathlib import Path; from silicon_sample.throughput.measure import "
                f"store_design; print(json.dumps(store_design({size}, Path(sys.argv[1]))))")
        target = folder / f"design-{size}"
        done = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout))
    return {"design": rows,
            "design_peak_rss_ratio": round(rows[-1]["peak_rss_mb"] / rows[0]["peak_rss_mb"], 2),
            "design_cells_ratio": rows[-1]["cells"] / rows[0]["cells"]}


# -- all of it ---------------------------------------------------------------------------------------
def memory(calls: int, folder: Path) -> dict:
    """Resident memory at 10 % and at 100 % of a ``calls``-call distribution run (256 in flight, 0.02 s per
    call): flat when nothing grows with the number of calls."""
    with LoopbackProcess(0.02) as server:
        result = run_rate(server.url, max(1, calls // 25), 256, "distribution", folder / "memory")
    at_10, at_100 = result["rss_mb_at_10_and_100_percent"]
    return {"memory_calls": result["calls"], "rss_mb_at_10_percent": at_10, "rss_mb_at_100_percent": at_100,
            "memory_calls_per_s": result["calls_per_s"]}


def run_bench(quick: bool = False, memory_calls: int = 0, load_calls: int = 0, design: bool = False,
              dask: bool = False, million: bool = False, analysis: bool = False) -> dict:
    """Every measurement of the module docstring; ``quick`` shrinks them to seconds (for tests);
    ``memory_calls`` adds a run of that many calls reporting its resident memory at 10 % and 100 %."""
    configs = [(0.2, 64), (0.5, 256)] if not quick else [(0.05, 16)]
    with tempfile.TemporaryDirectory(prefix="silicon-sample-bench-") as tmp:
        folder = Path(tmp)
        rows = []
        for delay, concurrency in configs:
            # enough calls for about 8 s of steady state at the ideal rate (at least 4 personas)
            ideal = concurrency / delay
            personas = 4 if quick else max(8, int(ideal * 8 / 25))
            rows.append(hosted(delay, concurrency, personas, folder))
        local = embedded(1 if quick else 6, folder)
        flat = memory(memory_calls, folder) if memory_calls else {}
        load = load_test(load_calls, folder) if load_calls else {}
        streamed = design_memory(folder) if design else {}
        cluster = dask_rate(4 if quick else 16, folder) if dask else {}
        if million:
            from .million import million as million_answers

            large = million_answers(folder, personas=400 if quick else 40_000)
        else:
            large = {}
        if analysis:
            from .analysis_speed import analysis_speed

            timed_analysis = analysis_speed(folder)
        else:
            timed_analysis = {}
    main = rows[0]
    return {
        "hosted_ceiling_calls_per_s": main["ceiling_calls_per_s"],
        "hosted_calls_per_s": main["distribution_calls_per_s"],
        "hosted_ratio": min(min(r["ratio_distribution"], r["ratio_sample"]) for r in rows),
        "hosted_max_in_flight": main["max_in_flight"],
        "hosted": rows,
        "distribution_items_per_s": local["distribution_items_per_s"],
        "sample_items_per_s": local["sample_items_per_s"],
        "limit_items_per_s": local["limit_items_per_s"],
        "prompt_tokens_per_response": local["prompt_tokens_per_response"],
        "forward_tokens_per_s": local["forward_tokens_per_s"],
        "distribution_ratio_to_limit": local["distribution_ratio_to_limit"],
        "shared_items_per_s": local["shared_items_per_s"], "shared_ratio": local["shared_ratio"],
        "shared_threads": local["shared_threads"],
        **{k: v for k, v in local.items() if k.startswith("thermometer_")},
        "peak_rss_mb": peak_rss_mb(),
        **flat,
        **load,
        **streamed,
        **cluster,
        **large,
        **timed_analysis,
    }
