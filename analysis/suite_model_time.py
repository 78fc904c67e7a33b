"""How much of `make test` is the embedded model answering (issue 32, part 3)?

Every run a test makes keeps its answers, each with the seconds its call took (``responses.latency_s``). The
answers of one call (a battery block) share that call's latency, so each call is counted once (distinct
latencies per run). The embedded backend answers one call after another in its own process, so the sum of its
calls is the time the model spent; for server backends the calls overlap (``concurrency``) and the sum is not a
time, so only their count is printed. Runs answered by Dask workers are counted apart: two workers answer side
by side on one test worker's CPU, so their calls overlap too. Runs whose files a test damaged on purpose are
counted as unreadable. Model loading, and the llama.cpp and Ollama-protocol test servers' own model time, are
not included: the figure is a floor.

Run after the suite (pytest keeps its last three base folders):
    .venv/bin/python analysis/suite_model_time.py /tmp/pytest-of-$USER/pytest-N
and compare the embedded minutes with the suite's CPU time (``user`` of ``time make test``).
"""

from __future__ import annotations

import collections
import json
import sqlite3
import sys
from pathlib import Path

QUERY = ("SELECT c.model_id, SUM(DISTINCT r.latency_s), COUNT(*) FROM responses r JOIN cells c USING (cell_id) "
         "GROUP BY c.model_id")


def main(root: Path) -> None:
    seconds, answers, per_test = collections.Counter(), collections.Counter(), collections.Counter()
    unreadable = 0
    for database in sorted(root.rglob("responses.sqlite")):
        try:
            manifest = json.loads((database.parent / "manifest.json").read_text())
            models = manifest["models"]
            on_dask = any(session.get("executor") == "dask" for session in manifest.get("sessions", []))
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
                rows = db.execute(QUERY).fetchall()
        except (OSError, ValueError, KeyError, sqlite3.Error):
            unreadable += 1
            continue
        test = database.relative_to(root).parts[1]      # popen-gwN/<test folder>/...
        for model_id, latency, count in rows:
            backend = models.get(model_id, {}).get("backend", "unknown") + (" on Dask" if on_dask else "")
            seconds[backend] += latency or 0.0
            answers[backend] += count
            if backend == "embedded":
                per_test[test] += latency or 0.0
    print(f"runs read under {root} ({unreadable} unreadable: damaged on purpose by their tests)")
    for backend in sorted(answers, key=lambda b: -answers[b]):
        time = f"{seconds[backend] / 60:6.1f} min answering" if backend.startswith("embedded") else " " * 20
        print(f"  {backend:18s} {answers[backend]:7d} answers  {time}")
    print("the embedded model's longest tests (minutes):")
    for test, spent in per_test.most_common(10):
        print(f"  {spent / 60:5.1f}  {test}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
