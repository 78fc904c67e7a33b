"""Sample moments per group, with the checks that make a model fittable."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError


@dataclass(frozen=True)
class GroupMoments:
    """Mean vector and covariance matrix of one group. ``cov`` divides by N (ML convention)."""

    name: str
    n: int
    mean: np.ndarray
    cov: np.ndarray


def group_moments(data: pd.DataFrame, items: list[str], group: str | None = None,
                  min_cases: int | None = None) -> list[GroupMoments]:
    """Moments of ``items`` for each group (order of first appearance, as lavaan).

    Rows with any missing item are dropped (listwise deletion). Raises
    :class:`DataError` naming the item and group when an item has zero variance,
    a group has fewer complete cases than ``min_cases`` (default: items + 1), or
    the covariance matrix is not positive definite.
    """
    missing = [c for c in items + ([group] if group else []) if c not in data.columns]
    if missing:
        raise DataError(f"column(s) {', '.join(missing)} not in the data", where="data",
                        fix=f"available: {', '.join(map(str, data.columns))}")
    frame = data[items + ([group] if group else [])].dropna()
    try:
        values = frame[items].astype(float)
    except (TypeError, ValueError):
        raise DataError("items must be numeric", where="data", fix="code the answers as numbers") from None
    labels = frame[group].unique().tolist() if group else ["all"]
    need = min_cases or len(items) + 1
    out = []
    for label in labels:
        rows = values[frame[group] == label] if group else values
        where = f"group {group}={label}" if group else "data"
        if len(rows) < need:
            raise DataError(f"{len(rows)} complete cases, fewer than the {need} needed", where=where,
                            fix="collect more responses or use fewer items")
        x = rows.to_numpy()
        cov = np.cov(x, rowvar=False, bias=True)
        variances = np.diag(cov)
        for item, variance in zip(items, variances):
            if variance <= 1e-12 * max(1.0, np.abs(x).max() ** 2):
                value = rows[item].iloc[0]
                raise DataError(f"item {item} has zero variance (every answer is {value:g})", where=where,
                                fix="drop the item from the model or examine why every respondent gave one answer")
        eig = np.linalg.eigvalsh(cov / np.sqrt(np.outer(variances, variances)))
        if eig.min() <= 1e-10:
            corr = np.corrcoef(x, rowvar=False)
            np.fill_diagonal(corr, 0)
            i, j = np.unravel_index(np.abs(corr).argmax(), corr.shape)
            raise DataError(f"the covariance matrix is not positive definite (items {items[i]} and {items[j]} "
                            f"correlate {corr[i, j]:.3f}; a linear dependency)", where=where,
                            fix="drop one of the dependent items")
        out.append(GroupMoments(str(label), len(rows), x.mean(axis=0), cov))
    return out
