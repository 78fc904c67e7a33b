"""Answer backends: where a prompt becomes an answer.

:func:`create` makes a backend from the plain fields of a study's model entry, by its name in the one
registry (:mod:`.registry`).
"""

from __future__ import annotations

from typing import Any

from ..errors import BackendError
from .base import Backend
from .registry import REGISTRY, BackendEntry, entry, names, register


def backend_class(backend: str) -> type[Backend]:
    """The class of a backend by name (:mod:`.registry`; imported on first use)."""
    return entry(backend).load()


_WHOLE = (int,)
_NUMBER = (int, float)
RANGES: dict[str, tuple[tuple, float | None, float | None, bool]] = {
    # option: (types, lowest, highest, lowest excluded)
    "concurrency": (_WHOLE, 1, 100_000, False), "max_attempts": (_WHOLE, 1, 100, False),
    "max_reasks": (_WHOLE, 0, 10, False), "timeout": (_NUMBER, 0, 86_400, True),
    "base_delay": (_NUMBER, 0, 3_600, False), "requests_per_minute": (_NUMBER, 0, None, True),
    "tokens_per_minute": (_NUMBER, 0, None, True), "top_logprobs": (_WHOLE, 1, 20, False),
    "n_ctx": (_WHOLE, 64, 1_048_576, False), "n_threads": (_WHOLE, 1, 1024, False),
    "n_batch": (_WHOLE, 1, 65_536, False),
    "num_ctx": (_WHOLE, 64, 1_048_576, False), "batch_size": (_WHOLE, 1, 50_000, False),
    "poll_interval": (_NUMBER, 0, 86_400, True),
}
"""The range of every numeric option (checked by :func:`check_options` before anything is run)."""


def check_options(backend: str, options: dict[str, Any] | None, where: str = "models[].options") -> None:
    """Refuse unknown options and numbers out of range, with the allowed range (called by ``validate``,
    ``--dry-run`` and before a run creates its folder)."""
    allowed = entry(backend).options
    options = dict(options or {})
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise BackendError(f"unknown option(s) {', '.join(unknown)} for the {backend} backend",
                           where=where, fix=f"allowed: {', '.join(sorted(allowed))}")
    for name, value in options.items():
        if name not in RANGES or (value is None and name in ("requests_per_minute", "tokens_per_minute")):
            continue
        types, low, high, open_low = RANGES[name]
        whole = types == _WHOLE
        bad_type = isinstance(value, bool) or not isinstance(value, types)
        too_low = not bad_type and low is not None and (value <= low if open_low else value < low)
        too_high = not bad_type and high is not None and value > high
        if bad_type or too_low or too_high:
            bounds = (f"{'more than' if open_low else 'at least'} {low:g}"
                      + (f" and at most {high:g}" if high is not None else ""))
            raise BackendError(f"option {name} must be {'a whole number' if whole else 'a number'} {bounds}, "
                               f"got {value!r}", where=f"{where}.{name}", fix=f"e.g. {name}: {_EXAMPLES.get(name, 1)}")


_EXAMPLES = {"concurrency": 8, "max_attempts": 4, "max_reasks": 2, "timeout": 60, "base_delay": 0.5,
             "requests_per_minute": 500, "tokens_per_minute": 200000, "top_logprobs": 20, "n_ctx": 2048,
             "n_threads": 2, "n_batch": 512, "num_ctx": 4096, "batch_size": 50000, "poll_interval": 60}


def create(backend: str, model: str | None = None, options: dict[str, Any] | None = None) -> Backend:
    """Create a backend by its registered name (:mod:`.registry`: ``embedded``, ``openai``, ``ollama``,
    ``openai_batch``, and any added with :func:`register`) with its model and options (checked by
    :func:`check_options` first)."""
    check_options(backend, options)
    return backend_class(backend)(model, **dict(options or {}))


__all__ = ["REGISTRY", "RANGES", "Backend", "BackendEntry", "backend_class", "check_options", "create", "entry",
           "names", "register"]
