"""Reverse keying and scale scores: the one definition every table, figure and coefficient uses.

A reverse-keyed item (psych's leading ``-`` in a key) is mirrored on *its own* response scale,
``x' = (min + max) − x``, with ``min`` and ``max`` that item's lowest and highest option
(``Instrument.item_ranges()``). Items of one instrument may sit on different scales (a 1–5 item next
to a 0–10 item), so one range for every item would mirror some items wrongly; here the range is
always per item, and a single ``(min, max)`` is accepted only as shorthand for "every item on this
scale". Without any range the observed range of each item's column is used (psych's
``reverse.code`` default), which is right only when every option was chosen at least once.

References
----------
Revelle, W. psych::scoreItems and psych::reverse.code (psych 2.2.9).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import SpecError

Ranges = Mapping[str, tuple[float, float]] | tuple[float, float] | None


def item_range(ranges: Ranges, item: str, column: pd.Series) -> tuple[float, float]:
    """The ``(min, max)`` an item is mirrored on: its own entry, the shared pair, or its observed range."""
    if isinstance(ranges, Mapping):
        if item not in ranges:
            raise SpecError(f"item {item!r} has no response range to reverse-key it on", where="keys",
                            fix="give every reverse-keyed item its (min, max), e.g. Instrument.item_ranges()")
        return ranges[item]
    if ranges is not None:
        return ranges
    return float(np.nanmin(column.to_numpy())), float(np.nanmax(column.to_numpy()))


def keyed_items(data: pd.DataFrame, keys: list[str], ranges: Ranges = None) -> pd.DataFrame:
    """Item columns as floats, reverse-keyed items (leading ``-``) mirrored on their own range.

    Parameters
    ----------
    data : DataFrame
        One numeric column per item.
    keys : list of str
        ``["-A1", "A2", ...]`` (psych's convention).
    ranges : dict or (min, max), optional
        ``{item: (min, max)}`` of each item's response scale (``Instrument.item_ranges()``); one
        ``(min, max)`` for items all on one scale; default each item's observed range.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"A1": [1, 5], "B1": [0, 10]})
    >>> keyed_items(df, ["-A1", "-B1"], {"A1": (1, 5), "B1": (0, 10)}).to_numpy().tolist()
    [[5.0, 10.0], [1.0, 0.0]]
    """
    names = [k.lstrip("-") for k in keys]
    missing = [n for n in names if n not in data.columns]
    if missing:
        raise SpecError(f"item(s) {', '.join(missing)} not in the data", where="keys")
    items = data[names].apply(pd.to_numeric, errors="coerce").astype(float)
    for key, name in zip(keys, names):
        if key.startswith("-"):
            low, high = item_range(ranges, name, items[name])
            items[name] = (low + high) - items[name]
    return items


def scale_scores(answers: pd.DataFrame, keys: dict[str, list[str]], ranges: Ranges,
                 method: str = "mean") -> pd.DataFrame:
    """Score scales from one row of item answers per respondent.

    The score is the mean (or sum) of the scale's answered items after reverse keying
    (:func:`keyed_items`); items not answered are left out, as ``psych::scoreItems(..., impute =
    "none")`` does. A sum over fewer items than the scale has is not comparable, so with
    ``method="sum"`` a respondent missing any item of the scale gets NaN. ``{scale}_n`` counts the
    items that entered each score.

    Parameters
    ----------
    answers : DataFrame
        One column per item id, numeric answers (NaN when not answered).
    keys : dict
        ``{scale: ["-A1", "A2", ...]}``.
    ranges : dict or (min, max)
        ``{item: (min, max)}`` of each item's response scale (see :func:`keyed_items`).
    method : {"mean", "sum"}

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"A1": [1, 6], "A2": [6, 1]})
    >>> scale_scores(df, {"a": ["-A1", "A2"]}, {"A1": (1, 6), "A2": (1, 6)})["a"].tolist()
    [6.0, 1.0]
    """
    out = pd.DataFrame(index=answers.index)
    for scale, keyed in keys.items():
        items = keyed_items(answers, keyed, ranges)
        counts = items.notna().sum(axis=1)
        if method == "mean":
            scores = items.mean(axis=1, skipna=True)
        else:
            scores = items.sum(axis=1, min_count=1).where(counts == len(keyed))
        out[scale] = scores.astype(float)
        out[f"{scale}_n"] = counts.astype(int)
    return out


__all__ = ["Ranges", "item_range", "keyed_items", "scale_scores"]
