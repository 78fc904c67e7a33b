"""Where an analysis may write: never onto a run's own files, an input of the command, or a file of another kind.

Every ``-o`` of ``export``, ``compare``, ``rank``, ``bayes``, ``report`` and ``import-qsf`` is checked here
before anything is computed, with symbolic links followed (a link named ``report.html`` that points at
``RUN/responses.sqlite`` is the database):

- a target inside a run folder is refused — always when it is one of the run's own files (the database, the
  manifest, the study and its inputs, the lock, the run's results and summary, a repair's files), otherwise
  unless ``force`` (a report kept beside its run);
- a target that is an input of the command (the baseline file, its data, a survey being imported) is
  refused, ``force`` or not;
- an existing file whose content is of another kind than the output (an SPSS file where HTML would go) is
  refused unless ``force``; an existing folder is replaced only when it is empty or an earlier output of the
  same analysis (its ``manifest.json`` says so).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ..errors import SpecError
from .run_store import DB_NAME, MANIFEST, RESOLVED_STUDY

RUN_FILES = (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal", MANIFEST, "study.yaml", "inputs",
             ".lock", "results.csv", "summary.md")
"""Names at the top of a run folder that belong to the run (with hidden files and ``responses.sqlite.*``:
damaged copies and a repair's work)."""

_MAGIC = ((b"SQLite format 3\x00", "sqlite"), (b"PAR1", "parquet"), (b"$FL2", "sav"), (b"$FL3", "sav"),
          (b"<stata_dta>", "dta"), (b"\x89PNG", "png"), (b"%PDF", "pdf"), (b"PK\x03\x04", "zip"),
          (b"\x89HDF", "netcdf"), (b"CDF\x01", "netcdf"), (b"CDF\x02", "netcdf"))
TEXT_KINDS = {"csv": (".csv",), "html": (".html", ".htm"), "yaml": (".yaml", ".yml"), "json": (".json",)}


def is_run_folder(folder: Path) -> bool:
    """A folder ``silicon-sample run`` made (its inputs, or its database and manifest, are there)."""
    return (folder / RESOLVED_STUDY).is_file() or ((folder / DB_NAME).exists() and (folder / MANIFEST).exists())


def run_folder_around(path: Path) -> Path | None:
    """The run folder ``path`` (resolved) lies in, or None."""
    for folder in (path, *path.parents):
        if folder.is_dir() and is_run_folder(folder):
            return folder
    return None


def is_run_file(path: Path, run: Path) -> bool:
    """Whether ``path`` (inside ``run``) is one of the run's own files."""
    if path == run:
        return True
    top = path.relative_to(run).parts[0]
    return top in RUN_FILES or top.startswith(".") or top.startswith(DB_NAME)


def file_kind(path: Path) -> str:
    """What an existing file holds, from its first bytes: a binary format's name, else ``text``."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:1] in (b"\x71", b"\x72", b"\x73", b"\x74", b"\x75", b"\x76", b"\x77") and head[1:2] in (b"\x01", b"\x02"):
        return "dta"            # Stata 8–13 files begin with their version byte and a byte order
    return "text" if b"\x00" not in head else "binary"


def _same_kind(path: Path, kind: str) -> bool:
    found = file_kind(path)
    if kind in TEXT_KINDS:
        return found == "text" and path.suffix.lower() in TEXT_KINDS[kind]
    return found == kind


def guard_output(target: str | Path, kind: str, *, inputs: Iterable[str | Path | None] = (), force: bool = False,
                 analysis: str | None = None) -> Path:
    """Check that ``target`` may receive an output of ``kind`` (``csv``, ``html``, ``yaml``, ``parquet``,
    ``sav``, ``dta``, or ``folder`` with ``analysis`` naming the analysis that writes it); return it.

    Raises :class:`SpecError` (one line: what, where, how to fix) as the module docstring says.
    """
    target = Path(target)
    resolved = target.resolve()
    for source in inputs:
        if source is not None and resolved == Path(source).resolve():
            raise SpecError(f"the output is an input of this command, or another of its outputs "
                            f"({Path(source).name}); writing it would destroy what is read or written",
                            where=str(target), fix="choose another output path")
    run = run_folder_around(resolved)
    if run is not None:
        if is_run_file(resolved, run):
            raise SpecError(f"the output would overwrite the run's own {'folder' if resolved == run else 'files'} "
                            f"({resolved.relative_to(run) if resolved != run else run.name}); a run's files are "
                            "never replaced by an analysis", where=str(target),
                            fix="write outside the run folder (e.g. beside it)")
        if not force:
            raise SpecError(f"the output is inside the run folder {run}", where=str(target),
                            fix="write outside the run folder, or give --force to keep it beside the run's files")
    if kind == "folder":
        _guard_folder(target, resolved, analysis)
        return target
    if resolved.is_dir():
        raise SpecError("the output is a folder", where=str(target), fix="give a file name")
    if not resolved.parent.is_dir():
        raise SpecError("output folder does not exist", where=str(resolved.parent), fix="create it first")
    if resolved.is_file() and not force and not _same_kind(resolved, kind):
        raise SpecError(f"the output exists and is not a {kind} file (it holds {file_kind(resolved)})",
                        where=str(target), fix="choose another output path, or give --force to replace it")
    return target


def _guard_folder(target: Path, resolved: Path, analysis: str | None) -> None:
    """A folder of tables is replaced whole, so only an empty one or an earlier output of the same analysis."""
    if resolved.exists() and not resolved.is_dir():
        raise SpecError("not a folder", where=str(target), fix="give a folder for the tables")
    if not resolved.exists():
        if not resolved.parent.is_dir():
            raise SpecError("the output folder's parent does not exist", where=str(resolved.parent),
                            fix="create it first")
        return
    if not any(resolved.iterdir()):
        return
    manifest = resolved / "manifest.json"
    try:
        earlier = json.loads(manifest.read_text(encoding="utf-8")).get("analysis") if manifest.is_file() else None
    except (OSError, ValueError, AttributeError):
        earlier = None
    if earlier != analysis:
        said = f"the output of `{earlier}`" if earlier else "files that no analysis wrote"
        raise SpecError(f"the folder holds {said}; the tables of `{analysis}` replace a folder whole, so it must be "
                        "new, empty or an earlier output of the same analysis", where=str(target),
                        fix="choose a new folder")
