"""What every backend provides: the documented boundary between the engine and a model.

A backend takes an iterable of :class:`~silicon_sample.answers.AnswerRequest` —
the runner passes every pending cell of a model, read lazily — and yields one
:class:`~silicon_sample.answers.Answer` per request as each is ready, so the
caller can store answers one at a time (in-process backends answer in turn,
HTTP backends keep many calls in flight: :mod:`.http_base`). A backend reads
the next request only when it is ready to send it, so a caller that stops
the iterable stops the sending. A backend never raises for
one request: a request it cannot answer comes back with status ``failed``,
``invalid`` or ``refused`` and a reason. It knows nothing of studies, run
stores or the CLI.

To plug in a backend of your own (or a scripted one in a test), subclass
:class:`Backend` and give the runner a factory — no monkeypatching::

    ss.run("study.yaml", "runs/x", backend_factory=lambda model: MyBackend(model.model, **model.options))

``backend_factory`` is called once per model of the study with its
:class:`~silicon_sample.design.study.ModelSpec`; the default is :func:`silicon_sample.backends.create`.
A backend whose ``cacheable`` is true (it calls a server) is wrapped by the response cache.
"""

from __future__ import annotations

import abc
import socket
import urllib.parse
from collections.abc import Iterable, Iterator

from ..answers import Answer, AnswerRequest, Question
from ..errors import BackendError


