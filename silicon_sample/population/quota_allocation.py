"""Exact quota allocation by largest remainders (Hamilton's method)."""

from __future__ import annotations

import numpy as np

from ..errors import SpecError


def largest_remainder(shares, n: int, rng: np.random.Generator) -> np.ndarray:
    """Allocate ``n`` units over strata in proportion to ``shares``.

    Each stratum first gets ``floor(n * share)``; the units left over go one
    each to the strata with the largest remainders. Ties between equal
    remainders are broken at random with ``rng``, so the allocation is exact
    (sums to ``n``), never more than one unit from ``n * share`` in any stratum,
    and reproducible for a given seed.

    Parameters
    ----------
    shares : array-like of float
        Non-negative stratum weights; normalised to sum to 1.
    n : int
        Units to allocate.
    rng : numpy.random.Generator
        Breaks ties among equal remainders.

    Examples
    --------
    >>> import numpy as np
    >>> largest_remainder([0.5, 0.3, 0.2], 7, np.random.default_rng(0)).tolist()
    [4, 2, 1]
    """
    shares = np.asarray(shares, dtype=float)
    if n < 0:
        raise SpecError(f"n must be non-negative, got {n}", where="n")
    if shares.ndim != 1 or shares.size == 0 or (shares < 0).any() or shares.sum() <= 0:
        raise SpecError("shares must be a non-empty vector of non-negative numbers with a positive sum",
                        where="shares")
    exact = n * shares / shares.sum()
    counts = np.floor(exact).astype(int)
    remainders = exact - counts
    left = n - int(counts.sum())
    if left:
        tie_break = rng.random(shares.size)
        # Sort by remainder (descending), then by the random tie-breaker.
        order = np.lexsort((tie_break, -np.round(remainders, 12)))
        counts[order[:left]] += 1
    return counts
