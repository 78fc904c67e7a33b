"""Largest-remainder quota allocation: exact, within one of the quota, ties broken by the seed."""

import numpy as np

from silicon_sample.population.quota_allocation import largest_remainder


def test_largest_remainder_is_exact_and_within_one_of_the_quota():
    rng = np.random.default_rng(1)
    for _ in range(200):
        shares = rng.random(rng.integers(1, 40))
        n = int(rng.integers(0, 500))
        counts = largest_remainder(shares, n, np.random.default_rng(3))
        exact = n * shares / shares.sum()
        assert counts.sum() == n
        assert np.all(np.abs(counts - exact) < 1)
        assert np.all(counts >= np.floor(exact))


def test_largest_remainder_textbook_example():
    # Hamilton's method: 10 seats, shares .58/.26/.16 -> quotas 5.8/2.6/1.6 -> 6/2/2
    assert largest_remainder([0.58, 0.26, 0.16], 10, np.random.default_rng(0)).tolist() == [6, 2, 2]


def test_ties_are_broken_by_the_seed_reproducibly():
    a = largest_remainder([1, 1, 1, 1], 2, np.random.default_rng(5))
    b = largest_remainder([1, 1, 1, 1], 2, np.random.default_rng(5))
    assert a.tolist() == b.tolist() and a.sum() == 2
