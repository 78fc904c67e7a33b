"""Files written whole, and the hashes that identify files and texts.

Every file the package writes for a user (run files, tables, manifests) goes
through :func:`write_atomic`, so a reader sees the old content or the new one,
never half. Hashes are SHA-256, hex.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from .errors import SpecError, TooDeep

_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?:tmp|partial|old)-(?P<pid>\d+)(?:\.[^.]*)?$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(folder: Path, name: str) -> None:
    """Remove the temporaries of ``name`` in ``folder`` (``.NAME.tmp-PID``, ``.NAME.partial-PID``,
    ``.NAME.old-PID``) whose process is gone: what a SIGKILL left behind, which no ``finally`` could remove."""
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if match and match["name"] == name and int(match["pid"]) != os.getpid() and not _alive(int(match["pid"])):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def write_failure(path: Path, exc: BaseException, what: str = "the file") -> SpecError:
    """One line for a write that failed (disk full, no permission, a library's own write error)."""
    reason = getattr(exc, "strerror", None) or next(iter(str(exc).splitlines()), "") or type(exc).__name__
    try:
        nearly_full = shutil.disk_usage(Path(path).parent).free < 64 * 1024
    except OSError:
        nearly_full = False
    full = (getattr(exc, "errno", None) == errno.ENOSPC or "No space" in str(exc) or "disk is full" in str(exc)
            or nearly_full)        # a library's own error (pyreadstat's) does not say why a write failed
    return SpecError(f"cannot write {what}: {reason}; nothing was written there" if not full else
                     f"cannot write {what}: the disk is full; nothing was written there", where=str(path),
                     fix="free space on that disk, or choose a path on another" if full else
                         "choose a path in a folder you can write to, with space left")


@contextlib.contextmanager
def writing(path: Path, suffix: str = ""):
    """Yield a temporary path beside ``path``; when the block ends normally it is renamed onto ``path``
    (readers see the old content or the new, never half), on every other exit path it is removed. Write
    errors (disk full, permissions, a library's own error while writing) become one :class:`SpecError`."""
    path = Path(path)
    sweep_stale(path.parent, path.name)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except SpecError:
        raise
    except (OSError, RuntimeError, ValueError) as exc:
        raise write_failure(path, exc) from None
    except Exception as exc:      # e.g. pyreadstat's ReadstatError on a full disk
        if type(exc).__module__.split(".")[0] in ("pyreadstat", "pyarrow", "netCDF4", "h5netcdf", "xarray"):
            raise write_failure(path, exc) from None
        raise
    finally:
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see the old or the new content, never half."""
    with writing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


RENAME_EXCHANGE = 2
"""``renameat2`` flag: swap two paths atomically (Linux 3.15+)."""


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (``renameat2(RENAME_EXCHANGE)``); False where the system or
    the file system cannot, and nothing was changed."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), RENAME_EXCHANGE)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _restore_swapped_out(target: Path) -> None:
    """A swap that could not be atomic and was killed between its two renames left the earlier folder as
    ``.NAME.old-PID`` and no ``NAME``: put it back before anything else."""
    if target.exists():
        return
    for entry in sorted(target.parent.glob(f".{target.name}.old-*")):
        match = _TEMPORARY.match(entry.name)
        if match and not _alive(int(match["pid"])):
            os.rename(entry, target)
            return


@contextlib.contextmanager
def folder_swapped(target: Path):
    """Yield an empty staging folder beside ``target``; when the block ends normally the staging folder
    replaces ``target`` whole, in one atomic exchange where the system has one (an earlier folder there is
    removed only after the new one is in place), on every other exit path it is removed and ``target`` is
    untouched. A folder of analysis tables is thus never a mix of two analyses, even after a SIGKILL (the
    leftovers are hidden and swept, or put back, by the next write)."""
    target = Path(target)
    _restore_swapped_out(target)
    sweep_stale(target.parent, target.name)
    staging = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir()
        yield staging
        if not target.exists():
            os.rename(staging, target)
        elif not exchange(staging, target):         # no atomic swap here: two renames, undone if the second fails
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.rename(target, old)
            try:
                os.rename(staging, target)
            except OSError:
                os.rename(old, target)
                raise
            shutil.rmtree(old, ignore_errors=True)
    except SpecError:
        raise
    except OSError as exc:
        raise write_failure(target, exc, "the folder") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def text_sha256(text: str) -> str:
    """SHA-256 of a text's UTF-8 bytes, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


MAX_JSON_DEPTH = 200
"""The deepest nesting of a JSON file the package reads (a QSF survey goes about 10 deep, a manifest 6)."""
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def loads_json(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` after checking, without recursion, that the text nests at most ``max_depth`` deep
    (:class:`TooDeep`, a ``ValueError``, otherwise: Python's parser would fail with a RecursionError)."""
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        char = token.group()[0]
        if char in "[{":
            depth += 1
            if depth > max_depth:
                raise TooDeep(f"it nests more than {max_depth} deep")
        elif char in "]}":
            depth -= 1
    return json.loads(text)
