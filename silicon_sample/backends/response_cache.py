"""A response cache shared across runs, so an identical call is never paid twice — and a drifted model
never answers from it.

**Key.** SHA-256 of two parts, each taken whole so that a new field is part of the key by default:

- the request without its id (:meth:`AnswerRequest.model_dump` minus ``request_id``): messages, options,
  mode, temperature, seed, prefill, ``max_tokens``, ``with_reason`` and any field added later;
- the backend's description (:meth:`Backend.describe`) minus :data:`NOT_ANSWER_SHAPING`, the fields that
  say how calls are made rather than what is asked (concurrency, rate limits, attempts, delays, time-outs)
  and the model version (checked on its own, below). So the backend, model, base URL, instructor mode,
  ``top_logprobs``, ``max_reasks`` with the re-ask rule (:mod:`.resilience`: how an invalid reply is asked
  again shapes the answer) and the client libraries' versions are all in the key.

**Model version.** Each cached answer keeps the version the server reported with it
(:attr:`Answer.model_version`, also a column of the cache). A cached answer is served only when it
matches every version known now: the version the server reports without a model call
(:meth:`Backend.reported_version`: Ollama's model digest, asked once, the first time a cached answer could
be served) and the version every live answer of this run reported. A drifted model is a new model: its
cells are sent again. An OpenAI-compatible server names the version only in its answers, so there a run
whose every cell is cached cannot see a drift; a run with any new cell sends those first and checks the
cached ones against what they report (``--fresh`` sends everything).

API keys are never part of a key or a value. Answers that came back (answered, refused, invalid) are
cached; a failed call never is. The cache lives in ``$SILICON_SAMPLE_CACHE`` or
``~/.cache/silicon-sample/responses.sqlite``; ``silicon-sample run --fresh`` bypasses it (and refreshes
the entries it overwrites).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from ..answers import Answer, AnswerRequest
from .base import Backend

NOT_ANSWER_SHAPING = ("model_version", "concurrency", "rate_limits", "servers", "retry_policy.max_attempts",
                      "retry_policy.base_delay", "retry_policy.max_delay", "retry_policy.timeout",
                      "retry_policy.transport")
"""Dotted paths of :meth:`Backend.describe` fields left out of the key (see the module docstring)."""


def default_path() -> Path:
    configured = os.environ.get("SILICON_SAMPLE_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "silicon-sample" / "responses.sqlite"


def answer_shaping(description: dict) -> dict:
    """A backend's description without the fields of :data:`NOT_ANSWER_SHAPING`."""
    shaping = json.loads(json.dumps(description, default=str))   # a deep copy of plain values
    for path in NOT_ANSWER_SHAPING:
        *parents, leaf = path.split(".")
        node = shaping
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    return shaping


def cache_key(identity: dict, request: AnswerRequest) -> str:
    """The key of one call: the answer-shaping description of its backend and the request minus its id."""
    dumped = request.model_dump(mode="json", exclude={"request_id"})
    for part in (dumped, *dumped["battery"]):     # a single-choice request keys as it did before item types
        if part.get("question", 0) is None:
            del part["question"]
    payload = {"backend": identity, "request": dumped}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


