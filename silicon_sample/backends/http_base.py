"""What the HTTP backends share: one long-lived event loop and client, a stream of calls, retries and limits.

An :class:`HTTPBackend` owns, for the whole run, one event loop on a thread of its own and one client
made inside it (so connections are reused from the first call to the last). :meth:`HTTPBackend.answer`
takes any iterable of requests — the runner passes every pending cell of a model, across personas —
and keeps up to ``concurrency`` calls in flight: a new call starts the moment one finishes, and each
answer is yielded as it arrives. Requests are read from the iterable only as slots free up, so a
caller that stops yielding requests (Ctrl-C) stops the sending, and the calls already in flight still
come back. A call that raises a setup error (a server without log-probabilities) stops the stream: the
other calls are cancelled and the error reaches the caller.

Subclasses give :meth:`~HTTPBackend.open_client` (run once, inside the loop), ``async answer_one(request)``
(one answer, using :func:`.resilience.with_retries` with :meth:`~HTTPBackend.classify`) and
:meth:`~HTTPBackend.classify`. Retry policy, rate limiter, concurrency, the pool of servers
(:class:`ServerPool`: a model may name several URLs; each attempt of a call goes to the server with the
fewest calls outstanding, a server failing repeatedly is rested) and the common manifest fields live here
once.
"""

from __future__ import annotations

import abc
import asyncio
import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator

from ..answers import Answer, AnswerRequest, failed_all
from ..errors import BackendError, GaveUp
from .base import CONNECT_TIMEOUT, Backend, check_reachable, check_url, scrubbed
from .resilience import Failure, RateLimiter, RetryPolicy

_END = object()


class ServerPool:
    """Several servers of one model: each call goes to the server with the fewest calls outstanding (ties:
    the fewest calls so far); a server whose calls fail transiently ``rest_after`` times in a row is rested
    for ``rest_seconds`` and then tried again. With every server resting, the one back soonest is used."""

    def __init__(self, urls: list[str], rest_after: int = 3, rest_seconds: float = 30.0,
                 clock=time.monotonic):
        self.urls = list(urls)
        self.rest_after, self.rest_seconds, self.clock = rest_after, rest_seconds, clock
        n = len(self.urls)
        self.outstanding, self.calls, self.failed_in_a_row = [0] * n, [0] * n, [0] * n
        self.rested_until, self.rests = [0.0] * n, [0] * n

    def choose(self) -> int:
        now = self.clock()
        awake = [i for i in range(len(self.urls)) if self.rested_until[i] <= now]
        if not awake:
            return min(range(len(self.urls)), key=lambda i: self.rested_until[i])
        return min(awake, key=lambda i: (self.outstanding[i], self.calls[i]))

    def begin(self, i: int) -> None:
        self.outstanding[i] += 1
        self.calls[i] += 1

    def end(self, i: int, transient_failure: bool) -> None:
        self.outstanding[i] -= 1
        if not transient_failure:
            self.failed_in_a_row[i] = 0
            return
        self.failed_in_a_row[i] += 1
        if self.failed_in_a_row[i] >= self.rest_after:
            self.rested_until[i] = self.clock() + self.rest_seconds
            self.failed_in_a_row[i] = 0
            self.rests[i] += 1

    def describe(self) -> list[dict]:
        return [{"url": url, "calls": calls, "rests": rests}
                for url, calls, rests in zip(self.urls, self.calls, self.rests)]


