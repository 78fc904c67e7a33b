"""The one registry of backends: every name a study's ``backend:`` may take, and what the engine must know
of it without importing it.

The study loader (:mod:`silicon_sample.design.study`) accepts exactly the registered names, the dry run reads
how a backend is priced and whether it re-asks, the executors read which option sets a worker's threads, and
:func:`silicon_sample.backends.create` makes a backend from its entry. A backend class is imported only when
one is made (each pulls in its client library).

To add a backend, write its module (ARCHITECTURE.md, "Where a new thing goes") and add its
:class:`BackendEntry` to :data:`REGISTRY` below, or, from outside the package, :func:`register` it before
loading a study that names it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from ..errors import BackendError

SERVER_OPTIONS = frozenset({"concurrency", "top_logprobs", "max_attempts", "max_reasks", "timeout", "base_delay",
                            "requests_per_minute", "tokens_per_minute"})
"""Options of every backend built on :class:`~silicon_sample.backends.http_base.HTTPBackend`."""


@dataclass(frozen=True)
class BackendEntry:
    """What the engine knows of a backend by its name.

    ``target`` is ``"module:Class"``; ``options`` the option names a study may give it; ``reasks``: sample
    mode may ask again with the validation error (the dry run counts 1 + ``max_reasks`` asks);
    ``batch_priced``: its calls cost the provider's batch rate; ``threads_option``: the option a Dask
    worker sets to its own thread count when the study leaves it out."""

    name: str
    target: str
    options: frozenset[str]
    reasks: bool = False
    batch_priced: bool = False
    threads_option: str | None = None

    def load(self) -> type:
        """The backend's class (imported now)."""
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)


REGISTRY: dict[str, BackendEntry] = {}


def register(entry: BackendEntry) -> BackendEntry:
    """Add (or replace) a backend under ``entry.name``."""
    REGISTRY[entry.name] = entry
    return entry


for _entry in (
    BackendEntry("embedded", "silicon_sample.backends.embedded:EmbeddedBackend",
                 frozenset({"n_ctx", "n_threads", "n_batch", "chat_template"}), threads_option="n_threads"),
    BackendEntry("openai", "silicon_sample.backends.openai_compatible:OpenAICompatibleBackend",
                 SERVER_OPTIONS | {"base_url", "api_key_env", "instructor_mode", "chat_template"}, reasks=True),
    BackendEntry("ollama", "silicon_sample.backends.ollama_native:OllamaBackend",
                 SERVER_OPTIONS | {"host", "num_ctx"}, reasks=True),
    BackendEntry("openai_batch", "silicon_sample.backends.openai_batch:OpenAIBatchBackend",
                 frozenset({"base_url", "api_key_env", "completion_window", "poll_interval", "batch_size",
                            "max_attempts", "top_logprobs", "timeout"}), batch_priced=True),
):
    register(_entry)


def names() -> tuple[str, ...]:
    """The registered backend names, in the order registered."""
    return tuple(REGISTRY)


def entry(name: str, where: str = "models[].backend") -> BackendEntry:
    """The entry of a backend name; an unknown name is one clear error listing the registered ones."""
    if name not in REGISTRY:
        raise BackendError(f"unknown backend {name!r}", where=where, fix=f"use one of: {', '.join(names())}")
    return REGISTRY[name]


__all__ = ["REGISTRY", "SERVER_OPTIONS", "BackendEntry", "entry", "names", "register"]
