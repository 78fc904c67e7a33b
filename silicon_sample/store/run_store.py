"""One directory per run: the study copy, its inputs, a manifest and every response.

Layout of a run directory::

    study.yaml            the study file exactly as given
    inputs/               copies of every file the study read, and
      study.resolved.yaml   the study pointing at those copies (used by resume)
    manifest.json         versions, model file hashes, seeds, prompt templates, sessions
    responses.sqlite      personas, cells (the design) and responses
    results.csv, summary.md   written when the run completes

A response's value is typed (:data:`silicon_sample.answers.ANSWER_KINDS`): a code sits in ``value``
(INTEGER) as in every run before typed answers; another kind sits in ``value_kind`` and ``value_data``
(JSON) with ``value`` NULL (:func:`~silicon_sample.answers.stored_value`). A database of format 1 (before
typed answers: no ``value_kind``/``value_data`` columns, ``PRAGMA user_version`` 0) is read as it is —
every value a code — and migrated to format 2 by adding the two columns (nothing rewritten) the first time
a response is written to it (``resume``).

The SQLite database is committed as answers arrive — one commit for the answers
that arrived while the previous commit was written; the runner counts a call as in
flight until its answer is committed, so a crash loses at most the calls in flight
(``concurrency`` per model); a response's cell id is its primary key, so no cell can be
answered twice. A run is built in a hidden folder next to its target
and renamed into place only when complete, so a failure while creating it
leaves nothing half-written. One process at a time may work on a run (an
advisory lock on ``.lock``).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml

from ..answers import PENDING, STATUSES, Answer, read_stored_value, stored_value
from ..errors import RunStoreError
from ..files import loads_json, write_atomic

DB_NAME = "responses.sqlite"
REBUILT_PREFIX = f"{DB_NAME}.rebuilt-"
"""A database a repair has rebuilt and not yet put in place (see :mod:`silicon_sample.runner.repair`)."""
MANIFEST = "manifest.json"
RESOLVED_STUDY = "inputs/study.resolved.yaml"

SCHEMA = """
CREATE TABLE personas (persona_id TEXT PRIMARY KEY, attributes TEXT NOT NULL, weight REAL NOT NULL,
                       source_row INTEGER);
CREATE TABLE persona_variants (persona_id TEXT NOT NULL REFERENCES personas, persona_style TEXT NOT NULL,
                               cue_type TEXT NOT NULL, name TEXT, cued_attributes TEXT NOT NULL,
                               persona_text TEXT NOT NULL, PRIMARY KEY (persona_id, persona_style, cue_type));
CREATE TABLE cells (cell_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, persona_id TEXT NOT NULL
                    REFERENCES personas, persona_style TEXT NOT NULL, cue_type TEXT NOT NULL,
                    model_id TEXT NOT NULL, instrument_id TEXT NOT NULL,
                    item_id TEXT NOT NULL, replicate INTEGER NOT NULL, position INTEGER NOT NULL,
                    seed INTEGER NOT NULL, perturbation TEXT NOT NULL DEFAULT 'original',
                    presentation TEXT NOT NULL DEFAULT 'independent', block TEXT, block_position INTEGER);
CREATE TABLE responses (cell_id TEXT PRIMARY KEY REFERENCES cells, status TEXT NOT NULL
                        CHECK (status IN ({statuses})),
                        value INTEGER, probabilities TEXT, option_mass REAL, raw_output TEXT, reason TEXT,
                        latency_s REAL, prompt_tokens INTEGER, completion_tokens INTEGER,
                        model_version TEXT, session INTEGER NOT NULL, recorded_at TEXT NOT NULL,
                        value_kind TEXT, value_data TEXT);
CREATE TABLE sessions (session INTEGER PRIMARY KEY, command TEXT NOT NULL, started_at TEXT NOT NULL,
                       finished_at TEXT, outcome TEXT);
CREATE INDEX cells_by_seq ON cells(seq);
PRAGMA user_version = 2;
""".format(statuses=", ".join(f"'{s}'" for s in STATUSES))

STORE_FORMAT = 2
"""The run store's format: 1 before typed answers, 2 with ``value_kind`` and ``value_data``."""
RESPONSE_COLUMNS = ("cell_id", "status", "value", "probabilities", "option_mass", "raw_output", "reason",
                    "latency_s", "prompt_tokens", "completion_tokens", "model_version", "session", "recorded_at",
                    "value_kind", "value_data")