class HTTPBackend(Backend):
    """Base class of the backends that call a server (see the module docstring)."""

    cacheable = True
    secret: str | None = None         # the API key, taken out of every answer's text (base.scrubbed)

    def __init__(self, *, concurrency: int, max_attempts: int = 4, max_reasks: int = 2, timeout: float = 60.0,
                 base_delay: float = 0.5, requests_per_minute: float | None = None,
                 tokens_per_minute: float | None = None):
        if not isinstance(concurrency, int) or concurrency < 1:
            raise BackendError(f"concurrency must be a whole number of at least 1, got {concurrency!r}",
                               where="models[].options.concurrency", fix="e.g. concurrency: 16")
        self.concurrency = concurrency
        self.policy = RetryPolicy(max_attempts=max_attempts, base_delay=base_delay, max_reasks=max_reasks,
                                  timeout=timeout)
        self.limits = {"requests_per_minute": requests_per_minute, "tokens_per_minute": tokens_per_minute}
        self._limiter = RateLimiter(requests_per_minute, tokens_per_minute)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._storage_counted = 0        # 1 after wait_for_storage(): answers hold their slot until stored
        self._unstored = 0               # answers handed over, not yet stored (event-loop thread only)
        self._wake_pump = None

    # -- for subclasses --------------------------------------------------------------------------
    @abc.abstractmethod
    async def open_client(self) -> None:
        """Make the client(s), inside the backend's event loop; called once, before the first call."""

    async def close_client(self) -> None:
        """Close the client(s), inside the event loop."""

    @abc.abstractmethod
    async def answer_one(self, request: AnswerRequest) -> Answer | list[Answer]:
        """The answer (a battery: one per field); raise :class:`GaveUp` when retries are exhausted, a setup error
        to stop the run."""

    @abc.abstractmethod
    def classify(self, exc: BaseException) -> Failure:
        """Is this exception transient (retry) or final, and why."""

    def describe_common(self) -> dict:
        return {"concurrency": self.concurrency, "retry_policy": self.policy.describe(), "rate_limits": self.limits}

    def set_servers(self, urls: str | list[str]) -> None:
        """One server (a URL) or a pool (a list of URLs, :class:`ServerPool`)."""
        if isinstance(urls, str):
            urls = [urls]
        if not urls or not all(isinstance(u, str) and u for u in urls):
            raise BackendError("base_url must be a URL or a list of URLs", where="models[].options.base_url",
                               fix="e.g. base_url: [http://node1:8000/v1, http://node2:8000/v1]")
        for url in urls:
            check_url(url)
        self.pool = ServerPool(urls)

    def check_ready(self) -> None:
        """At least one server of the model accepts a connection (a TCP connect, no HTTP request): a run at
        an address where nothing listens is refused before anything is written, instead of recording every
        cell as failed."""
        check_reachable(self.pool.urls, min(self.policy.timeout, CONNECT_TIMEOUT))

    async def on_server(self, call, classify=None):
        """Await ``call(i)`` on the server :class:`ServerPool` chooses (``i`` indexes the backend's clients),
        keeping the pool's counts; a transient failure (by ``classify``, default :meth:`classify`) counts
        towards resting that server."""
        i = self.pool.choose()
        self.pool.begin(i)
        transient = False
        try:
            return await call(i)
        except Exception as exc:
            status = getattr(exc, "status_code", None) or getattr(exc.__cause__, "status_code", None)
            if status in (401, 403):
                raise self.credentials_refused(status, self.pool.urls[i]) from None
            try:
                transient = (classify or self.classify)(exc).retryable
            except Exception:  # the classifier itself says "not transport" by raising (invalid output)
                transient = False
            raise
        finally:
            self.pool.end(i, transient)

    def credentials_refused(self, status: int, url: str) -> BackendError:
        """The error that stops a run when a server answers 401 or 403: every further call would be refused
        the same way, so no cell is recorded as failed for it (they stay pending for ``resume``)."""
        variable = getattr(self, "api_key_env", None)
        key = (f"the key in ${variable}" if variable and os.environ.get(variable)
               else f"no key (${variable} is not set)" if variable else "the credentials")
        meaning = "unauthorized" if status == 401 else "forbidden"
        return BackendError(f"the server refused {key} (HTTP {status} {meaning}); the run stopped at once, every "
                            "answer stored so far is kept",
                            where=f"{url} (model {getattr(self, 'model', self.name)})",
                            fix=f"set {'$' + variable if variable else 'the credentials'} to a key this server accepts "
                                "(and that may use this model), then `silicon-sample resume RUN_DIR`")

    # -- the event loop ------------------------------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=f"{self.name}-calls", daemon=True)
                thread.start()
                try:
                    asyncio.run_coroutine_threadsafe(self.open_client(), loop).result()
                except BaseException:
                    loop.call_soon_threadsafe(loop.stop)
                    thread.join()
                    loop.close()
                    raise
                self._loop, self._thread = loop, thread
        return self._loop

    async def _timed(self, request: AnswerRequest) -> list[Answer]:
        started = time.perf_counter()
        try:
            answers = await self.answer_one(request)
        except GaveUp as gave_up:
            answers = failed_all(request, str(gave_up))
        answers = [scrubbed(a, self.secret) for a in (answers if isinstance(answers, list) else [answers])]
        for answer in answers:
            answer.latency_s = time.perf_counter() - started
        return answers

    # -- the stream ------------------------------------------------------------------------------------
    def answer(self, requests: Iterable[AnswerRequest]) -> Iterator[Answer]:
        loop = self._ensure_loop()
        answers: queue.SimpleQueue = queue.SimpleQueue()
        pump = asyncio.run_coroutine_threadsafe(self._pump(iter(requests), answers), loop)
        ended = False
        try:
            while (item := answers.get()) is not _END:
                yield from item.result()    # a setup error raised by a call stops the stream here
            ended = True
        finally:
            if not ended:                   # the caller stopped listening: cancel what is still in flight
                pump.cancel()
                # until the pump's own end: finished calls nobody will read have their errors retrieved
                deadline = time.monotonic() + self.policy.timeout
                while (left := deadline - time.monotonic()) > 0:
                    try:
                        item = answers.get(timeout=left)
                    except queue.Empty:
                        break
                    if item is _END:
                        break
                    if item.done() and not item.cancelled():
                        item.exception()

    async def _pump(self, requests: Iterator[AnswerRequest], answers: queue.SimpleQueue) -> None:
        """Keep up to ``concurrency`` calls in flight, reading a request the moment a slot frees; every
        finished call goes to ``answers`` (done tasks: the caller takes their result). After
        :meth:`wait_for_storage`, a call holds its slot until the caller says its answer is stored."""
        finished: asyncio.Queue[asyncio.Task | None] = asyncio.Queue()   # None: answers were stored
        self._wake_pump, self._unstored = finished.put_nowait, 0
        in_flight: set[asyncio.Task] = set()
        exhausted = False
        try:
            while True:
                while not exhausted and len(in_flight) + self._unstored < self.concurrency:
                    request = next(requests, None)      # the runner's lazy request builder; None at the end
                    if request is None:
                        exhausted = True
                        break
                    task = asyncio.ensure_future(self._timed(request))
                    task.add_done_callback(finished.put_nowait)
                    in_flight.add(task)
                if not in_flight and exhausted:
                    return
                task = await finished.get()      # a call ended, or answers were stored (slots held by them)
                if task is None:
                    continue
                in_flight.discard(task)
                if self._storage_counted:   # held until stored: one slot per answer (a battery holds several)
                    self._unstored += len(task.result()) if not task.cancelled() and not task.exception() else 1
                answers.put(task)
        except BaseException as exc:  # the request iterator failed, or the caller cancelled
            if not isinstance(exc, asyncio.CancelledError):
                failed: asyncio.Future = asyncio.get_running_loop().create_future()
                failed.set_exception(exc)
                answers.put(failed)
            raise
        finally:
            self._wake_pump = None
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
            answers.put(_END)

    # -- in flight until stored ------------------------------------------------------------------------
    def wait_for_storage(self) -> None:
        """From now on a call counts as in flight until :meth:`stored` is told its answer is stored, so the
        calls sent but not yet stored never exceed ``concurrency`` (what a crash can lose)."""
        self._storage_counted = 1

    def stored(self, answers: list[Answer]) -> None:
        """These answers (of this backend's calls) are stored: their slots are free (any thread)."""
        loop = self._loop
        if self._storage_counted and answers and loop is not None:
            loop.call_soon_threadsafe(self._release, len(answers))

    def _release(self, n: int) -> None:
        self._unstored = max(0, self._unstored - n)
        if self._wake_pump is not None:
            self._wake_pump(None)

    def close(self) -> None:
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.close_client(), loop).result(timeout=10)
        except BaseException:
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if not loop.is_running():
            loop.close()
