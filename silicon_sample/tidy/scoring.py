"""Scale scores from item answers, following an instrument's keys."""

from __future__ import annotations

import pandas as pd


def scale_scores(answers: pd.DataFrame, keys: dict[str, list[str]], item_ranges: dict[str, tuple[int, int]],
                 method: str = "mean") -> pd.DataFrame:
    """Score scales from one row of item answers per respondent.

    A reverse-keyed item (psych's leading ``-``) is scored as
    ``(min + max) - answer`` on its response scale. The score is the mean (or
    sum) of the scale's answered items; items not answered are left out, as
    ``psych::scoreItems(..., impute = "none")`` does. A sum over fewer items
    than the scale has is not comparable, so with ``method="sum"`` a
    respondent missing any item of the scale gets NaN. ``{scale}_n`` counts
    the items that entered each score.

    Parameters
    ----------
    answers : DataFrame
        One column per item id, numeric answers (NaN when not answered).
    keys : dict
        ``{scale: ["-A1", "A2", ...]}``.
    item_ranges : dict
        ``{item: (min, max)}`` of each item's response scale.
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
        columns = {}
        for key in keyed:
            item = key.lstrip("-")
            values = pd.to_numeric(answers[item], errors="coerce")
            if key.startswith("-"):
                low, high = item_ranges[item]
                values = (low + high) - values
            columns[item] = values
        items = pd.DataFrame(columns)
        counts = items.notna().sum(axis=1)
        if method == "mean":
            scores = items.mean(axis=1, skipna=True)
        else:
            scores = items.sum(axis=1, min_count=1).where(counts == len(keyed))
        out[scale] = scores.astype(float)
        out[f"{scale}_n"] = counts.astype(int)
    return out