"""The columns of ``responses``, in order (format 1 had the first 13)."""
INSERT_RESPONSE = (f"INSERT OR IGNORE INTO responses ({', '.join(RESPONSE_COLUMNS)}) "
                   f"VALUES ({', '.join('?' * len(RESPONSE_COLUMNS))})")
RESPONSE_FIELDS = ("r.status, r.value, r.probabilities, r.option_mass, r.raw_output, r.reason, r.latency_s, "
                   "r.prompt_tokens, r.completion_tokens, r.model_version, r.session, r.recorded_at")


def response_row(answer: Answer, session: int, recorded_at: str) -> tuple:
    """One row of ``responses`` (:data:`RESPONSE_COLUMNS`) for an answer."""
    value, kind, data = stored_value(answer.kind, answer.value)
    return (answer.request_id, answer.status, value,
            (json.dumps({str(k): v for k, v in answer.probabilities.items()})
             if answer.probabilities is not None else None),
            answer.option_mass, answer.raw_output, answer.reason, answer.latency_s, answer.prompt_tokens,
            answer.completion_tokens, answer.model_version, session, recorded_at, kind, data)


def _stored(row: tuple) -> dict:
    """(cell_id, status, value, raw_output, value_kind, value_data) as the runner reads a stored response."""
    return {"status": row[1], "kind": row[4] or "code", "value": read_stored_value(row[2], row[4], row[5]),
            "raw_output": row[3]}


def store_format(db: sqlite3.Connection) -> int:
    """1 (before typed answers) or 2, from the responses table's columns."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(responses)")}
    return 2 if {"value_kind", "value_data"} <= columns else 1


def migrate(db: sqlite3.Connection) -> bool:
    """Bring a format-1 database to format 2 (two columns added, every row kept as it is); True if it did."""
    if store_format(db) == 2:
        return False
    with db:
        db.execute("ALTER TABLE responses ADD COLUMN value_kind TEXT")
        db.execute("ALTER TABLE responses ADD COLUMN value_data TEXT")
        db.execute(f"PRAGMA user_version = {STORE_FORMAT}")
    return True


INSERT_CELLS = "INSERT INTO cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
"""A cell row, in the order of :data:`silicon_sample.design.cells.CELL_COLUMNS`."""
TABLES = ("personas", "persona_variants", "cells", "responses", "sessions")
_SQLITE_HEADER = b"SQLite format 3\x00"
def _damaged_fix(path: Path) -> str:
    return (f"run `silicon-sample repair {path.parent}`: it keeps the answers the file still holds, rebuilds the "
            "design from the run's inputs and keeps the damaged file beside the new one")


def _check_files(run_dir: Path) -> None:
    """:func:`check_database` and :func:`check_manifest`, once per state of the two files: an analysis opens
    a run several times, and ``quick_check`` reads the whole database."""
    states = tuple((p.stat().st_size, p.stat().st_mtime_ns) for p in (run_dir / DB_NAME, run_dir / MANIFEST))
    _checked(str(run_dir.resolve()), states)


@functools.lru_cache(maxsize=64)
def _checked(run_dir: str, states: tuple) -> None:
    check_database(Path(run_dir) / DB_NAME)
    check_manifest(Path(run_dir) / MANIFEST)


def check_database(path: Path) -> None:
    """A run's database is a complete SQLite file with the run's tables, or a clear error naming what is wrong."""
    size = path.stat().st_size
    if size == 0:
        raise RunStoreError(f"{path.name} is empty (0 bytes): the run's design and answers are not in it",
                            where=str(path), fix=f"run `silicon-sample repair {path.parent}` to rebuild the design "
                                                 "from the run's inputs (every cell is then pending)")
    with open(path, "rb") as handle:
        if handle.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
            raise RunStoreError(f"{path.name} is not a database: it does not begin with SQLite's header",
                                where=str(path), fix=_damaged_fix(path))
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise RunStoreError(f"{path.name} is damaged: {exc}", where=str(path), fix=_damaged_fix(path)) from None
    if check != "ok":
        raise RunStoreError(f"{path.name} is damaged: {check}", where=str(path), fix=_damaged_fix(path))
    missing = [t for t in TABLES if t not in tables]
    if missing:
        raise RunStoreError(f"{path.name} is not a run database: it has no table {missing[0]}", where=str(path),
                            fix="give the directory that `silicon-sample run --out` created")


def _manifest_fix(path: Path) -> str:
    return (f"run `silicon-sample repair {path.parent}` to rebuild it from the run's inputs (the answers in "
            "responses.sqlite do not depend on it)")


def check_manifest(path: Path) -> None:
    """A run's manifest is a JSON object with the run's sections, or a clear error naming what is wrong."""
    try:
        manifest = loads_json(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunStoreError(f"{path.name} is not valid JSON: {exc}", where=str(path), fix=_manifest_fix(path)) from None
    missing = [k for k in ("study", "design", "models") if not isinstance(manifest, dict) or k not in manifest]
    if missing:
        raise RunStoreError(f"{path.name} is not a run manifest: it has no {missing[0]!r}", where=str(path),
                            fix=_manifest_fix(path))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


KILLED = "killed"


def close_open_sessions(db: sqlite3.Connection) -> int:
    """Sessions with no end were ended by a kill (SIGKILL, power loss: the process could not say so): record
    them as ``killed``, ending at the last answer each stored (else at its start). Only called while holding
    the run's lock, so no live process owns them. Returns how many were closed."""
    with db:
        cursor = db.execute(
            "UPDATE sessions SET outcome = ?, finished_at = COALESCE((SELECT MAX(recorded_at) FROM responses r "
            "WHERE r.session = sessions.session), started_at) WHERE finished_at IS NULL", (KILLED,))
    return cursor.rowcount