class Backend(abc.ABC):
    """Base class of answer backends."""

    name: str = "backend"
    cacheable: bool = False          # True: answers come from a server and are worth caching across runs
    journaled: bool = False          # True: it submits work that outlives the process (the Batch API)

    @abc.abstractmethod
    def answer(self, requests: Iterable[AnswerRequest]) -> Iterator[Answer]:
        """Yield one answer per request, in any order."""

    @abc.abstractmethod
    def describe(self) -> dict:
        """Facts for the run manifest: model file, hash, version, settings. Never a secret."""

    def check_ready(self) -> None:  # noqa: B027 - optional hook
        """Raise :class:`~silicon_sample.errors.BackendError` when no call could succeed (credentials
        missing); called before a run directory is created, never by a dry run."""

    def check_scale(self, options: tuple[int, ...], mode: str, prefill: str | None) -> None:
        """Raise :class:`~silicon_sample.errors.BackendError` when answers on a scale with these option codes
        could not be read in ``mode`` (called for every scale of a study before anything is written).
        A server's distribution mode reads one next token per option: :func:`single_token_codes`."""
        if mode == "distribution" and self.cacheable:
            single_token_codes(options, self.name)

    def check_question(self, question: Question, mode: str) -> None:
        """Raise :class:`~silicon_sample.errors.BackendError` when answers to an item that is not single-choice
        (``question``: numeric, multiple, text, rank) could not be read in ``mode``. Sample mode asks for the
        answer under the question's JSON Schema on every backend; a distribution over numbers, option sets,
        texts or orders is no next-token reading, so by default distribution mode is refused (an in-process
        model that can score whole answers overrides this)."""
        if mode == "distribution":
            raise BackendError(f"backend {self.name} cannot read a distribution over the answers of a "
                               f"{question.type} item: its reading is one next token per option code",
                               fix="use answer_mode: sample for this model, with replicates for a distribution "
                                   "of answers")

    def check_presentation(self, presentation: str, mode: str) -> None:
        """Raise :class:`~silicon_sample.errors.BackendError` when this backend cannot put an instrument to the
        model in ``presentation`` (independent, battery, conversation) and answer ``mode``. A server's chat
        API cannot continue an assistant turn, so a battery's per-field distributions (read inside the
        object being written) need an in-process model: :attr:`continues_turns`."""
        if presentation == "battery" and mode == "distribution" and not self.continues_turns:
            raise BackendError(f"backend {self.name} cannot read a battery in distribution mode: its API returns "
                               "the next token of a new reply, not of each field inside the answer object",
                               fix="use answer_mode: sample for this model, or present the instrument "
                                   "independent or as a conversation")

    continues_turns: bool = False    # True: the backend can read the next token anywhere inside its own reply

    def reported_version(self) -> str | None:
        """The model version the server reports now, asked without a model call, in the form of
        :attr:`Answer.model_version`; ``None`` when the backend cannot say without one."""
        return None

    def attach_journal(self, journal) -> None:  # noqa: B027 - optional hook
        """A ``journaled`` backend writes what it submits to ``journal`` (the runner gives one backed by the
        run store, see :class:`silicon_sample.backends.openai_batch.BatchJournal`)."""

    def wait_for_storage(self) -> None:  # noqa: B027 - optional hook
        """The caller will call :meth:`stored` with every answer it has made durable; until then a backend
        with calls in flight counts that answer's call as in flight (so a crash loses at most
        ``concurrency`` calls). Without this call a backend frees a slot when its call returns."""

    def stored(self, answers: list[Answer]) -> None:  # noqa: B027 - optional hook
        """These answers of this backend are stored (see :meth:`wait_for_storage`); any thread."""

    def stop_waiting(self) -> None:  # noqa: B027 - optional hook
        """Ctrl-C: a backend waiting on work that outlives the process (a submitted batch) stops waiting and
        ends its stream; the work stays journaled. Backends that stop by their request iterable ignore it."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (model memory, connections)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


SCRUBBED = "***"
_TEXT_FIELDS = ("raw_output", "reason", "model_version")


def scrub(text: str | None, secret: str | None) -> str | None:
    """``text`` with every occurrence of ``secret`` replaced by ``***``."""
    return text.replace(secret, SCRUBBED) if text and secret else text


def scrubbed(answer: Answer, secret: str | None) -> Answer:
    """The answer with the secret (an API key) taken out of every text a server could echo it into: a
    server that repeats the key in a completion must not get it stored, cached, exported or printed."""
    if not secret or not any(secret in (getattr(answer, f) or "") for f in _TEXT_FIELDS):
        return answer
    return answer.model_copy(update={f: scrub(getattr(answer, f), secret) for f in _TEXT_FIELDS})


def single_token_codes(options: tuple[int, ...], backend: str) -> None:
    """A server's top log-probabilities are per token, and tokenizers split numbers differently (SmolLM2 and
    Llama 2 digit by digit): distribution mode on a server reads option codes 0–9 only."""
    bad = [v for v in options if not 0 <= v <= 9]
    if bad:
        raise BackendError(f"option code {bad[0]} cannot be read from a server's next-token log-probabilities "
                           "(one token per option: codes 0–9)", where=f"backend {backend}, scale {list(options)}",
                           fix="use answer_mode: sample for this scale, or recode its options to 0–9")


CONNECT_TIMEOUT = 5.0
"""Seconds a server may take to accept a connection when a run checks it can be reached."""


def check_url(url: str, where: str = "models[].options.base_url") -> None:
    """``url`` is an http(s) URL with a host, or a :class:`BackendError` naming it."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BackendError(f"base_url {url!r} is not an http(s) URL with a host", where=where,
                           fix="e.g. base_url: http://127.0.0.1:8000/v1")
    try:
        _ = parts.port       # urllib raises on a port out of range or not a number
    except ValueError:
        raise BackendError(f"base_url {url!r} has an invalid port", where=where,
                           fix="e.g. base_url: http://127.0.0.1:8000/v1") from None


def check_reachable(urls: list[str], timeout: float = CONNECT_TIMEOUT, where: str = "models[].options.base_url"
                    ) -> None:
    """At least one of ``urls`` accepts a TCP connection within ``timeout`` seconds, or a
    :class:`BackendError` naming each and why."""
    reasons = []
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname, port), timeout=timeout):
                return
        except OSError as exc:
            reasons.append(f"{parts.hostname}:{port} ({exc.strerror or type(exc).__name__})")
    raise BackendError(f"cannot connect to {'any server' if len(urls) > 1 else 'the server'}: {', '.join(reasons)}",
                       where=where, fix=f"start the server, or correct {where.split('.')[-1]} (nothing was written)")
