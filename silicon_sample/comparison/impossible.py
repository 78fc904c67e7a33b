"""Figures that cannot be what they claim are not printed as numbers: each becomes NaN with its reason.

A comparison of a small or degenerate silicon sample meets values no reader should take at face value:

- **infinite values** — a d whose pooled SD is 0 (every respondent gave the same answer), a ratio whose
  denominator is 0: undefined, so NaN, "undefined (no variance to divide by)";
- **reliabilities above 1** — alpha, omega and their ordinal versions are at most 1 by definition (the
  share of a score's variance that is true-score variance; McDonald, 1999, ch. 6). A polychoric matrix
  that is not positive definite, or a one-factor model that does not fit, can give 23.1 or 188,374: NaN,
  "impossible (a reliability is at most 1) ...". Negative alphas are possible — the items correlate
  negatively on average, often a keying error — and stay, with a note saying so.

The reasons go to the table's ``note`` column (appended to one it has), so the CSV, the terminal view and
the report all carry them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RELIABILITY_COLUMNS = ("alpha", "omega")


def _is_reliability(column: str) -> bool:
    return any(column == name or column.startswith(f"{name}_") or column.startswith(f"ordinal_{name}")
               for name in RELIABILITY_COLUMNS) and not column.endswith(("_gap", "_low", "_high", "_n"))


def flag_impossible(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with infinite values and reliabilities above 1 set to NaN, each with its reason in ``note``;
    negative reliabilities noted (kept). Unchanged when there is nothing to flag.

    Examples
    --------
    >>> t = pd.DataFrame({"d": [0.4, np.inf], "alpha_silicon": [23.1, -0.3]}, index=["a", "b"])
    >>> [note[:40] for note in flag_impossible(t)["note"]]
    ['alpha_silicon 23.1 is impossible (a reli', 'd undefined (no variance to divide by); ']
    """
    notes = pd.Series([[] for _ in range(len(table))], index=table.index, dtype=object)
    out = table.copy()
    for column in table.columns:
        values = pd.to_numeric(table[column], errors="coerce") if table[column].dtype == object else table[column]
        if not pd.api.types.is_float_dtype(values):
            continue
        infinite = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
        above = np.zeros(len(values), dtype=bool)
        negative = np.zeros(len(values), dtype=bool)
        if _is_reliability(column):
            finite = values.to_numpy(dtype=float, na_value=np.nan)
            above = np.isfinite(finite) & (finite > 1 + 1e-9)
            negative = np.isfinite(finite) & (finite < 0)
        for i in np.flatnonzero(infinite):
            notes.iloc[i].append(f"{column} undefined (no variance to divide by)")
        for i in np.flatnonzero(above):
            notes.iloc[i].append(f"{column} {values.iloc[i]:.3g} is impossible (a reliability is at most 1: the "
                                 "correlations are not positive definite or the one-factor model does not fit)")
        for i in np.flatnonzero(negative):
            notes.iloc[i].append(f"{column} {values.iloc[i]:.3g} is negative (the items correlate negatively on "
                                 "average: check the keying)")
        if infinite.any() or above.any():
            out[column] = values.where(~(infinite | above))
    if not any(notes):
        return table
    said = notes.map("; ".join)
    if "note" in out.columns:
        old = out["note"].fillna("").astype(str)
        out["note"] = [f"{o}; {n}" if o and n else (o or n) for o, n in zip(old, said)]
    else:
        out["note"] = said
    return out
