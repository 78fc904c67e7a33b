"""Where the shipped data files are.

The folders ``instruments/``, ``populations/``, ``human_baselines/``,
``templates/`` and ``studies/`` sit at the top of the repository and are copied
into the wheel as ``silicon_sample/_data/<folder>``. In an editable install or a
source checkout they are read from the repository itself.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import SpecError

MAX_SPEC_BYTES = 8 * 1024 * 1024
"""The largest YAML spec file read (the shipped ones are under 100 KB)."""

KINDS = ("instruments", "populations", "human_baselines", "templates", "studies")


def data_dir(kind: str) -> Path:
    """Return the folder holding the shipped files of one kind."""
    if kind not in KINDS:
        raise SpecError(f"unknown data kind {kind!r}", where="kind", fix=f"one of {', '.join(KINDS)}")
    packaged = Path(str(resources.files("silicon_sample"))) / "_data" / kind
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / kind


def shipped_names(kind: str, suffixes: tuple[str, ...] = (".yaml", ".yml")) -> list[str]:
    """Names (file stems) of the shipped files of one kind."""
    folder = data_dir(kind)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.iterdir() if p.suffix in suffixes)


def looks_like_path(name_or_path: str | Path) -> bool:
    """A value with a slash or a suffix is a path; anything else is the name of a shipped file."""
    text = str(name_or_path)
    return "/" in text or Path(text).suffix != ""


PSEUDO_FILESYSTEMS = (Path("/proc"), Path("/sys"), Path("/dev"))
"""Where no spec file is ever read from: their "files" are the state of this machine (``/proc/self/environ``
holds every environment variable, API keys included), not text somebody wrote."""


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_readable(path: Path, *, what: str = "file") -> Path:
    """``path`` resolved (links followed), refused in one line if it is not a regular file or lies in
    ``/proc``, ``/sys`` or ``/dev``."""
    resolved = Path(path).resolve()
    if any(_within(resolved, root) for root in PSEUDO_FILESYSTEMS):
        raise SpecError(f"{'spec' if what == 'file' else what} files are never read from {resolved.parents[-2]}: "
                        "its files are this machine's "
                        "state (environment variables, keys), not a spec", where=str(path),
                        fix=f"give a {what} file of your own")
    if not resolved.is_file():
        noun = "file" if what == "file" else f"{what} file"
        raise SpecError(f"{noun} not found" if not resolved.exists() else f"the {what} is not a regular file",
                        where=str(path), fix="check the path")
    return resolved


def resolve(
    kind: str,
    name_or_path: str | Path,
    *,
    relative_to: Path | None = None,
    suffixes: tuple[str, ...] = (".yaml", ".yml"),
    confined: bool = False,
    what: str | None = None,
) -> Path:
    """Turn a shipped name or a file path into an existing file path.

    A value that looks like a path (has a suffix or a slash) is a path, taken
    relative to ``relative_to`` (the folder of the file that names it) when not
    absolute. Anything else is the name of a shipped file of ``kind``. No path
    into ``/proc``, ``/sys`` or ``/dev`` is accepted. ``confined`` (templates named
    in a study or a run's inputs) also refuses a path that resolves, links followed,
    outside ``relative_to`` and the shipped files: a study passed around cannot make
    its reader render ``~/.bashrc`` or ``/etc/passwd`` into a prompt.
    """
    text = str(name_or_path)
    noun = what or (kind[:-1] if kind.endswith("s") else kind)
    if looks_like_path(text):
        path = Path(text).expanduser()
        if not path.is_absolute() and relative_to is not None:
            candidate = relative_to / path
            path = candidate if candidate.exists() or not path.exists() or confined else path
        if confined:            # checked before anything about the file is read or even probed
            resolved = path.resolve()
            roots = [Path(relative_to).resolve()] if relative_to is not None else []
            roots += [data_dir(k).resolve() for k in KINDS]
            if not any(_within(resolved, root) for root in roots):
                raise SpecError(f"a {noun} named in a study must be a shipped one or a file in the study's folder "
                                f"({roots[0] if relative_to is not None else 'none'}) or below; this one resolves "
                                f"to {resolved}", where=text,
                                fix=f"copy the {noun} into the study's folder and name it by a relative path")
        return check_readable(path, what=noun)
    folder = data_dir(kind)
    for suffix in suffixes:
        candidate = folder / f"{text}{suffix}"
        if candidate.is_file():
            return candidate
    available = ", ".join(shipped_names(kind, suffixes)) or "none"
    raise SpecError(
        f"no shipped {kind} named {text!r}",
        where=kind,
        fix=f"use one of: {available}, or give a path to a file",
    )


def read_text(path: Path, *, limit: int = MAX_SPEC_BYTES, what: str = "file") -> str:
    """A spec or template file's UTF-8 text, its size checked before it is read (one line when refused)."""
    path = check_readable(path, what=what)
    size = path.stat().st_size
    if size > limit:
        raise SpecError(f"the {what} has {size:,} bytes, more than the {limit:,} a {what} may have", where=str(path),
                        fix=f"check that this is the right file; a {what} is a short text")
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise SpecError(f"cannot read the {what} ({exc.strerror})", where=str(path), fix="check the path") from None
    if len(data) > limit:
        raise SpecError(f"the {what} has more than the {limit:,} bytes a {what} may have", where=str(path),
                        fix=f"check that this is the right file; a {what} is a short text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"the {what} is not UTF-8 text (byte {exc.start}: {exc.reason})", where=str(path),
                        fix="save it as UTF-8 text") from None
