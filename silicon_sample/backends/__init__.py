"""Answer backends: where a prompt becomes an answer.

:func:`create` makes a backend from the plain fields of a study's model entry.
"""

from __future__ import annotations

from typing import Any

from ..errors import BackendError
from .base import Backend

_SERVER_OPTIONS = {"concurrency", "top_logprobs", "max_attempts", "max_reasks", "timeout", "base_delay",
                   "requests_per_minute", "tokens_per_minute"}
OPTIONS = {
    "embedded": {"n_ctx", "n_threads", "n_batch"},
    "openai": _SERVER_OPTIONS | {"base_url", "api_key_env", "instructor_mode"},
    "ollama": _SERVER_OPTIONS | {"host", "num_ctx"},
    "openai_batch": {"base_url", "api_key_env", "completion_window", "poll_interval", "batch_size", "max_attempts",
                     "top_logprobs", "timeout"},
}
BACKENDS = tuple(OPTIONS)


def backend_class(backend: str) -> type[Backend]:
    """The class of a backend by name (imported on first use: each pulls in its client library)."""
    if backend not in OPTIONS:
        raise BackendError(f"unknown backend {backend!r}", where="models[].backend",
                           fix=f"use one of: {', '.join(BACKENDS)}")
    if backend == "embedded":
        from .embedded import EmbeddedBackend

        return EmbeddedBackend
    if backend == "openai":
        from .openai_compatible import OpenAICompatibleBackend

        return OpenAICompatibleBackend
    if backend == "openai_batch":
        from .openai_batch import OpenAIBatchBackend

        return OpenAIBatchBackend
    from .ollama_native import OllamaBackend

    return OllamaBackend


def create(backend: str, model: str | None = None, options: dict[str, Any] | None = None) -> Backend:
    """Create a backend by name (``embedded``, ``openai``, ``ollama``, ``openai_batch``) with its model and options."""
    cls = backend_class(backend)
    options = dict(options or {})
    unknown = sorted(set(options) - OPTIONS[backend])
    if unknown:
        raise BackendError(f"unknown option(s) {', '.join(unknown)} for the {backend} backend",
                           where="models[].options", fix=f"allowed: {', '.join(sorted(OPTIONS[backend]))}")
    return cls(model, **options)


__all__ = ["BACKENDS", "Backend", "OPTIONS", "backend_class", "create"]
