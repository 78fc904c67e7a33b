"""Retry and rate-limit mechanics with a virtual clock (no real waiting, no network)."""

import asyncio
import random

import pytest

from silicon_sample.backends.resilience import Failure, RateLimiter, RetryPolicy, backoff_delay, with_retries
from silicon_sample.errors import GaveUp


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    async def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_backoff_is_exponential_with_jitter_and_honours_retry_after():
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    rng = random.Random(1)
    for attempt in range(6):
        delays = [backoff_delay(attempt, policy, None, rng) for _ in range(200)]
        cap = min(8.0, 2 ** attempt)
        assert 0 <= min(delays) and max(delays) <= cap and max(delays) > 0.5 * cap
    assert backoff_delay(0, policy, 5.0, rng) >= 5.0


def test_transient_failures_are_retried_up_to_the_bound_then_reported():
    clock = Clock()
    calls = []

    async def call():
        calls.append(clock.now)
        raise ConnectionResetError("reset")

    classify = lambda exc: Failure(True, "connection reset", retry_after=2.0)
    with pytest.raises(GaveUp) as caught:
        asyncio.run(with_retries(call, classify, RetryPolicy(max_attempts=4), random.Random(0), sleep=clock.sleep))
    assert len(calls) == 4 and caught.value.attempts == 4
    assert "connection reset (after 4 attempts)" == str(caught.value)
    assert all(s >= 2.0 for s in clock.sleeps) and len(clock.sleeps) == 3


def test_final_errors_are_not_retried_and_success_returns_attempts():
    clock = Clock()
    outcomes = iter([ValueError("bad"), "ok"])

    async def flaky():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    result, attempts = asyncio.run(with_retries(flaky, lambda e: Failure(True, "x"), RetryPolicy(), random.Random(0),
                                                sleep=clock.sleep))
    assert (result, attempts) == ("ok", 2)

    async def denied():
        raise PermissionError("401")

    with pytest.raises(GaveUp) as caught:
        asyncio.run(with_retries(denied, lambda e: Failure(False, "HTTP 401"), RetryPolicy(), random.Random(0),
                                 sleep=clock.sleep))
    assert caught.value.attempts == 1


def test_rate_limiter_keeps_requests_and_tokens_per_minute():
    clock = Clock()
    limiter = RateLimiter(requests_per_minute=60, tokens_per_minute=600, clock=clock, sleep=clock.sleep)

    async def burst():
        times = []
        for _ in range(130):
            await limiter.acquire(tokens=5)
            times.append(clock.now)
        return times

    times = asyncio.run(burst())
    # Never more than 60 requests (or 600 tokens) in any 60-second window.
    for start in range(len(times)):
        window = [t for t in times if times[start] <= t < times[start] + 60 - 1e-9]
        assert len(window) <= 60
    assert times[59] == 0.0 and times[60] == pytest.approx(60.0)      # 60 at once, the 61st a minute later
    assert times[-1] == pytest.approx(120.0)

    clock2 = Clock()
    tokens = RateLimiter(tokens_per_minute=1000, clock=clock2, sleep=clock2.sleep)

    async def heavy():
        for _ in range(5):
            await tokens.acquire(tokens=500)

    asyncio.run(heavy())
    assert clock2.now == pytest.approx(120.0)    # 2 per minute: requests at 0, 0, 60, 60, 120 s


