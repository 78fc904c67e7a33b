"""Knowledge items (a question with a right answer) compared with humans: the proportion correct, overall
and within each subgroup.

Per knowledge item, a respondent who answered is correct (1) when the answer is the item's ``correct``
code and wrong (0) otherwise; "Don't know" and other non-answers are left out, as the ANES and most
knowledge scales score "Don't know" separately (Delli Carpini & Keeter, 1996, *What Americans know about
politics*, app. 3; Mondak, 2001). With weights the proportion is the weighted mean and n is Kish's
effective n. Intervals: Wilson score intervals of each proportion at that n (Wilson, 1927; Brown, Cai &
DasGupta, 2001), and the Newcombe (1998, method 10) interval of the difference silicon − human.

Examples
--------
>>> import pandas as pd
>>> human = pd.DataFrame({"k": [2, 2, 1, 2], "weight": 1.0})
>>> silicon = pd.DataFrame({"k": [1, 1, 2, 1], "weight": 1.0})
>>> row = compare_knowledge(human, silicon, {"k": 2}).loc[("k", "all", "all")]
>>> float(row["correct_human"]), float(row["correct_silicon"])
(0.75, 0.25)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..population.weighting import kish_effective_n

Z_WILSON = 1.959963984540054
"""The normal quantile of a 95 % interval, unrounded (as statsmodels' ``proportion_confint`` uses it)."""


def wilson_interval(p: float, n: float, z: float = Z_WILSON) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``p`` observed on ``n`` (NaN below one)."""
    if not n >= 1 or not np.isfinite(p):
        return np.nan, np.nan
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def newcombe_interval(p1: float, n1: float, p2: float, n2: float) -> tuple[float, float]:
    """Newcombe's hybrid score interval of p1 − p2 from the two Wilson intervals."""
    l1, u1 = wilson_interval(p1, n1)
    l2, u2 = wilson_interval(p2, n2)
    if not all(np.isfinite([l1, u1, l2, u2])):
        return np.nan, np.nan
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return float(low), float(high)


def _proportion(values: pd.Series, weights: np.ndarray, code: int) -> tuple[float, float]:
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    keep = ~np.isnan(x)
    if not keep.any():
        return np.nan, 0.0
    w = weights[keep]
    return float(np.average(x[keep] == code, weights=w)), kish_effective_n(w)


def compare_knowledge(human: pd.DataFrame, silicon: pd.DataFrame, correct: dict[str, int],
                      attributes: list[str] | None = None, categories: dict[str, list] | None = None,
                      human_weights: np.ndarray | None = None, silicon_weights: np.ndarray | None = None
                      ) -> pd.DataFrame:
    """Proportion correct per knowledge item, human beside silicon, overall (``attribute`` and ``category``
    ``all``) and within each category of ``attributes`` (module docstring for the conventions)."""
    wh = human["weight"].to_numpy(dtype=float) if human_weights is None else np.asarray(human_weights, float)
    ws = silicon["weight"].to_numpy(dtype=float) if silicon_weights is None else np.asarray(silicon_weights, float)
    groups = [("all", "all", np.ones(len(human), bool), np.ones(len(silicon), bool))]
    for attribute in attributes or ():
        for category in (categories or {}).get(attribute) or sorted(human[attribute].dropna().unique()):
            groups.append((attribute, category, (human[attribute] == category).to_numpy(),
                           (silicon[attribute] == category).to_numpy()))
    rows = {}
    for item, code in correct.items():
        for attribute, category, in_h, in_s in groups:
            ph, nh = _proportion(human.loc[in_h, item], wh[in_h], code)
            ps, ns = _proportion(silicon.loc[in_s, item], ws[in_s], code)
            low_h, high_h = wilson_interval(ph, nh)
            low_s, high_s = wilson_interval(ps, ns)
            low_d, high_d = newcombe_interval(ps, ns, ph, nh)
            rows[(item, attribute, category)] = {
                "n_human": nh, "n_silicon": ns, "correct_human": ph, "correct_human_low": low_h,
                "correct_human_high": high_h, "correct_silicon": ps, "correct_silicon_low": low_s,
                "correct_silicon_high": high_s, "diff": ps - ph, "diff_low": low_d, "diff_high": high_d}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.names = ["item", "attribute", "category"]
    return table


__all__ = ["compare_knowledge", "newcombe_interval", "wilson_interval"]
