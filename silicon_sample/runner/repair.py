"""``silicon-sample repair RUN``: put a damaged run back in a state that ``status`` reads and ``resume`` finishes.

A repair is safe because a run's design is reproducible: the run keeps its own copies of every input
(``inputs/``) and each cell's seed is derived from the study seed and the cell's coordinates, so the
personas, their renderings and the cells can be rebuilt exactly. What a repair does, and only where the
check before it fails:

- **responses.sqlite** missing, empty, not SQLite, failing ``quick_check`` or lacking a table: the rows
  the file still holds are read page by page (:mod:`silicon_sample.store.salvage`); the design is rebuilt
  from the run's inputs and checked against every stored persona and cell that could be read (a difference
  means the inputs or the software changed: then nothing is repaired); the readable answers, sessions and
  Batch API journal rows are kept; every cell whose answer was lost is pending again, for ``resume``. The
  damaged file (and its ``-wal``/``-shm``) is kept beside the new one as ``responses.sqlite.damaged-TIME``.
- **manifest.json** missing, not JSON or lacking a section: rebuilt from the run's inputs and the
  database's sessions (the backends' descriptions and the software of earlier sessions cannot be
  recovered and are marked so); the damaged file is kept as ``manifest.json.damaged-TIME``.
- **sessions that ended without a word** (a process killed): closed as ``killed``, their end time the
  last answer they stored.
- **a run whose creation was interrupted** (a hidden ``.NAME.partial-PID`` folder and no run): the hidden
  folder of a process that is no longer running is removed, as the run was never created.
- outputs (results.csv, summary.md) of a complete run that are missing are written again; those of a
  run that is no longer complete after a repair are set aside as ``*.before-repair``.

Each repair is recorded in the manifest (``repairs``) and as a session of the run (command ``repair``).
``dry_run`` reports what would be done and changes nothing.

**A repair that is itself killed loses nothing.** The new database is built as a hidden scratch file; once
complete and checked it is renamed ``responses.sqlite.rebuilt-TIME`` (a name ``repair``, ``status`` and every
command recognise), then the damaged file's ``-wal`` and ``-shm`` and the file itself are renamed to
``responses.sqlite.damaged-TIME*``, and last the rebuilt file is renamed to ``responses.sqlite``. At every
instant a complete store sits under a recognised name: the damaged original (whose answers the scratch file
is rebuilt from again) until the rebuilt one exists, the rebuilt one after. A ``repair`` that finds a
``responses.sqlite.rebuilt-TIME`` finishes those renames first (:func:`finish_interrupted_repair`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..design.cells import CELL_COLUMNS, count_cells, draw_personas, empty_groups, iter_cells, iter_variants
from ..errors import RunStoreError, SiliconSampleError
from ..files import file_sha256, write_atomic
from ..store.run_store import (
    DB_NAME,
    INSERT_CELLS,
    MANIFEST,
    REBUILT_PREFIX,
    RESOLVED_STUDY,
    RESPONSE_COLUMNS,
    SCHEMA,
    TABLES,
    RunStore,
    check_database,
    check_manifest,
    close_open_sessions,
    now,
)
from ..store.salvage import salvage
from .manifest import build_manifest, environment


@dataclass
class RepairReport:
    """What a repair found and did (or, in a dry run, would do)."""

    run_dir: Path
    findings: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    answers_kept: int | None = None
    answers_lost: int | None = None
    cells_pending: int | None = None
    kept_as: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def repaired(self) -> bool:
        return bool(self.actions)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _problem(check, path: Path) -> str | None:
    if not path.is_file():
        return f"{path.name} is missing"
    try:
        check(path)
    except RunStoreError as exc:
        return exc.what
    return None


def repair_run(run_dir: str | Path, *, dry_run: bool = False) -> RepairReport:
    """Check a run and repair what can be repaired safely (see the module docstring)."""
    run_dir = Path(run_dir)
    report = RepairReport(run_dir=run_dir, dry_run=dry_run)
    if not run_dir.is_dir():
        return _never_created(run_dir, report)
    if not (run_dir / RESOLVED_STUDY).is_file():
        raise RunStoreError(f"cannot repair: the run's copy of its study ({RESOLVED_STUDY}) is missing",
                            where=str(run_dir), fix="give the directory that `silicon-sample run --out` created")
    store = RunStore(run_dir)
    with store.lock():
        from .execute import load_run_study  # the runner's loader, imported late: it imports the backends

        finish_interrupted_repair(run_dir, report)

        try:
            study = load_run_study(store)
        except SiliconSampleError as exc:
            raise RunStoreError(f"cannot repair: the run's copy of its study cannot be read ({exc.what})",
                                where=str(run_dir / RESOLVED_STUDY), fix="restore the run's inputs/ folder") from None
        database_problem = _problem(check_database, run_dir / DB_NAME)
        manifest_problem = _problem(check_manifest, run_dir / MANIFEST)
        stamp = _stamp()
        if database_problem:
            report.findings.append(database_problem)
            _rebuild_database(store, study, report, stamp)
        else:
            open_sessions = store.db.execute("SELECT COUNT(*) FROM sessions WHERE finished_at IS NULL").fetchone()[0]
            if open_sessions:
                report.findings.append(f"{open_sessions} session(s) ended without a word (the process was killed)")
                report.actions.append("closed them as 'killed', ending at the last answer each stored")
                if not dry_run:
                    close_open_sessions(store.db)
        if manifest_problem:
            report.findings.append(manifest_problem)
            report.actions.append(f"rebuilt {MANIFEST} from the run's inputs and the database's sessions")
            if not dry_run:
                _rebuild_manifest(store, study, stamp, report)
        if not dry_run and (run_dir / DB_NAME).is_file():
            _sync_sessions(store)
        pending = store.count_pending() if (run_dir / DB_NAME).is_file() and not (dry_run and database_problem) \
            else report.cells_pending
        report.cells_pending = pending
        _outputs(store, report, pending, stamp)
        if report.actions and not dry_run:
            _record(store, report)
    store.close()
    return report


def _never_created(run_dir: Path, report: RepairReport) -> RepairReport:
    partial = sorted(run_dir.parent.glob(f".{run_dir.name}.partial-*")) if run_dir.parent.is_dir() else []
    if not partial:
        raise RunStoreError("run directory not found", where=str(run_dir), fix="check the path")
    for folder in partial:
        pid = folder.name.rsplit("-", 1)[-1]
        if pid.isdigit() and Path(f"/proc/{pid}").exists():
            raise RunStoreError("this run is being created by a running process", where=str(folder),
                                fix=f"wait for process {pid} to finish")
        report.findings.append(f"the run was never created: its creation stopped (a hidden folder {folder.name} "
                               "is left)")
        report.actions.append(f"removed {folder.name}; start the run again with `silicon-sample run`")
        if not report.dry_run:
            shutil.rmtree(folder)
    return report


class _Unsafe(RunStoreError):
    def __init__(self, what: str, where: str):
        super().__init__(f"cannot repair safely: {what}", where=where,
                         fix="the run's inputs or the software differ from those the run was made with: restore "
                             "them (see manifest.json), or start a new run; nothing was changed")


def _rebuild_database(store: RunStore, study, report: RepairReport, stamp: str) -> None:
    """A new database: the design rebuilt from the run's inputs and checked against what the damaged file
    still holds; the readable answers, sessions and batch journal kept."""
    path = store.dir / DB_NAME
    found = salvage(path) if path.is_file() and path.stat().st_size else None
    rows = found.rows if found else {}
    personas, _ = draw_personas(study)
    n_cells = count_cells(study, len(personas))
    target = store.dir / f".{DB_NAME}.repairing"
    target.unlink(missing_ok=True)
    db = sqlite3.connect(target)
    try:
        with db:
            db.executescript(SCHEMA)
            attribute_columns = [c for c in personas.columns if c not in ("persona_id", "weight", "source_row")]
            new_personas = [(row["persona_id"], json.dumps({c: row[c] for c in attribute_columns}),
                             float(row["weight"]), int(row["source_row"]) if "source_row" in row else None)
                            for row in personas.to_dict(orient="records")]
            _check_same(rows.get("personas", []), new_personas, "persona", compare=lambda a, b: (
                json.loads(a[1]) == json.loads(b[1]) and abs(a[2] - b[2]) < 1e-9), where=str(path))
            db.executemany("INSERT INTO personas VALUES (?, ?, ?, ?)", new_personas)
            stored_variants = {tuple(r[:3]): r for r in rows.get("persona_variants", []) if len(r) == 6}
            for chunk in iter_variants(study, personas):
                values = list(chunk[["persona_id", "persona_style", "cue_type", "name", "cued_attributes",
                                     "persona_text"]].itertuples(index=False, name=None))
                for value in values:
                    old = stored_variants.get(tuple(value[:3]))
                    if old is not None and old[5] != value[5]:
                        raise _Unsafe(f"persona {value[0]} renders differently from the stored text", str(path))
                db.executemany("INSERT INTO persona_variants VALUES (?, ?, ?, ?, ?, ?)", values)
            # runs made before blocks and perturbations stored 11 columns: those are compared on them
            stored_cells = {r[0]: r for r in rows.get("cells", []) if len(r) in (11, len(CELL_COLUMNS))}
            matched = 0
            for chunk in iter_cells(study, personas):
                for cell in chunk:
                    old = stored_cells.get(cell[0])
                    if old is not None:
                        if tuple(old) != cell[:len(old)]:
                            raise _Unsafe(f"cell {cell[0]} is not the cell the run stored", str(path))
                        matched += 1
                db.executemany(INSERT_CELLS, chunk)
            if matched != len(stored_cells):
                raise _Unsafe(f"{len(stored_cells) - matched} stored cells are not in the design rebuilt from the "
                              "run's inputs", str(path))
            db.execute("CREATE TEMP TABLE salvaged AS SELECT * FROM responses WHERE 0")
            width = len(RESPONSE_COLUMNS)      # a format-1 row has the first 13 columns: the value a code
            db.executemany(f"INSERT INTO salvaged VALUES ({', '.join('?' * width)})",
                           [(*r, *(None,) * (width - len(r))) for r in rows.get("responses", [])
                            if len(r) in (13, width)])
            db.execute("INSERT OR IGNORE INTO responses SELECT s.* FROM salvaged s JOIN cells USING (cell_id)")
            kept = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
            db.executemany("INSERT OR IGNORE INTO sessions VALUES (?, ?, ?, ?, ?)",
                           [r for r in rows.get("sessions", []) if len(r) == 5])
            journal_lost = _copy_other_tables(db, found)
            close_open_sessions(db)
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":       # pragma: no cover - a new database written by SQLite itself
            raise RunStoreError(f"the rebuilt database fails SQLite's integrity check: {check}", where=str(target),
                                fix="report this as a bug; nothing was changed")
    except BaseException:
        db.close()
        target.unlink(missing_ok=True)
        raise
    db.close()
    recorded = _recorded_answers(store)
    report.answers_kept = kept
    report.answers_lost = max(recorded - kept, 0) if recorded is not None else None
    report.cells_pending = n_cells - kept
    lost = (f"{report.answers_lost} answers could not be read" if report.answers_lost is not None
            else "how many answers were lost is unknown (the manifest does not say)")
    readable = ("nothing could be read from it" if not found or not found.schema_readable
                else f"{found.unreadable_pages} pages could not be read")
    report.findings.append(f"{DB_NAME}: {readable}; {kept} answers kept, {lost}")
    report.actions.append(f"rebuilt {DB_NAME}: the design from the run's inputs ({n_cells} cells, checked against "
                          f"the {len(stored_cells)} stored cells that could be read), {kept} answers kept; "
                          f"{n_cells - kept} cells pending for `silicon-sample resume {store.dir}`")
    if journal_lost:
        report.findings.append(f"{journal_lost} Batch API journal rows could not be read: cells of those batches "
                               "may be sent in a batch again (their answers are still stored once)")
    if report.dry_run:
        target.unlink()
        return
    store.close()
    _durable(target)
    rebuilt = store.dir / f"{REBUILT_PREFIX}{stamp}"
    os.rename(target, rebuilt)             # from here on the complete rebuilt store has a recognised name
    _durable(store.dir)
    _swap_in(store.dir, rebuilt, report)


def _durable(path: Path) -> None:
    """fsync a file or folder, so that a rename after it never reaches the disk before the data does."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _swap_in(run_dir: Path, rebuilt: Path, report: RepairReport) -> None:
    """Keep the damaged database (WAL and shared memory first: a WAL left under the live name would be
    replayed into the new file) as ``responses.sqlite.damaged-TIME*``, then put the rebuilt one in place."""
    stamp = rebuilt.name[len(REBUILT_PREFIX):]
    for suffix in ("-wal", "-shm", "-journal", ""):
        damaged = run_dir / f"{DB_NAME}{suffix}"
        if damaged.exists():
            kept_as = run_dir / f"{DB_NAME}.damaged-{stamp}{suffix}"
            os.rename(damaged, kept_as)
            if not suffix:
                report.kept_as.append(kept_as.name)
    os.rename(rebuilt, run_dir / DB_NAME)
    _durable(run_dir)


