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

KINDS = ("instruments", "populations", "human_baselines", "templates", "studies")


def data_dir(kind: str) -> Path:
    """Return the folder holding the shipped files of one kind."""
    if kind not in KINDS:
        raise ValueError(f"unknown data kind {kind!r}; expected one of {KINDS}")
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


def resolve(
    kind: str,
    name_or_path: str | Path,
    *,
    relative_to: Path | None = None,
    suffixes: tuple[str, ...] = (".yaml", ".yml"),
) -> Path:
    """Turn a shipped name or a file path into an existing file path.

    A value that looks like a path (has a suffix or a slash) is a path, taken
    relative to ``relative_to`` (the folder of the file that names it) when not
    absolute. Anything else is the name of a shipped file of ``kind``.
    """
    text = str(name_or_path)
    if looks_like_path(text):
        path = Path(text).expanduser()
        if not path.is_absolute() and relative_to is not None:
            candidate = relative_to / path
            path = candidate if candidate.exists() or not path.exists() else path
        if not path.is_file():
            raise SpecError(
                f"{kind[:-1] if kind.endswith('s') else kind} file not found",
                where=str(path),
                fix="check the path",
            )
        return path.resolve()
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
