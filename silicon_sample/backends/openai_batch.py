"""OpenAI's Batch API: a study's cells as JSONL batches, at half the price of synchronous calls.

``backend: openai_batch`` sends every pending cell of a model through the Batch API
(https://platform.openai.com/docs/guides/batch): the requests are written as JSONL lines
(``custom_id`` = the cell id), uploaded to ``/v1/files`` (``purpose=batch``), and a batch is created on
``/v1/batches`` with ``completion_window`` (``24h``); the backend then polls each batch every
``poll_interval`` seconds until it ends, and reads its output file (answers) and error file (lines
that failed). A batch holds at most ``batch_size`` lines (OpenAI allows 50,000) and 190 MB.

**The journal.** A backend knows nothing of run stores; it writes what it submits to a
:class:`BatchJournal` the runner gives it (:meth:`OpenAIBatchBackend.attach_journal`; the run store's
is :class:`silicon_sample.store.batch_journal.StoreBatchJournal`, without one an in-memory
:class:`MemoryJournal`). The order of writes makes a cell never go out twice, whenever the process dies:

1. the JSONL file is uploaded, and its file id and cells are journaled (``uploaded``);
2. the batch is created and its id journaled (``submitted``) the moment it exists;
3. on resume, a journaled file without a batch id is looked up among the server's batches by its
   input file (a crash between 2's call and its journal write); only when no batch has it is the batch
   created now. Cells in a journaled batch are never put in another one, unless the batch returns them.

**What comes back.** A line with an answer becomes an :class:`~silicon_sample.answers.Answer` as a
synchronous call's would (sample mode: the tool call is validated by the answer's pydantic contract,
:func:`~silicon_sample.answers.parse_structured`; distribution mode: the option probabilities are read
from ``top_logprobs``). A line that failed transiently (error codes such as ``batch_expired``, HTTP 429
or 5xx), and every cell of an expired, cancelled or failed batch that has no line, is *returned*: the
journal records the reason, the cell is pending again, and goes into a later batch — at most
``max_attempts`` batches per cell, after which it is recorded ``failed`` with the last reason. A line
that failed for good (HTTP 400) is recorded ``failed`` at once. Output that does not validate is
``invalid`` (or ``refused``) with its text: a batch has no re-asks (each would take another batch window).

Why not ``instructor.batch``: it takes one response model per batch and its own client, cannot carry
seeds or log-probabilities, and has no journal. The request bodies and the reading of replies are
:mod:`.tool_calls`', the same as the synchronous backend's, so a batch asks what a synchronous call asks.
"""

from __future__ import annotations

import io
import json
import os
import random
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from ..answers import Answer, AnswerRequest
from ..errors import BackendError, GaveUp, MalformedReply
from .base import Backend, check_reachable, check_url, scrub, scrubbed
from .chat_reply import parse_reply
from .openai_compatible import answer_from_reply, classify_openai_error
from .resilience import RetryPolicy, call_with_retries
from .tool_calls import logprob_body, tool_body

ENDPOINT = "/v1/chat/completions"
TERMINAL = ("completed", "expired", "cancelled", "failed")
"""States in which a batch will change no more (OpenAI's batch object)."""
MAX_FILE_BYTES = 190_000_000      # OpenAI's limit is 200 MB per input file
TRANSIENT_LINE_ERRORS = {"batch_expired", "batch_cancelled", "rate_limit_exceeded", "server_error", "timeout"}
BATCH_DISCOUNT = 0.5
"""Price of a batched call relative to a synchronous one (OpenAI, 2024–2026)."""


@dataclass
class BatchRecord:
    """A batch the journal knows of and that may still have answers to give."""

    input_file_id: str
    batch_id: str | None
    status: str
    request_ids: list[str]          # its cells that were not returned


class BatchJournal(Protocol):
    """Where a batch backend writes what it has submitted (see the module docstring); called from the
    backend's thread."""

    def open_batches(self) -> list[BatchRecord]:
        """Batches with cells still waiting for their answer (journaled by this model's backend)."""

    def uploaded(self, input_file_id: str, request_ids: list[str]) -> None:
        """The input file is on the server; the batch is not created yet."""

    def submitted(self, input_file_id: str, batch_id: str, status: str) -> None:
        """The batch exists."""

    def updated(self, input_file_id: str, status: str, completed: int, failed: int, note: str | None) -> None:
        """The batch's state as last polled (``note``: why it ended, or a polling problem)."""

    def returned(self, input_file_id: str, reasons: dict[str, str]) -> None:
        """These cells came back without an answer and are pending again, each with its reason."""

    def collected(self, input_file_id: str) -> None:
        """Every answer of the batch has been handed to the caller."""

    def submissions(self, request_ids: Iterable[str]) -> dict[str, int]:
        """How many batches each cell has been put in."""