def finish_interrupted_repair(run_dir: Path, report: RepairReport) -> None:
    """A repair killed after its rebuilt database was complete left ``responses.sqlite.rebuilt-TIME``: finish
    its renames (the damaged file kept, the rebuilt one put in place); a dry run only says so."""
    for rebuilt in sorted(Path(run_dir).glob(f"{REBUILT_PREFIX}*")):
        report.findings.append(f"an earlier repair was interrupted after it had rebuilt the database ({rebuilt.name})")
        report.actions.append(f"finished it: {rebuilt.name} is {DB_NAME} again, the damaged file kept beside it")
        if not report.dry_run:
            try:
                check_database(rebuilt)
            except RunStoreError:
                raise RunStoreError(f"{rebuilt.name}, left by an interrupted repair, is not a complete database",
                                    where=str(rebuilt), fix=f"move it aside and run `silicon-sample repair "
                                                            f"{run_dir}` again") from None
            _swap_in(Path(run_dir), rebuilt, report)


def _check_same(stored: list[tuple], rebuilt: list[tuple], what: str, compare, where: str) -> None:
    """Every stored row that could be read is the row the rebuilt design has under its id."""
    by_id = {row[0]: row for row in rebuilt}
    for row in stored:
        if len(row) == 4 and (row[0] not in by_id or not compare(row, by_id[row[0]])):
            raise _Unsafe(f"{what} {row[0]} is not the {what} the run's inputs give", where)