class ResponseCache:
    """The SQLite file of cached answers: ``key``, the reported ``model_version``, the answer, when stored."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # one connection shared by the models of a run, each answering on its own thread
        self.db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._lock = threading.Lock()
        self.db.execute("PRAGMA journal_mode=WAL")
        # a cache may lose its last entries in a power cut (they are asked again); no fsync per answer
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS cached_answers (key TEXT PRIMARY KEY, model_version TEXT, "
                        "answer TEXT NOT NULL, stored_at TEXT NOT NULL)")
        self.db.commit()

    def get(self, key: str) -> list[Answer] | None:
        """The answers of one call (a battery's: one per field, in field order)."""
        with self._lock:
            row = self.db.execute("SELECT answer FROM cached_answers WHERE key = ?", (key,)).fetchone()
        if not row:
            return None
        value = json.loads(row[0])
        return [Answer.model_validate(a) for a in (value if isinstance(value, list) else [value])]

    def put(self, key: str, answers: Answer | list[Answer]) -> None:
        """Keep the answers of one call, unless one of them failed (a failed call is asked again)."""
        answers = answers if isinstance(answers, list) else [answers]
        if any(a.status == "failed" for a in answers):
            return
        value = answers[0].model_dump_json() if len(answers) == 1 else json.dumps(
            [a.model_dump(mode="json") for a in answers])
        with self._lock, self.db:
            self.db.execute("INSERT OR REPLACE INTO cached_answers VALUES (?, ?, ?, ?)",
                            (key, answers[0].model_version, value, datetime.now(UTC).isoformat(timespec="seconds")))

    def close(self) -> None:
        with self._lock:
            self.db.close()


class CachedBackend(Backend):
    """Serve a backend's answers from the cache when their model version still holds; send the rest."""

    def __init__(self, backend: Backend, cache: ResponseCache, *, fresh: bool = False):
        self.backend, self.cache, self.fresh = backend, cache, fresh
        self.name, self.cacheable = backend.name, backend.cacheable   # it still calls the server
        self.journaled = backend.journaled
        self.identity = answer_shaping(backend.describe())
        self.hits = 0
        self._live: dict[str, bool] = {}      # answers of the backend's calls, not yet stored
        self.live_versions: set[str] = set()    # versions reported by the answers that came back in this run
        self._server_version: str | None = None
        self._server_asked = False

    def key(self, request: AnswerRequest) -> str:
        return cache_key(self.identity, request)

    def versions_now(self) -> set[str]:
        """Every version known now: the server's own report (asked once) and those of live answers."""
        if not self._server_asked:
            self._server_version, self._server_asked = self.backend.reported_version(), True
        versions = set(self.live_versions)
        if self._server_version is not None:
            versions.add(self._server_version)
        return versions

    def answer(self, requests: Iterable[AnswerRequest]) -> Iterator[Answer]:
        """New cells stream to the backend as they are read; cache hits wait until the new cells are
        answered (their answers tell which model version the server runs now), then are served or, when
        the version changed, sent again."""
        keys: dict[str, _Call] = {}         # calls on their way: cell id -> its call (memory stays flat)
        deferred: list[tuple[AnswerRequest, list[Answer], str]] = []

        def new_cells() -> Iterator[AnswerRequest]:
            for request in requests:
                key = self.key(request)
                hit = None if self.fresh else self.cache.get(key)
                if hit is None or len(hit) != len(request.answer_ids):
                    _Call(key, request).track(keys)
                    yield request
                else:
                    deferred.append((request, hit, key))

        yield from self._send(new_cells(), keys)
        stale = []
        for request, hit, key in deferred:
            versions = self.versions_now()
            if versions and versions != {hit[0].model_version}:
                _Call(key, request).track(keys)
                stale.append(request)
                continue
            self.hits += 1
            for cell, answer in zip(request.answer_ids, hit):
                yield answer.model_copy(update={"request_id": cell, "latency_s": 0.0, "reason": _note(answer.reason)})
        yield from self._send(stale, keys)

    def _send(self, requests: Iterable[AnswerRequest], keys: dict[str, _Call]) -> Iterator[Answer]:
        for answer in self.backend.answer(requests):
            self._live[answer.request_id] = True
            if answer.status != "failed" and answer.model_version is not None:
                self.live_versions.add(answer.model_version)
            call = keys.pop(answer.request_id)
            if call.arrived(answer):
                self.cache.put(call.key, call.answers())
            yield answer

    def reported_version(self) -> str | None:
        return self.backend.reported_version()

    def check_ready(self) -> None:
        self.backend.check_ready()

    def attach_journal(self, journal) -> None:
        self.backend.attach_journal(journal)

    def check_scale(self, options, mode, prefill) -> None:
        self.backend.check_scale(options, mode, prefill)

    def check_presentation(self, presentation, mode) -> None:
        self.backend.check_presentation(presentation, mode)

    def check_question(self, question, mode) -> None:
        self.backend.check_question(question, mode)

    def stop_waiting(self) -> None:
        self.backend.stop_waiting()

    def wait_for_storage(self) -> None:
        self.backend.wait_for_storage()

    def stored(self, answers: list[Answer]) -> None:
        live = [a for a in answers if self._live.pop(a.request_id, None)]   # cache hits hold no slot
        self.backend.stored(live)

    def describe(self) -> dict:
        return {**self.backend.describe(), "response_cache": str(self.cache.path), "fresh": self.fresh}

    def close(self) -> None:
        self.backend.close()


class _Call:
    """One call's cache key and the answers it has returned so far (a battery returns one per field)."""

    def __init__(self, key: str, request: AnswerRequest):
        self.key, self.ids, self.got = key, request.answer_ids, {}

    def track(self, calls: dict[str, _Call]) -> None:
        for cell in self.ids:
            calls[cell] = self

    def arrived(self, answer: Answer) -> bool:
        """Count an answer; True when every cell of the call has its answer."""
        self.got[answer.request_id] = answer
        return len(self.got) == len(self.ids)

    def answers(self) -> list[Answer]:
        return [self.got[cell] for cell in self.ids]


def _note(reason: str | None) -> str:
    return "served from the response cache" + (f"; {reason}" if reason else "")
