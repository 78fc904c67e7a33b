"""The run store's journal of Batch API submissions (see :mod:`silicon_sample.backends.openai_batch`).

Two tables in ``responses.sqlite``, made on first use (runs made before them have none):

``batches``
    one row per input file uploaded: the model, the batch id once the batch exists, its last polled
    state and request counts, why it ended (``note``), when it was submitted, last updated and collected.
``batch_cells``
    the cells each input file carries; ``returned`` holds the reason when the batch gave the cell back
    without an answer (the cell is pending again and goes into a later batch).

Every write is committed before the backend goes on (``synchronous=FULL``), so a batch id is on disk
the moment the backend knows it. Which batches are still *open* is derived, not stored: a batch that
has not ended, or one that ended but whose answered cells are not all in ``responses`` (the process
died between reading the results and committing them: they are read again on resume).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ..backends.openai_batch import TERMINAL, BatchRecord
from ..store.run_store import DB_NAME, RunStore, now

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (input_file_id TEXT PRIMARY KEY, model_id TEXT NOT NULL, batch_id TEXT UNIQUE,
                                    status TEXT NOT NULL, n_cells INTEGER NOT NULL, completed INTEGER,
                                    failed INTEGER, note TEXT, submitted_at TEXT NOT NULL, updated_at TEXT NOT NULL,
                                    collected_at TEXT);
CREATE TABLE IF NOT EXISTS batch_cells (input_file_id TEXT NOT NULL REFERENCES batches, cell_id TEXT NOT NULL
                                        REFERENCES cells, returned TEXT, PRIMARY KEY (input_file_id, cell_id));
CREATE INDEX IF NOT EXISTS batch_cells_by_cell ON batch_cells(cell_id);
"""


class StoreBatchJournal:
    """The batch journal of one model of a run (a ``BatchJournal`` for the batch backend)."""

    def __init__(self, run_dir: str | Path, model_id: str):
        self.path = Path(run_dir) / DB_NAME
        self.model_id = model_id
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._collected_here: set[str] = set()     # collected by this process: their answers are on the way

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _write(self, sql: str, rows: list[tuple]) -> None:
        with self._lock, self.db:
            self.db.executemany(sql, rows)

    # -- BatchJournal ---------------------------------------------------------------------------
    def open_batches(self):
        with self._lock:
            batches = self.db.execute(
                "SELECT input_file_id, batch_id, status FROM batches WHERE model_id = ? ORDER BY submitted_at, "
                "rowid", (self.model_id,)).fetchall()
            records = []
            for input_file_id, batch_id, status in batches:
                if input_file_id in self._collected_here:
                    continue
                waiting = [row[0] for row in self.db.execute(
                    "SELECT b.cell_id FROM batch_cells b LEFT JOIN responses r USING (cell_id) "
                    "WHERE b.input_file_id = ? AND b.returned IS NULL AND r.cell_id IS NULL ORDER BY b.rowid",
                    (input_file_id,))]
                if status in TERMINAL and not waiting:
                    continue
                records.append(BatchRecord(input_file_id, batch_id, status, waiting))
        return records

    def uploaded(self, input_file_id: str, request_ids: list[str]) -> None:
        with self._lock, self.db:
            self.db.execute("INSERT INTO batches (input_file_id, model_id, status, n_cells, submitted_at, updated_at) "
                            "VALUES (?, ?, 'uploaded', ?, ?, ?)",
                            (input_file_id, self.model_id, len(request_ids), now(), now()))
            self.db.executemany("INSERT INTO batch_cells (input_file_id, cell_id) VALUES (?, ?)",
                                [(input_file_id, r) for r in request_ids])

    def submitted(self, input_file_id: str, batch_id: str, status: str) -> None:
        self._write("UPDATE batches SET batch_id = ?, status = ?, updated_at = ? WHERE input_file_id = ?",
                    [(batch_id, status, now(), input_file_id)])

    def updated(self, input_file_id: str, status: str, completed: int, failed: int, note: str | None) -> None:
        self._write("UPDATE batches SET status = ?, completed = ?, failed = ?, note = COALESCE(?, note), "
                    "updated_at = ? WHERE input_file_id = ?", [(status, completed, failed, note, now(), input_file_id)])

    def returned(self, input_file_id: str, reasons: dict[str, str]) -> None:
        self._write("UPDATE batch_cells SET returned = ? WHERE input_file_id = ? AND cell_id = ?",
                    [(reason, input_file_id, cell) for cell, reason in reasons.items()])

    def collected(self, input_file_id: str) -> None:
        self._collected_here.add(input_file_id)
        self._write("UPDATE batches SET collected_at = ? WHERE input_file_id = ?", [(now(), input_file_id)])

    def submissions(self, request_ids: Iterable[str]) -> dict[str, int]:
        ids = list(request_ids)
        counts = dict.fromkeys(ids, 0)
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ", ".join("?" * len(chunk))
                for cell, n in self.db.execute(f"SELECT cell_id, COUNT(*) FROM batch_cells WHERE cell_id IN ({marks}) "
                                               "GROUP BY cell_id", chunk):
                    counts[cell] = n
        return counts


def batch_table(store: RunStore) -> pd.DataFrame:
    """Every batch of a run: model, batch id, state, cells, answered/returned/waiting cells, counts the
    server gave, note, times (UTC). Empty when the run used no batch backend."""
    has = store.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'batches'").fetchone()
    columns = ["model_id", "batch_id", "status", "n_cells", "answered", "returned", "waiting", "completed", "failed",
               "note", "submitted_at", "updated_at", "collected_at", "input_file_id"]
    if not has:
        return pd.DataFrame(columns=columns)
    return pd.read_sql_query(
        "SELECT b.model_id, b.batch_id, b.status, b.n_cells, "
        "SUM(c.returned IS NULL AND r.cell_id IS NOT NULL) AS answered, SUM(c.returned IS NOT NULL) AS returned, "
        "SUM(c.returned IS NULL AND r.cell_id IS NULL) AS waiting, b.completed, b.failed, b.note, b.submitted_at, "
        "b.updated_at, b.collected_at, b.input_file_id FROM batches b JOIN batch_cells c USING (input_file_id) "
        "LEFT JOIN responses r ON r.cell_id = c.cell_id GROUP BY b.input_file_id ORDER BY b.submitted_at, b.rowid",
        store.db)[columns]


__all__ = ["StoreBatchJournal", "batch_table"]
