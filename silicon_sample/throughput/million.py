"""``silicon-sample bench --million``: a run store of a million answers, built synthetically, then exported and
compared in chunks, each step in a process of its own so its peak memory is its own.

- **insert** — a bfi25 study of 40,000 personas (1,000,000 cells) written as a run, then one synthetic
  distribution-mode answer per cell stored through :meth:`RunStore.record_many` in commits of 10,000
  (answers per second), beside the ceiling: the same rows inserted by a bare ``executemany`` into a table of
  the same schema in a fresh SQLite file (``store_insert_ratio``);
- **export** — ``silicon-sample export`` to CSV and Parquet, long and wide: seconds and peak resident memory
  (``ru_maxrss`` of the child process);
- **compare** — ``silicon-sample compare --items-only`` against psych::bfi: seconds and peak memory.

Synthetic answers are drawn with a seeded generator: answer codes and option probabilities like the embedded
model's, so the files have the size and the shape of a real run's.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ..answers import Answer
from ..design.cells import count_cells, draw_personas, iter_cells, iter_variants
from ..design.study import load_study, read_study_text
from ..runner.execute import resolved_spec
from ..runner.manifest import build_manifest
from ..store.run_store import RESPONSE_COLUMNS, SCHEMA, RunStore
from .bench_study import bench_study

COMMIT = 10_000


def dirichlet_answer(cell: dict, rng: np.random.Generator) -> tuple[int, dict[int, float]]:
    """A synthetic distribution-mode answer to a six-option item: option probabilities from a flat Dirichlet, the
    code drawn from them."""
    p = rng.dirichlet(np.ones(6))
    return int(rng.choice(6, p=p)) + 1, {k + 1: float(v) for k, v in enumerate(p)}


def synthetic_run(study_path: Path, out: Path, seed: int = 0, answer=dirichlet_answer, n: int | None = None) -> dict:
    """A run of ``study_path`` (``n`` personas when given) with a synthetic answer stored for every cell:
    ``answer(cell, rng)`` gives its code and option probabilities (default :func:`dirichlet_answer`); returns
    the insert rate and its ceiling."""
    study = load_study(study_path, n=n)
    people, weights = draw_personas(study)
    models = {m.id: {**m.model_dump(), "model_version": "synthetic answers (bench)"} for m in study.models}
    manifest = build_manifest(study, models, n_personas=len(people), n_cells=count_cells(study, len(people)),
                              weights=weights)
    store = RunStore.create(out, study_text=read_study_text(study_path), resolved_spec=resolved_spec(study),
                            inputs=study.input_files(), manifest=manifest, personas=people,
                            variants=iter_variants(study, people), cells=iter_cells(study, people))
    rng = np.random.default_rng(seed)
    session = store.begin_session("bench", {})
    stored, seconds, rows = 0, 0.0, []
    batch: list[Answer] = []

    def flush() -> None:
        nonlocal stored, seconds
        started = time.perf_counter()
        store.record_many(batch, session)
        seconds += time.perf_counter() - started
        stored += len(batch)
        batch.clear()

    for model in study.models:
        for cell in store.iter_pending(model.id, chunk=COMMIT):
            value, probabilities = answer(cell, rng)
            batch.append(Answer(request_id=cell["cell_id"], status="answered", value=value,
                                probabilities=probabilities, option_mass=0.9,
                                raw_output="synthetic", latency_s=0.0, prompt_tokens=120, completion_tokens=0,
                                model_version="synthetic answers (bench)"))
            if len(rows) < COMMIT * 10:       # the ceiling's rows: the same answers, as tuples
                rows.append((cell["cell_id"], "answered", batch[-1].value, json.dumps(
                    {str(k): v for k, v in batch[-1].probabilities.items()}), 0.9, "synthetic", None, 0.0, 120, 0,
                    "synthetic answers (bench)", session, "2026-11-24T00:00:00+00:00", None, None))
            if len(batch) >= COMMIT:
                flush()
    if batch:
        flush()
    store.end_session(session, "completed")
    store.close()
    ceiling = bare_insert_rate(rows, out.parent / "ceiling.sqlite")
    rate = stored / seconds
    return {"million_answers": stored, "store_insert_answers_per_s": rate,
            "bare_insert_answers_per_s": ceiling, "store_insert_ratio": rate / ceiling}


def bare_insert_rate(rows: list[tuple], path: Path) -> float:
    """Rows per second of a bare ``executemany`` into the run store's responses table (commits of 10,000)."""
    db = sqlite3.connect(path)
    db.executescript(SCHEMA.replace("REFERENCES cells", "").replace("REFERENCES personas", ""))
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    started = time.perf_counter()
    for start in range(0, len(rows), COMMIT):
        with db:
            db.executemany(f"INSERT INTO responses VALUES ({', '.join('?' * len(RESPONSE_COLUMNS))})",
                           rows[start:start + COMMIT])
    rate = len(rows) / (time.perf_counter() - started)
    db.close()
    return rate


def timed_command(*args: str) -> tuple[float, float, int]:
    """(seconds, peak resident memory in MB, exit code) of ``silicon-sample ARGS`` in a process of its own."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "silicon_sample", *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, process.returncode


def million(folder: Path, personas: int = 40_000) -> dict:
    """Every figure of the module docstring for a bfi25 study of ``personas`` (40,000: a million answers)."""
    run = folder / "million" / "run"
    out = synthetic_run(bench_study(folder / "million", personas, [{"id": "smollm2", "backend": "embedded",
                                                               "answer_mode": "distribution"}]), run)
    for shape in ("long", "wide"):
        for fmt in ("csv", "parquet"):
            target = folder / "million" / f"{shape}.{fmt}"
            seconds, rss, code = timed_command("export", str(run), "-o", str(target),
                                               *(["--wide"] if shape == "wide" else []))
            out[f"export_{shape}_{fmt}_seconds"] = seconds
            out[f"export_{shape}_{fmt}_peak_rss_mb"] = rss
            out[f"export_{shape}_{fmt}_exit_code"] = code
            target.unlink(missing_ok=True)
    seconds, rss, code = timed_command("compare", str(run), "--baseline", "psych_bfi", "--items-only")
    out.update(items_compare_seconds=seconds, items_compare_peak_rss_mb=rss, items_compare_exit_code=code)
    out["million_peak_rss_mb_max"] = max(v for k, v in out.items() if k.endswith("_peak_rss_mb"))
    return out


__all__ = ["million", "synthetic_run"]