class RunStore:
    """Access to one run directory."""

    def __init__(self, run_dir: Path):
        self.dir = Path(run_dir)
        self._db: sqlite3.Connection | None = None
        self._lock_handle = None
        self.duplicates_refused: dict[int, int] = {}     # per session: second answers to a cell, not stored
        self._format: int | None = None                 # the database's format, read once (store_format)

    # -- creating and opening --------------------------------------------
    @staticmethod
    def refuse_existing(out: Path) -> None:
        """A run is never written into a folder that holds something already (a symbolic link is followed)."""
        out = Path(out).resolve() if Path(out).is_symlink() else Path(out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise RunStoreError("output directory already exists and is not empty", where=str(out),
                                fix=f"choose another --out, or finish that run with `silicon-sample resume {out}`")

    @classmethod
    def create(cls, out: str | Path, *, study_text: str, resolved_spec: dict, inputs: dict[str, Path],
               manifest: dict, personas: pd.DataFrame, variants: pd.DataFrame | Iterable[pd.DataFrame],
               cells: pd.DataFrame | Iterable[list[tuple]]) -> RunStore:
        """Write a new run: ``variants`` and ``cells`` are whole tables or streams of chunks (see
        :func:`~silicon_sample.design.cells.iter_cells`), written as they come."""
        out = Path(out)
        cls.refuse_existing(out)
        if out.is_symlink():     # the run is made where the link points (an empty folder, or nothing yet)
            out = out.resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = out.parent / f".{out.name}.partial-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            staging.mkdir()
            (staging / "study.yaml").write_text(study_text, encoding="utf-8")
            for name, source in inputs.items():
                target = staging / "inputs" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            (staging / RESOLVED_STUDY).write_text(yaml.safe_dump(resolved_spec, sort_keys=False), encoding="utf-8")
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            db = sqlite3.connect(staging / DB_NAME)
            with db:
                db.executescript(SCHEMA)
                attribute_columns = [c for c in personas.columns if c not in ("persona_id", "weight", "source_row")]
                db.executemany("INSERT INTO personas VALUES (?, ?, ?, ?)", [
                    (row["persona_id"], json.dumps({c: row[c] for c in attribute_columns}),
                     float(row["weight"]), int(row["source_row"]) if "source_row" in row else None)
                    for row in personas.to_dict(orient="records")])
                for chunk in ([variants] if isinstance(variants, pd.DataFrame) else variants):
                    db.executemany("INSERT INTO persona_variants VALUES (?, ?, ?, ?, ?, ?)",
                                   chunk[["persona_id", "persona_style", "cue_type", "name", "cued_attributes",
                                          "persona_text"]].itertuples(index=False, name=None))
                for rows in ([cells.itertuples(index=False, name=None)] if isinstance(cells, pd.DataFrame)
                             else cells):
                    db.executemany(INSERT_CELLS, rows)
            db.close()
            try:
                if out.exists():
                    out.rmdir()
                os.rename(staging, out)
            except OSError as exc:
                if out.is_dir() and any(out.iterdir()):     # another process made a run here meanwhile: theirs is kept
                    raise RunStoreError("another run was created in this output directory at the same time",
                                        where=str(out), fix="choose another --out (the other run is kept)") from None
                raise RunStoreError(f"cannot put the run in place: {exc.strerror or exc}", where=str(out),
                                    fix="choose an --out in a folder you can write to") from None
        except (OSError, sqlite3.OperationalError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            full = "full" in str(exc) or getattr(exc, "errno", None) == 28
            raise RunStoreError(f"cannot create the run: {'the disk is full' if full else exc}; nothing was written "
                                "(no call was made)", where=str(out.parent),
                                fix="free space on that disk, or choose an --out on another") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return cls(out)

    @classmethod
    def open(cls, run_dir: str | Path) -> RunStore:
        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            raise RunStoreError("run directory not found", where=str(run_dir), fix="check the path")
        rebuilt = sorted(run_dir.glob(f"{REBUILT_PREFIX}*"))
        if rebuilt:
            raise RunStoreError(f"a repair of this run was interrupted after it had rebuilt the database "
                                f"({rebuilt[0].name}, every answer kept)", where=str(run_dir),
                                fix=f"run `silicon-sample repair {run_dir}` to finish it")
        if not (run_dir / DB_NAME).is_file() or not (run_dir / MANIFEST).is_file():
            missing = DB_NAME if not (run_dir / DB_NAME).is_file() else MANIFEST
            if (run_dir / RESOLVED_STUDY).is_file():
                raise RunStoreError(f"the run has no {missing}", where=str(run_dir),
                                    fix=f"run `silicon-sample repair {run_dir}` to rebuild it from the run's inputs")
            raise RunStoreError(f"not a silicon-sample run (no {DB_NAME} or {MANIFEST})", where=str(run_dir),
                                fix="give the directory that `silicon-sample run --out` created")
        _check_files(run_dir)
        return cls(run_dir)

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(self.dir / DB_NAME, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
        return self._db

    def format(self, db: sqlite3.Connection | None = None) -> int:
        """The database's format (:func:`store_format`), read once by the writing thread (2 once this store has
        migrated it); a reader thread passes its own connection ``db`` and reads it there, never caching it."""
        if self._format is not None:
            return self._format
        if db is not None:
            return store_format(db)
        self._format = store_format(self.db)
        return self._format

    def typed_fields(self, db: sqlite3.Connection | None = None) -> str:
        """The SELECT fields of a response's type: its columns, or NULLs on a format-1 database."""
        return ("r.value_kind, r.value_data" if self.format(db) == 2
                else "NULL AS value_kind, NULL AS value_data")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @contextlib.contextmanager
    def lock(self):
        """Hold the run for this process; fail clearly if another holds it."""
        handle = open(self.dir / ".lock", "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise RunStoreError("another silicon-sample process is working on this run", where=str(self.dir),
                                fix="wait for it to finish, or stop it first") from None
        try:
            yield self
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def storage_error(self, exc: BaseException, lost: str) -> RunStoreError:
        """One line for a write to the run that failed (a full disk, an I/O error): the path, what is kept and
        how to go on."""
        try:
            with contextlib.closing(sqlite3.connect(f"file:{self.dir / DB_NAME}?mode=ro", uri=True)) as db:
                kept = f"{db.execute('SELECT COUNT(*) FROM responses').fetchone()[0]} answers stored before are kept"
        except sqlite3.Error:
            kept = "every answer committed before is kept"
        full = "full" in str(exc) or getattr(exc, "errno", None) == 28
        return RunStoreError(f"cannot write to the run: {'the disk is full' if full else exc}; {kept}, {lost}",
                             where=str(self.dir / DB_NAME),
                             fix=f"{'free space on that disk' if full else 'fix the disk'}, then run "
                                 f"`silicon-sample resume {self.dir}` to answer the rest")

    # -- manifest -----------------------------------------------------------
    def manifest(self) -> dict:
        return json.loads((self.dir / MANIFEST).read_text(encoding="utf-8"))

    def update_manifest(self, **changes) -> None:
        manifest = self.manifest()
        manifest.update(changes)
        write_atomic(self.dir / MANIFEST, json.dumps(manifest, indent=2))

    # -- sessions -------------------------------------------------------------
    def begin_session(self, command: str, environment: dict) -> int:
        if close_open_sessions(self.db):
            closed = {row[0]: row[1:] for row in self.db.execute(
                "SELECT session, finished_at, outcome FROM sessions WHERE outcome = ?", (KILLED,))}
            manifest = self.manifest()
            for entry in manifest.get("sessions", []):
                if entry.get("session") in closed and not entry.get("finished_at"):
                    entry.update(finished_at=closed[entry["session"]][0], outcome=KILLED)
            self.update_manifest(sessions=manifest.get("sessions", []))
        with self.db:
            cursor = self.db.execute("INSERT INTO sessions (command, started_at) VALUES (?, ?)", (command, now()))
        session = int(cursor.lastrowid)
        manifest = self.manifest()
        sessions = manifest.get("sessions", [])
        sessions.append({"session": session, "command": command, "started_at": now(), **environment})
        self.update_manifest(sessions=sessions)
        return session

    def end_session(self, session: int, outcome: str, **facts) -> None:
        """Close a session with its outcome; ``facts`` (plain values) join its entry in the manifest."""
        finished = now()
        with self.db:
            self.db.execute("UPDATE sessions SET finished_at = ?, outcome = ? WHERE session = ?",
                            (finished, outcome, session))
        manifest = self.manifest()
        for entry in manifest.get("sessions", []):
            if entry["session"] == session:
                entry.update(finished_at=finished, outcome=outcome,
                             duplicates_refused=self.duplicates_refused.get(session, 0), **facts)
        stored = self.db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        self.update_manifest(sessions=manifest.get("sessions", []), answers_stored=stored)

    # -- design and responses -------------------------------------------------
    def personas(self) -> pd.DataFrame:
        """persona_id, the attributes, weight, source_row (microdata: the respondent drawn)."""
        frame = pd.read_sql_query("SELECT * FROM personas ORDER BY persona_id", self.db)
        attributes = pd.DataFrame([json.loads(a) for a in frame["attributes"]], index=frame.index)
        return pd.concat([frame[["persona_id"]], attributes, frame[["weight", "source_row"]]], axis=1)

    def variants(self) -> pd.DataFrame:
        """persona_id, persona_style, cue_type, name, cued_attributes, persona_text."""
        return pd.read_sql_query("SELECT * FROM persona_variants ORDER BY persona_id, persona_style, cue_type",
                                 self.db)

    def cells(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT * FROM cells ORDER BY seq", self.db)

    def pending(self, model_id: str | None = None) -> pd.DataFrame:
        """Cells without a response, in run order."""
        query = ("SELECT c.* FROM cells c LEFT JOIN responses r USING (cell_id) "
                 "WHERE r.cell_id IS NULL" + (" AND c.model_id = ?" if model_id else "") + " ORDER BY c.seq")
        return pd.read_sql_query(query, self.db, params=(model_id,) if model_id else None)

    def count_pending(self, model_id: str | None = None) -> int:
        """How many cells have no response."""
        query = ("SELECT COUNT(*) FROM cells c LEFT JOIN responses r USING (cell_id) WHERE r.cell_id IS NULL"
                 + (" AND c.model_id = ?" if model_id else ""))
        return int(self.db.execute(query, (model_id,) if model_id else ()).fetchone()[0])

    def iter_pending(self, model_id: str, chunk: int = 1000) -> Iterator[dict]:
        """One model's cells without a response, in run order, each with its ``persona_text``: read ``chunk``
        at a time on a connection of its own (so the thread that sends the calls can read while this store
        writes the answers), holding one chunk in memory however many cells the run has."""
        # check_same_thread=False: a backend may advance its requests from more than one thread (never at once)
        db = sqlite3.connect(f"file:{self.dir / DB_NAME}?mode=ro", uri=True, timeout=30, check_same_thread=False)
        db.row_factory = sqlite3.Row
        last = -1
        try:
            while True:
                rows = db.execute(
                    "SELECT c.*, v.persona_text FROM cells c LEFT JOIN responses r USING (cell_id) "
                    "JOIN persona_variants v USING (persona_id, persona_style, cue_type) "
                    "WHERE r.cell_id IS NULL AND c.model_id = ? AND c.seq > ? ORDER BY c.seq LIMIT ?",
                    (model_id, last, chunk)).fetchall()
                if not rows:
                    return
                last = rows[-1]["seq"]
                yield from (dict(row) for row in rows)
        finally:
            db.close()

    def read_responses(self, cell_ids: list[str]) -> dict[str, dict]:
        """The stored responses (status, value, raw_output) of these cells, read on a connection of its own
        (any thread may call it while this store writes)."""
        if not cell_ids:
            return {}
        with contextlib.closing(sqlite3.connect(f"file:{self.dir / DB_NAME}?mode=ro", uri=True, timeout=30)) as db:
            found = {}
            for start in range(0, len(cell_ids), 500):
                chunk = cell_ids[start:start + 500]
                rows = db.execute(f"SELECT r.cell_id, r.status, r.value, r.raw_output, {self.typed_fields(db)} "
                                  f"FROM responses r WHERE r.cell_id IN ({', '.join('?' * len(chunk))})",
                                  chunk).fetchall()
                found.update({r[0]: _stored(r) for r in rows})
        return found

    def answered_cells(self, model_id: str, persona_ids: list[str]) -> dict[str, dict]:
        """The stored responses (status, value, raw_output) of one model's cells of these personas."""
        if not persona_ids:
            return {}
        rows = self.db.execute(
            f"SELECT c.cell_id, r.status, r.value, r.raw_output, {self.typed_fields()} FROM cells c "
            f"JOIN responses r USING (cell_id) WHERE c.model_id = ? AND c.persona_id IN "
            f"({', '.join('?' * len(persona_ids))})", (model_id, *persona_ids)).fetchall()
        return {r[0]: _stored(r) for r in rows}

    def record(self, answer: Answer, session: int) -> None:
        """Store one response and commit it."""
        self.record_many([answer], session)

    def record_many(self, answers: list[Answer], session: int) -> int:
        """Store responses in one transaction (one commit): the runner stores what has arrived since its last
        commit, so a crash loses at most the answers of one commit's time. A cell that already has a response
        keeps it: the second answer is refused (a shard of a Dask worker that died after answering is answered
        again) and counted in the session's ``duplicates_refused`` (manifest). Returns how many were refused."""
        recorded_at = now()
        rows = [response_row(answer, session, recorded_at) for answer in answers]
        before = self.db.total_changes
        try:
            if self.format() == 1:
                migrate(self.db)
                self._format = 2
            with self.db:
                self.db.executemany(INSERT_RESPONSE, rows)
        except sqlite3.OperationalError as exc:
            raise self.storage_error(exc, f"{len(rows)} answers that had just arrived were not stored") from None
        refused = len(rows) - (self.db.total_changes - before)
        if refused:
            self.duplicates_refused[session] = self.duplicates_refused.get(session, 0) + refused
        return refused

    def responses(self) -> pd.DataFrame:
        """Every cell with its response (NULL status when not yet answered)."""
        return pd.read_sql_query(
            f"SELECT c.*, {RESPONSE_FIELDS}, {self.typed_fields()} "
            "FROM cells c LEFT JOIN responses r USING (cell_id) ORDER BY c.seq", self.db)

    def iter_responses(self, personas_per_chunk: int | None = None) -> Iterator[pd.DataFrame]:
        """:meth:`responses` in chunks of ``personas_per_chunk`` personas of one model (cells in run order, each
        (model, persona) whole), read by ranges of ``seq``; ``None``: one chunk."""
        if personas_per_chunk is None:
            yield self.responses()
            return
        starts = [row[0] for row in self.db.execute(
            "SELECT MIN(seq) FROM cells GROUP BY model_id, persona_id ORDER BY 1")]
        bounds = starts[::personas_per_chunk] + [None]
        for low, high in zip(bounds[:-1], bounds[1:]):
            yield pd.read_sql_query(
                f"SELECT c.*, {RESPONSE_FIELDS}, {self.typed_fields()} "
                "FROM cells c LEFT JOIN responses r USING (cell_id) WHERE c.seq >= ?"
                + (" AND c.seq < ?" if high is not None else "") + " ORDER BY c.seq", self.db,
                params=(low, high) if high is not None else (low,))

    def has_perturbation(self, name: str) -> bool:
        """Whether any cell was shown under perturbation ``name`` (runs made before perturbations: none)."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(cells)")}
        return "perturbation" in columns and self.db.execute(
            "SELECT 1 FROM cells WHERE perturbation = ? LIMIT 1", (name,)).fetchone() is not None

    def status_counts(self) -> pd.DataFrame:
        """Cells per model by status, with ``pending`` for cells not yet answered."""
        frame = pd.read_sql_query(
            f"SELECT c.model_id, COALESCE(r.status, '{PENDING}') AS status, COUNT(*) AS n "
            "FROM cells c LEFT JOIN responses r USING (cell_id) GROUP BY 1, 2", self.db)
        table = frame.pivot(index="model_id", columns="status", values="n").fillna(0).astype(int)
        for status in (*STATUSES, PENDING):
            if status not in table.columns:
                table[status] = 0
        table = table[[*STATUSES, PENDING]]
        table["total"] = table.sum(axis=1)
        return table

    def sessions(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT * FROM sessions ORDER BY session", self.db)
