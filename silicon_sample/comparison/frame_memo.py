"""Figures of one DataFrame computed once while the frame lives: the human side of a comparison.

The anchors compare one human baseline with hundreds of resampled and floor samples
(:mod:`.anchors`); the human side of every figure — its item distributions and moments, its subgroup moments
and contrasts, its correlation matrix — is the same each time. :func:`memo` keeps such a result under the
frame's identity and a key naming what was computed (with every argument it depends on, the weights'
content included: :func:`weights_key`), and forgets it when the frame is garbage-collected.

Frames are taken as unchanged while they live: the comparison never modifies its inputs (pandas has no cheap
content hash to check it; ``pd.util.hash_pandas_object`` costs as much as most of the figures it would save).
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable, Hashable

import numpy as np
import pandas as pd

_memos: dict[int, tuple[weakref.ref, dict]] = {}


def _forget(frame_id: int, ref: weakref.ref) -> None:
    entry = _memos.get(frame_id)
    if entry is not None and entry[0] is ref:
        del _memos[frame_id]


def memo[T](frame: pd.DataFrame, key: Hashable, compute: Callable[..., T], *args) -> T:
    """``compute(*args)`` for ``frame`` and ``key``, computed once while ``frame`` lives (``key`` names
    everything the result depends on besides the frame).

    Examples
    --------
    >>> frame = pd.DataFrame({"x": [1.0, 2.0]})
    >>> memo(frame, ("mean", "x"), lambda f: f["x"].mean(), frame)
    1.5
    >>> memo(frame, ("mean", "x"), lambda f: 0.0, frame)          # kept: not computed again
    1.5
    """
    entry = _memos.get(id(frame))
    if entry is None or entry[0]() is not frame:
        ref = weakref.ref(frame)
        weakref.finalize(frame, _forget, id(frame), ref)
        entry = (ref, {})
        _memos[id(frame)] = entry
    results = entry[1]
    if key not in results:
        results[key] = compute(*args)
    return results[key]


def weights_key(weights) -> str:
    """A short digest of a weight vector's values (a memo key part)."""
    w = np.ascontiguousarray(np.asarray(weights, dtype=float))
    return hashlib.blake2b(w.tobytes(), digest_size=16).hexdigest()


def ranges_key(ranges) -> Hashable:
    """Item ranges (one ``(min, max)``, ``{item: (min, max)}`` or None) as a memo key part."""
    if isinstance(ranges, dict):
        return tuple((item, tuple(bounds)) for item, bounds in sorted(ranges.items()))
    return None if ranges is None else tuple(ranges)


__all__ = ["memo", "ranges_key", "weights_key"]