@dataclass
class _MemoryBatch:
    batch_id: str | None
    status: str
    request_ids: list[str]
    returned: dict[str, str] = field(default_factory=dict)
    collected: bool = False


class MemoryJournal:
    """A :class:`BatchJournal` that lives as long as the backend (no run store: a notebook, a test)."""

    def __init__(self):
        self.batches: dict[str, _MemoryBatch] = {}

    def open_batches(self) -> list[BatchRecord]:
        return [BatchRecord(f, b.batch_id, b.status, [r for r in b.request_ids if r not in b.returned])
                for f, b in self.batches.items() if not b.collected]

    def uploaded(self, input_file_id, request_ids):
        self.batches[input_file_id] = _MemoryBatch(None, "uploaded", list(request_ids))

    def submitted(self, input_file_id, batch_id, status):
        self.batches[input_file_id].batch_id, self.batches[input_file_id].status = batch_id, status

    def updated(self, input_file_id, status, completed, failed, note):
        self.batches[input_file_id].status = status

    def returned(self, input_file_id, reasons):
        self.batches[input_file_id].returned.update(reasons)

    def collected(self, input_file_id):
        self.batches[input_file_id].collected = True

    def submissions(self, request_ids):
        wanted = set(request_ids)
        counts = dict.fromkeys(wanted, 0)
        for batch in self.batches.values():
            for r in batch.request_ids:
                if r in wanted:
                    counts[r] += 1
        return counts


