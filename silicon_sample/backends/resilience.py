"""Run mechanics shared by the HTTP backends: retries with backoff, and concurrency.

Transient failures (HTTP 5xx, 429, timeouts, dropped connections) are retried
with exponential backoff and full jitter, delay_k = U(0, min(max_delay,
base_delay · 2^k)); a 429 (or 503) with ``Retry-After`` waits at least that
long. Other errors (400, 401, 404, …) are not retried. After the last attempt
the failure is returned with its reason, never dropped. How many calls are in
flight is :mod:`.http_base`'s business.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..errors import GaveUp, SiliconSampleError


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4          # transient failures: tries in all
    base_delay: float = 0.5        # seconds
    max_delay: float = 30.0
    max_reasks: int = 2            # invalid structured output: extra asks (instructor's max_retries)
    timeout: float = 60.0          # seconds per call


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
