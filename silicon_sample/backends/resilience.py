"""The one retry and re-ask policy of every backend that calls a server, and the rate limits.

Two things are retried, and :class:`RetryPolicy` (named in every run's manifest) holds both:

- **Transport** (``max_attempts``): transient failures (HTTP 5xx, 429, timeouts, dropped connections)
  are retried with exponential backoff and full jitter, delay_k = U(0, min(max_delay,
  base_delay · 2^k)); a 429 (or 503) with ``Retry-After`` waits at least that long. Other errors
  (400, 401, 404, …) are not retried. After the last attempt the failure is recorded with its reason,
  never dropped. :func:`with_retries` (the HTTP backends) and :func:`call_with_retries` (the Batch
  API's own calls) are the two loops, the second synchronous; no client library retries by itself.
- **Re-ask** (``max_reasks``): a reply that fails the answer's validation is asked again *with the
  validation error* — the invalid reply and the error (:data:`REASK`) as the next turns, as instructor
  re-asks — up to ``max_reasks`` more times, then recorded ``invalid`` (or ``refused``). Function
  calling and Ollama run this loop here (:func:`reasks`); instructor's JSON modes run instructor's own,
  given ``max_retries = max_reasks``, which does the same. A batch of the Batch API cannot hold a
  conversation, so it never re-asks (its policy says ``max_reasks = 0``). Re-asking never means the same
  prompt again with a new seed.

How many calls are in flight is :mod:`.http_base`'s business.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..errors import GaveUp, SiliconSampleError

REASK = "Validation Error found:\n{error}\nRecall the function correctly, fix the errors"
"""The turn that asks again after an invalid reply: instructor's re-ask text (``reask_tools``)."""

TRANSPORT_RULE = ("transient failures (HTTP 5xx, 429, timeouts, dropped connections) retried with exponential "
                  "backoff and full jitter, Retry-After honoured; other errors not retried")
REASK_RULE = ("a reply that fails validation is asked again with the invalid reply and the validation error as "
              "the next turns, up to max_reasks more times, then recorded invalid or refused")


@dataclass(frozen=True)
class RetryPolicy:
    """How a backend retries: the one policy (module docstring), named in the manifest by :meth:`describe`."""

    max_attempts: int = 4          # transient failures: tries in all
    base_delay: float = 0.5        # seconds
    max_delay: float = 30.0
    max_reasks: int = 2            # invalid structured output: extra asks with the validation error
    timeout: float = 60.0          # seconds per call

    def describe(self) -> dict:
        """The policy as the manifest records it: its numbers and the two rules in words."""
        return {**self.__dict__, "transport": TRANSPORT_RULE,
                "reask": REASK_RULE if self.max_reasks else "never: an invalid reply is recorded invalid"}


def reasks(policy: RetryPolicy) -> range:
    """The asks of one request: ``ask`` 0 is the first, then up to ``max_reasks`` re-asks."""
    return range(1 + policy.max_reasks)


@dataclass(frozen=True)
class Failure:
    """How one attempt failed: can it be retried, after how long at least, and why."""

    retryable: bool
    reason: str
    retry_after: float | None = None


def backoff_delay(attempt: int, policy: RetryPolicy, retry_after: float | None, rng: random.Random) -> float:
    delay = rng.uniform(0, min(policy.max_delay, policy.base_delay * 2 ** attempt))
    return max(delay, retry_after or 0.0)


async def with_retries(call: Callable[[], Awaitable], classify: Callable[[BaseException], Failure],
                       policy: RetryPolicy, rng: random.Random,
                       sleep: Callable[[float], Awaitable] = asyncio.sleep):
    """Await ``call()``; retry transient failures per ``policy``. Returns (result, attempts)."""
    for attempt in range(policy.max_attempts):
        try:
            return await asyncio.wait_for(call(), timeout=policy.timeout), attempt + 1
        except TimeoutError:
            failure = Failure(True, f"no response within {policy.timeout:g} s")
        except SiliconSampleError:    # a setup error (the credentials refused): the run stops, no cell is failed
            raise
        except Exception as exc:  # classified below: transient or final
            failure = classify(exc)
        if not failure.retryable or attempt + 1 == policy.max_attempts:
            raise GaveUp(failure, attempt + 1)
        await sleep(backoff_delay(attempt, policy, failure.retry_after, rng))
    raise AssertionError("unreachable")


def call_with_retries(call: Callable[[], object], classify: Callable[[BaseException], Failure],
                      policy: RetryPolicy, rng: random.Random, sleep: Callable[[float], None] = time.sleep):
    """:func:`with_retries` for a synchronous call (the Batch API's uploads, creates and reads)."""
    for attempt in range(policy.max_attempts):
        try:
            return call()
        except SiliconSampleError:
            raise
        except Exception as exc:  # classified below: transient or final
            failure = classify(exc)
        if not failure.retryable or attempt + 1 == policy.max_attempts:
            raise GaveUp(failure, attempt + 1)
        sleep(backoff_delay(attempt, policy, failure.retry_after, rng))
    raise AssertionError("unreachable")


class RateLimiter:
    """Requests-per-minute and tokens-per-minute limits over a sliding 60-second window.

    :meth:`acquire` waits until the requests sent in the last 60 seconds number
    fewer than the request limit and their tokens plus this request's stay within
    the token limit, then records the request. So no 60-second window ever holds
    more than the limits (a request larger than the whole token limit waits for an
    empty window and then goes alone). ``None`` means no limit.
    """

    WINDOW = 60.0

    def __init__(self, requests_per_minute: float | None = None, tokens_per_minute: float | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], Awaitable] = asyncio.sleep):
        self.rpm, self.tpm = requests_per_minute, tokens_per_minute
        self.clock, self.sleep = clock, sleep
        self.sent: collections.deque[tuple[float, int]] = collections.deque()
        self._lock: asyncio.Lock | None = None
        self._lock_loop = None

    def _wait_needed(self, tokens: int) -> float:
        now = self.clock()
        while self.sent and self.sent[0][0] <= now - self.WINDOW:
            self.sent.popleft()
        waits = [0.0]
        if self.rpm and len(self.sent) >= self.rpm:
            waits.append(self.sent[len(self.sent) - int(self.rpm)][0] + self.WINDOW - now)
        if self.tpm and self.sent:
            used = sum(t for _, t in self.sent)
            if used + tokens > self.tpm:
                # wait until enough of the oldest requests have left the window
                excess, freed = used + tokens - self.tpm, 0
                for sent_at, t in self.sent:
                    freed += t
                    if freed >= excess:
                        waits.append(sent_at + self.WINDOW - now)
                        break
                else:
                    waits.append(self.sent[-1][0] + self.WINDOW - now)
        return max(waits)

    async def acquire(self, tokens: int = 0) -> float:
        """Wait for room for one request of ``tokens`` tokens; returns the seconds waited."""
        waited = 0.0
        loop = asyncio.get_running_loop()
        if self._lock_loop is not loop:  # the window persists across event loops; a lock cannot
            self._lock, self._lock_loop = asyncio.Lock(), loop
        async with self._lock:
            while (wait := self._wait_needed(tokens)) > 0:
                await self.sleep(wait)
                waited += wait
            self.sent.append((self.clock(), tokens))
        return waited
