"""Refusals and invalid answers by persona attribute — a finding to report, not noise.

For each attribute, the share of cells that ended ``refused``, ``invalid`` or
``failed`` in each category, and a test of whether the non-answer rate differs
across categories: Pearson's χ² test of independence on the categories ×
(answered, not answered) table (scipy), with Cramér's V as its size. When an
expected count is below 5 the χ² approximation is poor, and the row says so
(``small_expected``). Failed cells are shown but not counted as the persona's
behaviour in the test (a server failure is not the model declining).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency

from ..answers import STATUSES


def nonresponse_by_attribute(long: pd.DataFrame, attributes: list[str]) -> pd.DataFrame:
    """One row per attribute × category: cells, rates of refused / invalid / failed / "Don't know"; with the
    attribute's χ² test of answered against not answered (refused, invalid or "Don't know"; a failed call says
    nothing of the persona)."""
    rows = []
    for attribute in attributes:
        frame = long[[attribute, "status"]].dropna(subset=[attribute])
        counts = pd.crosstab(frame[attribute], frame["status"])
        for status in STATUSES:
            if status not in counts.columns:
                counts[status] = 0
        behaviour = pd.DataFrame({"answered": counts["answered"],
                                  "not_answered": counts["refused"] + counts["invalid"] + counts["dont_know"]})
        behaviour = behaviour[behaviour.sum(axis=1) > 0]
        statistic = p_value = cramers_v = np.nan
        small = False
        if len(behaviour) > 1 and (behaviour > 0).any().all():
            statistic, p_value, dof, expected = chi2_contingency(behaviour.to_numpy(), correction=False)
            n = behaviour.to_numpy().sum()
            cramers_v = float(np.sqrt(statistic / n))  # 2 columns: min(r, c) - 1 = 1
            small = bool((expected < 5).any())
        for category, row in counts.iterrows():
            total = row.sum()
            rows.append({"attribute": attribute, "category": category, "cells": int(total),
                         "refused_rate": row["refused"] / total, "invalid_rate": row["invalid"] / total,
                         "failed_rate": row["failed"] / total, "dont_know_rate": row["dont_know"] / total,
                         "chi2": statistic, "p_value": p_value,
                         "cramers_v": cramers_v, "small_expected": small})
    return pd.DataFrame(rows).set_index(["attribute", "category"])


def missing_answers(long: pd.DataFrame, human: pd.DataFrame) -> pd.DataFrame:
    """Per model–persona pair and item: the silicon cells and the shares that ended refused, invalid, "Don't
    know" or failed (each a missing value in the comparison's fits), beside the humans' share of blanks for the
    item. Indexed by the pair's columns and ``item``."""
    from ..tidy.results import PAIR_COLUMNS

    rows = []
    for key, cells in long.groupby([*PAIR_COLUMNS, "item_id"], sort=False, dropna=False):
        counts = cells["status"].value_counts()
        n = len(cells)
        item = key[-1]
        row = dict(zip([*PAIR_COLUMNS, "item"], key))
        row.update({"cells": n, **{f"{status}_rate": counts.get(status, 0) / n
                                   for status in ("refused", "invalid", "dont_know", "failed")}})
        row["missing_rate_silicon"] = 1.0 - counts.get("answered", 0) / n
        row["missing_rate_human"] = (float(pd.to_numeric(human[item], errors="coerce").isna().mean())
                                     if item in human.columns else np.nan)
        rows.append(row)
    columns = [*PAIR_COLUMNS, "item", "cells", "refused_rate", "invalid_rate", "dont_know_rate", "failed_rate",
               "missing_rate_silicon", "missing_rate_human"]
    return pd.DataFrame(rows, columns=columns).set_index([*PAIR_COLUMNS, "item"])
