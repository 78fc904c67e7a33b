"""Files written whole, and the hashes that identify files and texts.

Every file the package writes for a user (run files, tables, manifests) goes
through :func:`write_atomic`, so a reader sees the old content or the new one,
never half. Hashes are SHA-256, hex.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .errors import SpecError


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see the old or the new content, never half."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SpecError(f"cannot write the file: {exc.strerror or exc}", where=str(path),
                        fix="choose a path in a folder you can write to, with space left") from None


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