class OpenAIBatchBackend(Backend):
    """See the module docstring. Options: ``base_url``, ``api_key_env``, ``completion_window``,
    ``poll_interval`` (s), ``batch_size`` (lines per batch), ``max_attempts`` (batches per cell),
    ``top_logprobs``, ``timeout`` (s, per HTTP call)."""

    name = "openai_batch"
    cacheable = True
    journaled = True

    def __init__(self, model: str | None, *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 completion_window: str = "24h", poll_interval: float = 60.0, batch_size: int = 50_000,
                 max_attempts: int = 3, top_logprobs: int = 20, timeout: float = 120.0):
        import instructor
        import openai

        if not model:
            raise BackendError("the openai_batch backend needs `model`", where="models[].model",
                               fix="name a model the Batch API serves, e.g. gpt-4o-mini")
        if isinstance(base_url, list):
            raise BackendError("the Batch API takes one base_url, not a pool", where="models[].options.base_url",
                               fix="give one URL (a batch is queued and spread by the provider itself)")
        for option, value, low in (("batch_size", batch_size, 1), ("max_attempts", max_attempts, 1)):
            if not isinstance(value, int) or value < low:
                raise BackendError(f"{option} must be a whole number of at least {low}, got {value!r}",
                                   where=f"models[].options.{option}", fix=f"e.g. {option}: {low}")
        if not isinstance(poll_interval, (int, float)) or poll_interval <= 0:
            raise BackendError(f"poll_interval must be a positive number of seconds, got {poll_interval!r}",
                               where="models[].options.poll_interval", fix="e.g. poll_interval: 60")
        self.model = model
        if base_url is not None and not base_url:
            raise BackendError("base_url is empty", where="models[].options.base_url",
                               fix="give the server's URL, e.g. http://127.0.0.1:8000/v1, or leave base_url out")
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        check_url(self.base_url)
        self.api_key_env = api_key_env
        self._api_key = os.environ.get(api_key_env) or None
        self.completion_window, self.poll_interval = completion_window, float(poll_interval)
        self.batch_size, self.max_attempts = batch_size, max_attempts
        self.top_logprobs, self.timeout = top_logprobs, timeout
        # the Batch API's own calls (upload, create, read): 5 tries; a batch holds no conversation, so no re-ask
        self.policy = RetryPolicy(max_attempts=5, max_reasks=0, timeout=timeout)
        self._rng = random.Random(0)
        self.journal: BatchJournal = MemoryJournal()
        self._openai, self._instructor = openai, instructor
        self._client = None
        self._closing = threading.Event()

    # -- the boundary with the runner -----------------------------------------------------------
    def check_presentation(self, presentation: str, mode: str) -> None:
        """One request per item, all submitted at once: a conversation needs each answer before the next
        question, and a battery's object is not read by the batch collector."""
        if presentation != "independent":
            raise BackendError(f"the Batch API backend puts every item independently; {presentation} "
                               "presentation is not available with it",
                               where=f"model {self.model}",
                               fix="use backend: openai for this instrument's presentation, or presentation: "
                                   "independent")

    def attach_journal(self, journal: BatchJournal) -> None:
        """Write submitted batches to ``journal`` (the runner gives the run store's)."""
        self.journal = journal

    def check_ready(self) -> None:
        if self._api_key is None and "api.openai.com" in self.base_url:
            raise BackendError(f"no API key: the environment variable {self.api_key_env} is not set",
                               where=f"model {self.model}", fix=f"export {self.api_key_env}=... before running")
        check_reachable([self.base_url])

    def describe(self) -> dict:
        return {"backend": self.name, "model": self.model, "base_url": self.base_url, "model_version": None,
                "completion_window": self.completion_window, "batch_size": self.batch_size,
                "max_attempts": self.max_attempts, "retry_policy": self.policy.describe(),
                "top_logprobs": self.top_logprobs,
                "poll_interval": self.poll_interval, "openai": self._openai.__version__,
                "instructor": self._instructor.__version__}

    def stop_waiting(self) -> None:
        self._closing.set()            # the poll loop ends at its next wait; submitted batches stay journaled

    def close(self) -> None:
        self._closing.set()
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = self._openai.OpenAI(base_url=self.base_url, api_key=self._api_key or "not-needed",
                                               timeout=self.timeout, max_retries=0)
        return self._client

    # -- the requests ---------------------------------------------------------------------------
    def body(self, request: AnswerRequest) -> dict:
        """The chat completion request of one cell, as a synchronous call sends it (:mod:`.tool_calls`)."""
        if request.mode == "distribution":
            return logprob_body(request, self.model, self.top_logprobs)
        return tool_body(request, self.model)

    def _jsonl_files(self, requests: list[AnswerRequest]) -> Iterator[tuple[list[str], bytes]]:
        ids, lines, size = [], [], 0
        for request in requests:
            line = json.dumps({"custom_id": request.request_id, "method": "POST", "url": ENDPOINT,
                               "body": self.body(request)}).encode() + b"\n"
            if ids and (len(ids) >= self.batch_size or size + len(line) > MAX_FILE_BYTES):
                yield ids, b"".join(lines)
                ids, lines, size = [], [], 0
            ids.append(request.request_id)
            lines.append(line)
            size += len(line)
        if ids:
            yield ids, b"".join(lines)

    def _api(self, what: str, call):
        """One call of the Batch API, transient failures retried by the one policy (:mod:`.resilience`:
        ``self.policy``, the client itself never retries); a failure that remains stops the run with what
        was journaled kept."""
        try:
            return call_with_retries(call, lambda exc: classify_openai_error(exc, self._openai, self._api_key),
                                     self.policy, self._rng)
        except GaveUp as exc:
            message = scrub(exc.failure.reason, self._api_key)
            raise BackendError(f"the Batch API at {self.base_url} failed to {what} after {exc.attempts} "
                               f"attempt(s): {message}",
                               where=f"model {self.model}",
                               fix="check the server and the key; batches already submitted are kept in the run "
                                   "and `silicon-sample resume` picks them up") from None

    def _submit(self, requests: list[AnswerRequest]) -> None:
        for ids, data in self._jsonl_files(requests):
            if self._closing.is_set():      # Ctrl-C: the files not yet sent stay pending
                return
            uploaded = self._api("upload the batch input file", lambda d=data: self.client.files.create(
                file=("silicon-sample-batch.jsonl", io.BytesIO(d), "application/jsonl"), purpose="batch"))
            self.journal.uploaded(uploaded.id, ids)
            self._create(uploaded.id)

    def _create(self, input_file_id: str) -> None:
        batch = self._api("create a batch", lambda: self.client.batches.create(
            input_file_id=input_file_id, endpoint=ENDPOINT, completion_window=self.completion_window,
            metadata={"client": "silicon-sample", "model": self.model}))
        self.journal.submitted(input_file_id, batch.id, batch.status)

    def _find_batch(self, input_file_id: str):
        """The server's batch made from this input file, if the create call got through before a crash."""
        for batch in self._api("list batches", lambda: self.client.batches.list(limit=100)):
            if batch.input_file_id == input_file_id:
                return batch
        return None

    # -- the stream -----------------------------------------------------------------------------
    def answer(self, requests: Iterable[AnswerRequest]) -> Iterator[Answer]:
        by_id = {r.request_id: r for r in requests}
        waiting: set[str] = set()
        for record in self.journal.open_batches():           # batches of an earlier session: re-attach
            if record.batch_id is None:
                found = self._find_batch(record.input_file_id)
                if found is None:
                    self._create(record.input_file_id)
                else:
                    self.journal.submitted(record.input_file_id, found.id, found.status)
            waiting.update(record.request_ids)
        self._submit([r for rid, r in by_id.items() if rid not in waiting])
        while not self._closing.is_set():
            open_batches = self.journal.open_batches()
            if not open_batches:
                return
            again: list[AnswerRequest] = []
            for record in open_batches:
                yield from self._poll(record, by_id, again)
            if again:
                self._submit(again)
                continue
            self._closing.wait(self.poll_interval)

    def _poll(self, record: BatchRecord, by_id: dict[str, AnswerRequest], again: list) -> Iterator[Answer]:
        batch = self._api(f"read batch {record.batch_id}", lambda: self.client.batches.retrieve(record.batch_id))
        counts = batch.request_counts
        ended = batch.status in ("failed", "expired", "cancelled")
        note = scrub(_batch_errors(batch), self._api_key) if ended else None
        if batch.status != record.status or batch.status in TERMINAL:
            self.journal.updated(record.input_file_id, batch.status, getattr(counts, "completed", 0) or 0,
                                 getattr(counts, "failed", 0) or 0, note)
        if batch.status not in TERMINAL:
            return
        lines = {}
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id:
                text = self._api(f"download file {file_id}", lambda f=file_id: self.client.files.content(f).text)
                for raw in text.splitlines():
                    try:
                        line = json.loads(raw) if raw.strip() else None
                    except ValueError:
                        line = None         # a damaged line: its cell has no line, and is returned
                    if isinstance(line, dict):
                        lines.setdefault(line.get("custom_id"), line)
        returned: dict[str, str] = {}
        for request_id in record.request_ids:
            request = by_id.get(request_id)
            if request is None:              # answered in an earlier session (or no longer asked)
                continue
            line = lines.get(request_id)
            if line is None:
                returned[request_id] = f"batch {batch.status} before answering" + (f": {note}" if note else "")
                continue
            answer, transient = self._from_line(request, line)
            answer, transient = scrubbed(answer, self._api_key) if answer else None, scrub(transient, self._api_key)
            if transient is not None:
                returned[request_id] = transient
            else:
                yield answer
        if returned:
            self.journal.returned(record.input_file_id, returned)
            sent = self.journal.submissions(returned)
            for request_id, reason in returned.items():
                if sent[request_id] >= self.max_attempts:
                    yield Answer(request_id=request_id, status="failed",
                                 reason=f"no answer from {sent[request_id]} batch(es); last: {reason}")
                else:
                    again.append(by_id[request_id])
        self.journal.collected(record.input_file_id)

    def _from_line(self, request: AnswerRequest, line: dict) -> tuple[Answer | None, str | None]:
        """(the answer, None), or (None, why the cell goes back to pending)."""
        response, error = (v if isinstance(v, dict) else {} for v in (line.get("response"), line.get("error")))
        status_code = response.get("status_code")
        if status_code != 200:
            body = response.get("body")
            body_error = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
            code = error.get("code") or body_error.get("code") or body_error.get("type")
            message = error.get("message") or body_error.get("message") or "no message"
            reason = f"{'HTTP ' + str(status_code) if status_code else code or 'error'}: {message}"
            if status_code in (None, 408, 409, 429) or (status_code or 0) >= 500 or code in TRANSIENT_LINE_ERRORS:
                return None, reason
            return Answer(request_id=request.request_id, status="failed", reason=reason), None
        try:
            reply = parse_reply(response.get("body"))
        except MalformedReply as malformed:
            return None, f"malformed answer line: {malformed}"
        answer = answer_from_reply(request, reply)
        if answer.status == "invalid" and request.mode == "sample":
            answer = answer.model_copy(update={"reason": f"{answer.reason} (batch: no re-ask)"})
        return answer, None


def _batch_errors(batch) -> str | None:
    errors = getattr(batch, "errors", None)
    data = getattr(errors, "data", None) or []
    messages = [f"{getattr(e, 'code', None) or 'error'}: {getattr(e, 'message', '')}" for e in data[:3]]
    return "; ".join(messages) or None


__all__ = ["BATCH_DISCOUNT", "BatchJournal", "BatchRecord", "MemoryJournal", "OpenAIBatchBackend"]
