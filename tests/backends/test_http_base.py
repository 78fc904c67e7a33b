"""The pool of servers of one model (ServerPool): fewest outstanding first, a failing server rested."""

from silicon_sample.backends.http_base import ServerPool


def test_calls_go_to_the_server_with_fewest_outstanding_and_a_failing_one_rests():
    now = [0.0]
    pool = ServerPool(["a", "b"], rest_after=3, rest_seconds=30.0, clock=lambda: now[0])
    first = pool.choose()
    pool.begin(first)
    assert pool.choose() != first                        # the other has nothing outstanding
    pool.end(first, transient_failure=False)
    for _ in range(3):                                   # "a" fails transiently three times in a row
        pool.begin(0)
        pool.end(0, transient_failure=True)
    assert pool.rests == [1, 0]
    assert all(pool.choose() == 1 for _ in range(5))      # rested: every call goes to "b"
    now[0] = 31.0
    pool.calls = [0, 10]
    assert pool.choose() == 0                            # back after its rest
    pool.begin(0)
    pool.end(0, transient_failure=True)                  # one failure after a success-free rest: not rested yet
    assert pool.rests == [1, 0] and pool.describe()[0] == {"url": "a", "calls": 1, "rests": 1}


def test_with_every_server_resting_the_one_back_soonest_is_used():
    now = [0.0]
    pool = ServerPool(["a", "b"], rest_after=1, rest_seconds=10.0, clock=lambda: now[0])
    pool.begin(0)
    pool.end(0, True)
    now[0] = 5.0
    pool.begin(1)
    pool.end(1, True)
    assert pool.choose() == 0