def _copy_other_tables(db: sqlite3.Connection, found) -> int:
    """Tables beyond the run's own (the Batch API journal) re-created from their stored statements with the
    rows that could be read; returns how many of their rows could not be (0 when none is known lost)."""
    if found is None:
        return 0
    lost = 0
    for name, sql in found.sql.items():
        if name in TABLES or not sql.upper().startswith("CREATE TABLE"):
            continue
        db.execute(sql.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1)
                   if "IF NOT EXISTS" not in sql.upper() else sql)
        width = len(db.execute(f'SELECT * FROM "{name}" LIMIT 0').description)
        good = [r for r in found.rows[name] if len(r) == width]
        lost += len(found.rows[name]) - len(good)
        db.executemany(f'INSERT OR IGNORE INTO "{name}" VALUES ({", ".join("?" * width)})', good)
    if found.unreadable_pages and any(name not in TABLES for name in found.sql):
        lost = max(lost, 1)
    return lost


def _recorded_answers(store: RunStore) -> int | None:
    """Answers the run had stored when its last session ended, as its manifest tells (``answers_stored``)."""
    try:
        manifest = json.loads((store.dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    counts = manifest.get("answers_stored") if isinstance(manifest, dict) else None
    return int(counts) if isinstance(counts, int) else None


def _rebuild_manifest(store: RunStore, study, stamp: str, report: RepairReport) -> None:
    path = store.dir / MANIFEST
    personas, weights = draw_personas(study)
    models = {m.id: {**m.model_dump(), "description": "not recorded: the manifest was rebuilt by repair"}
              for m in study.models}
    manifest = build_manifest(study, models, n_personas=len(personas), n_cells=count_cells(study, len(personas)),
                              weights=weights, sampling_warnings=empty_groups(study, personas))
    manifest["created_with"] = {"note": "not recorded: the manifest was rebuilt by repair"}
    copy = store.dir / "study.yaml"        # the study file as given, kept verbatim; its original path is lost
    manifest["study"].update(file=f"{copy} (the run's copy: the original path was not recoverable)",
                             sha256=file_sha256(copy) if copy.is_file() else None)
    manifest["rebuilt_by_repair"] = now()
    if path.exists():
        kept_as = store.dir / f"{MANIFEST}.damaged-{stamp}"
        os.link(path, kept_as)             # the damaged file keeps its name until the new one replaces it
        report.kept_as.append(kept_as.name)
    write_atomic(path, json.dumps(manifest, indent=2))


def _sync_sessions(store: RunStore) -> None:
    """The manifest's sessions agree with the database's (outcome and end of each)."""
    sessions = store.sessions().to_dict(orient="records")
    manifest = store.manifest()
    listed = {entry.get("session"): entry for entry in manifest.get("sessions", [])}
    for row in sessions:
        entry = listed.setdefault(row["session"], {"session": row["session"], "command": row["command"],
                                                   "started_at": row["started_at"]})
        entry.update(finished_at=row["finished_at"], outcome=row["outcome"])
    store.update_manifest(sessions=[listed[k] for k in sorted(listed)])


def _outputs(store: RunStore, report: RepairReport, pending: int | None, stamp: str) -> None:
    outputs = [store.dir / name for name in ("results.csv", "summary.md")]
    if pending:
        stale = [p for p in outputs if p.exists()]
        if stale:           # written when the run was complete: stale now that cells are pending again
            report.actions.append(f"set aside {', '.join(p.name for p in stale)} (written when the run was complete) "
                                  "as *.before-repair")
            if not report.dry_run:
                for p in stale:
                    os.rename(p, p.with_name(f"{p.name}.before-repair-{stamp}"))
        return
    if pending == 0 and not all(p.exists() for p in outputs):
        report.findings.append("the run is complete but its results.csv or summary.md is missing")
        report.actions.append("wrote results.csv and summary.md")
        if not report.dry_run:
            from ..report.summary import write_outputs

            write_outputs(store)


def _record(store: RunStore, report: RepairReport) -> None:
    with store.db:
        store.db.execute("INSERT INTO sessions (command, started_at, finished_at, outcome) VALUES (?, ?, ?, ?)",
                         ("repair", now(), now(), "repaired"))
    manifest = store.manifest()
    manifest.setdefault("repairs", []).append({
        "at": now(), "software": environment(), "findings": report.findings, "actions": report.actions,
        "answers_kept": report.answers_kept, "answers_lost": report.answers_lost,
        "damaged_files_kept_as": report.kept_as})
    store.update_manifest(repairs=manifest["repairs"])
    _sync_sessions(store)
    with contextlib.suppress(OSError):
        os.sync()


__all__ = ["RepairReport", "repair_run"]
