"""A response cache shared across runs, so an identical call is never paid twice.

The key is the SHA-256 of the backend's identity (name, base URL, model), the
call's parameters (mode, temperature, seed, max tokens, options, prefill) and
the full prompt (every message). API keys are never part of a key or a value.
Answers that came back (answered, refused, invalid) are cached; a failed call
never is. The cache lives in ``$SILICON_SAMPLE_CACHE`` or
``~/.cache/silicon-sample/responses.sqlite``; ``silicon-sample run --fresh``
bypasses it (and refreshes the entries it overwrites).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from .answers import Answer, AnswerRequest
from .backends.base import Backend


def default_path() -> Path:
    configured = os.environ.get("SILICON_SAMPLE_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "silicon-sample" / "responses.sqlite"


def cache_key(identity: dict, request: AnswerRequest) -> str:
    payload = {"backend": identity, "mode": request.mode, "temperature": request.temperature, "seed": request.seed,
               "max_tokens": request.max_tokens, "options": list(request.options), "prefill": request.prefill,
               "messages": [m.model_dump() for m in request.messages]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, answer TEXT NOT NULL)")
        self.db.commit()

    def get(self, key: str) -> Answer | None:
        row = self.db.execute("SELECT answer FROM responses WHERE key = ?", (key,)).fetchone()
        return Answer.model_validate_json(row[0]) if row else None

    def put(self, key: str, answer: Answer) -> None:
        if answer.status == "failed":
            return
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?)", (key, answer.model_dump_json()))

    def close(self) -> None:
        self.db.close()


class CachedBackend(Backend):
    """Serve a backend's answers from the cache; send only what is not there."""

    def __init__(self, backend: Backend, cache: ResponseCache, *, fresh: bool = False):
        self.backend, self.cache, self.fresh = backend, cache, fresh
        self.name = backend.name
        info = backend.describe()
        self.identity = {"backend": backend.name, "base_url": info.get("base_url"), "model": info.get("model")}
        self.hits = 0

    def answer(self, requests: Sequence[AnswerRequest]) -> Iterator[Answer]:
        keys = {r.request_id: cache_key(self.identity, r) for r in requests}
        to_send = []
        for request in requests:
            cached = None if self.fresh else self.cache.get(keys[request.request_id])
            if cached is None:
                to_send.append(request)
                continue
            self.hits += 1
            yield cached.model_copy(update={"request_id": request.request_id, "latency_s": 0.0,
                                            "reason": _note(cached.reason)})
        if not to_send:
            return
        for answer in self.backend.answer(to_send):
            self.cache.put(keys[answer.request_id], answer)
            yield answer

    def describe(self) -> dict:
        return {**self.backend.describe(), "response_cache": str(self.cache.path), "fresh": self.fresh}

    def close(self) -> None:
        self.backend.close()


def _note(reason: str | None) -> str:
    return "served from the response cache" + (f"; {reason}" if reason else "")
