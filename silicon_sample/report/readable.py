"""Numbers as a reader wants them: counts as integers, other figures to a few digits, means with intervals.

Used by every table the package prints or writes for reading (summary.md, the CLI's tables); the CSV
files keep full precision.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COUNT_NAMES = ("n", "count", "cells", "respondents", "kept", "df", "effects")


def is_count_column(name) -> bool:
    name = str(name)
    return name in COUNT_NAMES or name.startswith(("n_", "cells_")) or name.endswith(("_n", "_count"))


def readable_table(frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """``frame`` with count columns (n, n_human, count, cells, …) as integers and other floats rounded."""
    frame = frame.copy()
    for column in frame.columns:
        series = frame[column]
        if not pd.api.types.is_float_dtype(series):
            continue
        whole = series.dropna()
        if is_count_column(column[-1] if isinstance(column, tuple) else column) and \
                (whole == np.round(whole)).all():
            frame[column] = series.round().astype("Int64")
        else:
            frame[column] = series.round(digits)
    return frame


def estimate_with_interval(value, low, high) -> str:
    """An estimate with its interval in one cell, as a page shows it: ``3.41 [3.05, 3.77]`` (``—`` when missing,
    the estimate alone when it has no interval)."""
    if pd.isna(value):
        return "—"
    return f"{value:.2f} [{low:.2f}, {high:.2f}]" if pd.notna(low) and pd.notna(high) else f"{value:.2f}"


def mean_with_interval(values: pd.Series, level: float = 0.95) -> tuple[int, float, float, float, float]:
    """(n, mean, low, high, sd) of the non-missing values, unweighted: the t interval of
    :func:`silicon_sample.comparison.item_fidelity.mean_interval`, SD with N − 1; the interval is NaN below
    two values."""
    from ..comparison.item_fidelity import mean_interval

    x = pd.to_numeric(values, errors="coerce").dropna().to_numpy(float)
    n = len(x)
    if n == 0:
        return 0, np.nan, np.nan, np.nan, np.nan
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else np.nan
    low, high = mean_interval(mean, sd, n, level)
    return n, mean, low, high, sd


def describe_means(frame: pd.DataFrame, by: list[str], column: str) -> pd.DataFrame:
    """Per group: n, mean with its 95 % t interval (mean_ci_low, mean_ci_high), sd (N − 1), median, max."""
    rows = {}
    for key, group in frame.groupby(by, sort=False):
        n, mean, low, high, sd = mean_with_interval(group[column])
        values = pd.to_numeric(group[column], errors="coerce").astype(float)
        rows[key] = {"n": n, "mean": mean, "mean_ci_low": low, "mean_ci_high": high, "sd": sd,
                     "median": float(values.median()), "max": float(values.max())}
    columns = ["n", "mean", "mean_ci_low", "mean_ci_high", "sd", "median", "max"]
    if not rows:                                 # nothing answered: an empty table with its columns
        return pd.DataFrame(columns=columns, index=pd.MultiIndex.from_tuples([], names=by)
                            if len(by) > 1 else pd.Index([], name=by[0]))
    table = pd.DataFrame.from_dict(rows, orient="index")[columns]
    table.index.names = by
    return table


def plausibility_notes(table: pd.DataFrame, label) -> list[str]:
    """Words for implausible reliability figures of a table with alpha / omega / ordinal columns: a negative
    alpha, a coefficient above 1."""
    notes = []
    for key, row in table.iterrows():
        where = label(key)
        for column in ("alpha", "ordinal_alpha", "omega_total", "ordinal_omega"):
            value = row.get(column)
            if value is None or pd.isna(value):
                continue
            if column.endswith("alpha") and value < 0:
                notes.append(f"{where}: {column} {value:.2f} is negative — the items do not hang together "
                             "(answers vary against the keys); check the keys or the model")
            elif value > 1:
                notes.append(f"{where}: {column} {value:.3g} is above 1, which a reliability cannot be — the "
                             "model behind it did not fit these answers; do not read it")
    return notes
