"""Ranking model–persona pairs by how well they stand in for the humans, with a one-line reading.

Input: the tables of :func:`silicon_sample.comparison.runs.compare_run` (one run or several,
with a ``run`` column in the index or not). Output: one row per (run,) model ×
persona style × cue type with

- ``representativeness`` — mean OpinionQA representativeness over items;
- ``mean_abs_d`` — mean |d| of the scale means (of the item means when the instrument scores no scales);
- ``invariance`` — the highest measurement-invariance level reached (``not tested`` without scales);
- ``congruence`` — mean Tucker congruence over scales;
- ``reliability_gap`` — mean of alpha_silicon − alpha_human over scales (negative: less reliable);
- ``sign_agreement``, ``size_agreement``, ``d_correlation`` — pattern correspondence of subgroup differences;
- ``refusal_rate``, ``invalid_rate`` — shares of cells refused / invalid;
- ``reading`` — what the pair is fit for, from these thresholds:

  ===========================  =============================================================
  means close / somewhat off   mean |d| < 0.2 / < 0.5 (Cohen's small / medium); else far off
  structure reproduced         invariance at least (partial) metric and congruence ≥ .85
  subgroup differences         sign agreement ≥ .8 and r(d_human, d_silicon) ≥ .5
  declines often               refusal + invalid rate > .05
  ===========================  =============================================================

Rows are sorted by representativeness (highest first), then sign agreement.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..tidy.results import PAIR_COLUMNS
from .subgroups import pattern_summary

INVARIANCE_ORDER = ["none", "configural", "partial metric", "metric", "partial scalar", "scalar", "partial strict",
                    "strict"]


def _keys(table: pd.DataFrame) -> list[str]:
    return [n for n in table.index.names if n in ["run", *PAIR_COLUMNS]]


def reading(row: pd.Series) -> str:
    """The one-line reading of a ranking row (thresholds in the module docstring)."""
    findings, not_for = [], []
    d = row.get("mean_abs_d", np.nan)
    what = "scale means" if row.get("has_scales", False) else "item means"
    if np.isfinite(d):
        if d < 0.2:
            findings.append(f"{what} close")
        elif d < 0.5:
            findings.append(f"{what} somewhat off")
        else:
            findings.append(f"{what} far off")
            not_for.append("estimating levels")
    if row.get("has_scales", False):
        level = row.get("invariance", "not tested")
        congruence = row.get("congruence", np.nan)
        metric_or_better = level in INVARIANCE_ORDER and INVARIANCE_ORDER.index(level) >= 2
        if metric_or_better and np.isfinite(congruence) and congruence >= 0.85:
            findings.append("structure reproduced")
        else:
            findings.append("structure not reproduced")
            not_for.append("construct-validity work")
    sign, r = row.get("sign_agreement", np.nan), row.get("d_correlation", np.nan)
    if np.isfinite(sign):
        if sign >= 0.8 and np.isfinite(r) and r >= 0.5:
            findings.append("subgroup differences reproduced")
        else:
            findings.append("subgroup differences not reproduced")
            not_for.append("subgroup comparisons")
    declined = row.get("refusal_rate", np.nan) + row.get("invalid_rate", np.nan)
    if np.isfinite(declined) and declined > 0.05:
        findings.append(f"declines {100 * declined:.0f}% of items")
        not_for.append("items it declines")
    if not_for:
        verdict = "not for " + (" or ".join(not_for) if len(not_for) < 3 else ", ".join(not_for[:-1]) + " or "
                                + not_for[-1])
    else:
        verdict = "usable as a pilot stand-in for this instrument"
    return f"{', '.join(findings) or 'nothing measured'}: {verdict}"


def rank_pairs(tables: dict[str, pd.DataFrame], sort_by: str = "representativeness") -> pd.DataFrame:
    """One row per model × persona style × cue type (× run), sorted, with a reading (see the module docstring).

    Examples
    --------
    >>> tables = ss.compare("runs/replica_bfi", "psych_bfi")       # doctest: +SKIP
    >>> rank_pairs(tables)[["representativeness", "invariance", "reading"]]   # doctest: +SKIP
    """
    items = tables["items"]
    keys = _keys(items)
    out = items.groupby(level=keys, sort=False).agg(representativeness=("representativeness", "mean"),
                                                     js_distance=("js_distance", "mean"),
                                                     item_abs_d=("d", lambda d: d.abs().mean()))
    has_scales = "scales" in tables
    out["has_scales"] = has_scales
    if has_scales:
        scales = tables["scales"].groupby(level=keys, sort=False)
        out["mean_abs_d"] = scales["d"].apply(lambda d: d.abs().mean())
        out["reliability_gap"] = scales["alpha_gap"].mean()
        out["congruence"] = tables["structure"].groupby(level=keys, sort=False)["congruence"].mean()
    else:
        out["mean_abs_d"] = out["item_abs_d"]
        out["reliability_gap"] = np.nan
        out["congruence"] = np.nan
    if "invariance" in tables:
        out["invariance"] = tables["invariance"].groupby(level=keys, sort=False)["highest_level"].first()
    else:
        out["invariance"] = "not tested"
    if "patterns" in tables:
        summaries = {key: pattern_summary(t) for key, t in tables["patterns"].groupby(level=keys, sort=False)}
        patterns = pd.DataFrame.from_dict(summaries, orient="index")
        patterns.index = pd.MultiIndex.from_tuples(patterns.index, names=keys)
        out = out.join(patterns)
    else:
        out = out.assign(human_differences=0, sign_agreement=np.nan, size_agreement=np.nan, d_correlation=np.nan)
    out["refusal_rate"] = out["invalid_rate"] = np.nan
    nonresponse = tables.get("nonresponse")
    if nonresponse is not None and len(nonresponse):
        # the categories of one attribute partition the cells: rates over all cells
        first = nonresponse.index.get_level_values("attribute")[0]
        per_attribute = nonresponse.xs(first, level="attribute")
        cells = per_attribute["cells"]
        for rate, column in (("refusal_rate", "refused_rate"), ("invalid_rate", "invalid_rate")):
            weighted = (per_attribute[column] * cells).groupby(level=keys, sort=False).sum()
            out[rate] = weighted / cells.groupby(level=keys, sort=False).sum()
    out["invariance"] = out["invariance"].fillna("none")
    out["reading"] = out.apply(reading, axis=1)
    out = out.sort_values([sort_by, "sign_agreement"], ascending=False, na_position="last")
    columns = ["representativeness", "js_distance", "mean_abs_d", "invariance", "congruence", "reliability_gap",
               "sign_agreement", "size_agreement", "d_correlation", "human_differences", "refusal_rate",
               "invalid_rate", "reading"]
    return out[columns]
