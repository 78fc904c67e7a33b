"""Ranking model–persona pairs by how well they stand in for the humans, with a one-line reading.

Input: the tables of :func:`silicon_sample.comparison.runs.compare_run` (one run or several,
with a ``run`` column in the index or not). Output: one row per (run,) model ×
persona style × cue type with

- ``levels``, ``structure``, ``subgroups`` (each with ``_low`` / ``_high``) — the normalized scores of
  :mod:`.anchors`: 0 no better than the best floor, 1 as good as another human sample of this size, with
  95 % bootstrap intervals; ``score`` — the one the purpose asks for (``all``: the mean of those present,
  its interval the mean of their interval ends);
- ``tie_group`` — pairs whose ``score`` intervals overlap share a group: the order within it is noise;
- ``n_silicon`` — the silicon respondents (Kish's effective n when weighted); the raw figures below have
  their intervals in the ``anchors`` table of ``compare``;
- ``representativeness`` — mean OpinionQA representativeness over items;
- ``mean_abs_d`` — mean |d| of the scale means (of the item means when the instrument scores no scales);
- ``invariance`` — the highest measurement-invariance level reached (``not tested`` without scales), and
  ``invariance_estimator`` the estimator it was fitted with (ML, MLR or WLSMV);
- ``congruence`` — mean Tucker congruence over scales;
- ``reliability_gap`` — mean over scales of silicon − human alpha, ordinal alpha where the scale is read as
  ordinal (negative: less reliable);
- ``sign_agreement``, ``size_agreement``, ``d_correlation`` — pattern correspondence of subgroup differences;
- ``refusal_rate``, ``invalid_rate`` — shares of cells refused / invalid;
- ``variance_ratio`` — median over items and scales of the silicon / human variance ratio, and
  ``compressed_share`` — the share of them whose ratio interval lies wholly below 1;
- ``style_flags`` — the response-style indices whose silicon − human |d| ≥ 0.5;
- ``icc`` — median ICC(A,1) over items and scales when personas answered more than once;
- ``share_closer``, ``conditioning_improvement``, ``moves_toward_subgroups`` — persona conditioning
  against the control styles crossed in the study (:mod:`.conditioning`);
- ``reading`` — what the pair is fit for, from these thresholds:

  =================================  ==========================================================
  means close / somewhat off         mean |d| < 0.2 / < 0.5 (Cohen's small / medium); else far off
  structure reproduced               invariance at least (partial) metric and congruence ≥ .85
  subgroup differences reproduced    sign agreement ≥ .8 and r(d_human, d_silicon) ≥ .5
  no better than a floor             the family's normalized interval reaches 0 (or its score ≤ 0)
  no better than the population's    item representativeness at or below the marginal floor
  overall distribution               (its interval reaches the floor)
  answers compressed                 more than half the items and scales compressed (see above)
  personas do not move answers       control styles crossed in and ``moves_toward_subgroups`` false
  declines often                     refusal + invalid rate > .05
  not robust to presentation         perturbations crossed and the score's spread over them ≥ .2
                                     (a fifth of the way from the best floor to the ceiling)
  =================================  ==========================================================

``score_spread`` and ``item_mean_spread`` (studies that cross perturbations): the range of the pair's score
over its perturbations, and the mean range of its item means (:mod:`.presentation_effects`).

**Purposes** (``purpose=``): ``levels`` (estimating means and distributions) orders by the levels
score, ``structure`` (construct-validity work) by the structure score, ``subgroups`` (comparing groups)
by the subgroups score, ``all`` by their mean. Rows without a score come last.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..psychometrics import estimator_name
from ..tidy.results import PAIR_COLUMNS
from .anchors import FAMILIES
from .conditioning import conditioning_summary
from .source_invariance import INVARIANCE_ORDER
from .subgroups import pattern_summary

PURPOSES = ("levels", "structure", "subgroups", "all")
FLOOR_WORDS = {"levels": "item answers no better than answering at random",
               "structure": "structure no better than answers without structure",
               "subgroups": "subgroup differences no better than shuffled personas"}


def _keys(table: pd.DataFrame) -> list[str]:
    return [n for n in table.index.names if n in ["run", *PAIR_COLUMNS]]


def no_better_than_floor(row: pd.Series, family: str) -> bool:
    score, low = row.get(family, np.nan), row.get(f"{family}_low", np.nan)
    return bool(np.isfinite(score) and (score <= 0 or (np.isfinite(low) and low <= 0)))


ROBUSTNESS_SPREAD = 0.2
"""The score spread over perturbations from which a pair reads as not robust to presentation."""


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
    if no_better_than_floor(row, "levels"):
        findings.append(FLOOR_WORDS["levels"])
        if "estimating levels" not in not_for:
            not_for.append("estimating levels")
    elif row.get("below_marginal_floor", False):
        findings.append("item answers no better than answering from the population's overall distribution")
    if row.get("has_scales", False):
        level = row.get("invariance", "not tested")
        congruence = row.get("congruence", np.nan)
        metric_or_better = (level in INVARIANCE_ORDER
                            and INVARIANCE_ORDER.index(level) >= INVARIANCE_ORDER.index("partial metric"))
        if metric_or_better and np.isfinite(congruence) and congruence >= 0.85:
            findings.append("structure reproduced")
        else:
            findings.append("structure not reproduced")
            not_for.append("construct-validity work")
        if no_better_than_floor(row, "structure"):
            findings.append(FLOOR_WORDS["structure"])
    sign, r = row.get("sign_agreement", np.nan), row.get("d_correlation", np.nan)
    if np.isfinite(sign):
        if sign >= 0.8 and np.isfinite(r) and r >= 0.5:
            findings.append("subgroup differences reproduced")
        else:
            findings.append("subgroup differences not reproduced")
            not_for.append("subgroup comparisons")
        if no_better_than_floor(row, "subgroups"):
            findings.append(FLOOR_WORDS["subgroups"])
    moves = row.get("moves_toward_subgroups")
    if moves is not None and not pd.isna(moves):
        findings.append("personas move answers toward their subgroups (against the control styles)" if bool(moves)
                        else "personas do not move answers toward their subgroups")
    if row.get("compressed_share", 0) > 0.5:
        findings.append(f"answers compressed (variance ratio {row['variance_ratio']:.2f})")
    if row.get("style_flags"):
        findings.append(f"response styles unlike the humans' ({row['style_flags']})")
    declined = row.get("refusal_rate", np.nan) + row.get("invalid_rate", np.nan)
    if np.isfinite(declined) and declined > 0.05:
        findings.append(f"declines {100 * declined:.0f}% of items")
        not_for.append("items it declines")
    spread = row.get("score_spread", np.nan)
    if np.isfinite(spread) and spread >= ROBUSTNESS_SPREAD:
        findings.append(f"not robust to how items are shown (score spread {spread:.2f} over perturbations)")
        not_for.append("conclusions that must not hang on wording or option order")
    if not_for:
        verdict = "not for " + (" or ".join(not_for) if len(not_for) < 3 else ", ".join(not_for[:-1]) + " or "
                                + not_for[-1])
    else:
        verdict = "usable as a pilot stand-in for this instrument"
    return f"{', '.join(findings) or 'nothing measured'}: {verdict}"


def _anchor_scores(anchors: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per pair: the family scores with their intervals, and whether items sit below the marginal floor."""
    rows = {}
    for key, table in anchors.groupby(level=keys, sort=False):
        table = table.droplevel(keys)
        row = {}
        for family in FAMILIES:
            found = family in table.index
            row[family] = table.loc[family, "normalized"] if found else np.nan
            row[f"{family}_low"] = table.loc[family, "normalized_low"] if found else np.nan
            row[f"{family}_high"] = table.loc[family, "normalized_high"] if found else np.nan
        if "item_representativeness" in table.index:
            figure = table.loc["item_representativeness"]
            row["below_marginal_floor"] = bool(figure["ci_high"] <= figure["marginal_floor"])
        rows[key if isinstance(key, tuple) else (key,)] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=keys)
    return frame


def tie_groups(low: pd.Series, high: pd.Series) -> list[int]:
    """Consecutive rows (already sorted) share a group while their intervals overlap the group's first."""
    groups, group, first = [], 0, None
    for lo, hi in zip(low, high):
        if first is None or not (np.isfinite(lo) and np.isfinite(first[0]) and lo <= first[1] and hi >= first[0]):
            group += 1
            first = (lo, hi)
        groups.append(group)
    return groups


def _fidelity_columns(tables: dict[str, pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """Per pair: the item, scale, structure, invariance, pattern and nonresponse figures the ranking reads."""
    items = tables["items"]
    out = items.groupby(level=keys, sort=False).agg(n_silicon=("n_silicon", "max"),
                                                     representativeness=("representativeness", "mean"),
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
        invariance = tables["invariance"].groupby(level=keys, sort=False)
        out["invariance"] = invariance["highest_level"].first()
        if "estimator" in tables["invariance"]:
            out["invariance_estimator"] = invariance["estimator"].first().map(estimator_name)
    else:
        out["invariance"] = "not tested"
    if "invariance_estimator" not in out:
        out["invariance_estimator"] = ""
    out["invariance_estimator"] = out["invariance_estimator"].fillna("")
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
    return out


def _anchor_and_style_columns(out: pd.DataFrame, tables: dict[str, pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """``out`` with the anchored scores and their intervals, variance, response styles, test–retest and
    persona conditioning joined (empty where a table is absent)."""
    scores = [f"{f}{s}" for f in FAMILIES for s in ("", "_low", "_high")]
    if "anchors" in tables:
        out = out.join(_anchor_scores(tables["anchors"], keys))
    for column in scores:
        if column not in out:
            out[column] = np.nan
    if "below_marginal_floor" not in out:
        out["below_marginal_floor"] = False
    out["below_marginal_floor"] = out["below_marginal_floor"].fillna(False).astype(bool)
    if "variance" in tables:
        variance = tables["variance"].groupby(level=keys, sort=False)
        out["variance_ratio"] = variance["ratio"].median()
        out["compressed_share"] = variance["compressed"].mean()
    if "response_styles" in tables:
        flagged = tables["response_styles"].reset_index("index")
        flagged = flagged[flagged["flag"].astype(bool)].groupby(level=keys, sort=False)["index"].agg(", ".join)
        out["style_flags"] = flagged
    if "retest" in tables:
        out["icc"] = tables["retest"].groupby(level=keys, sort=False)["icc"].median()
    if "conditioning" in tables:      # per pair (and run): read under one perturbation, the others left empty
        summary = conditioning_summary(tables["conditioning"]).rename(
            columns={"mean_improvement": "conditioning_improvement"})
        summary = summary[["share_closer", "conditioning_improvement", "moves_toward_subgroups"]]
        out = out.join(summary.reorder_levels([k for k in keys if k in summary.index.names]), how="left")
    for column, empty in (("variance_ratio", np.nan), ("compressed_share", np.nan), ("style_flags", ""),
                          ("icc", np.nan), ("share_closer", np.nan), ("conditioning_improvement", np.nan),
                          ("moves_toward_subgroups", pd.NA)):
        out[column] = out[column].fillna(empty) if column in out else empty
    return out


def rank_pairs(tables: dict[str, pd.DataFrame], purpose: str = "all") -> pd.DataFrame:
    """One row per model × persona style × cue type (× run), sorted for ``purpose``, with a reading (see the
    module docstring).

    Examples
    --------
    >>> tables = ss.compare("runs/replica_bfi", "psych_bfi")       # doctest: +SKIP
    >>> rank_pairs(tables, purpose="structure")[["structure", "tie_group", "reading"]]   # doctest: +SKIP
    """
    if purpose not in PURPOSES:
        raise SpecError(f"unknown purpose {purpose!r}", where="purpose", fix=f"one of {', '.join(PURPOSES)}")
    if "items" not in tables:
        if "numeric" in tables:
            return numeric_ranking(tables["numeric"], purpose)
        raise SpecError("nothing to rank: the comparison has no items table", where="rank",
                        fix="rank runs of an instrument with single-choice or numeric items")
    keys = _keys(tables["items"])
    out = _anchor_and_style_columns(_fidelity_columns(tables, keys), tables, keys)
    scores = [f"{f}{s}" for f in FAMILIES for s in ("", "_low", "_high")]
    families = list(FAMILIES) if purpose == "all" else [purpose]
    with np.errstate(all="ignore"):
        out["score"] = out[families].mean(axis=1, skipna=True)
        out["score_low"] = out[[f"{f}_low" for f in families]].mean(axis=1, skipna=True)
        out["score_high"] = out[[f"{f}_high" for f in families]].mean(axis=1, skipna=True)
    out["invariance"] = out["invariance"].fillna("none")
    out = out.join(_perturbation_spread(out, tables.get("robustness"), keys))
    out["reading"] = out.apply(reading, axis=1)
    out = out.sort_values(["score", "representativeness"], ascending=False, na_position="last")
    out["tie_group"] = tie_groups(out["score_low"], out["score_high"])
    columns = ["n_silicon", "score", "score_low", "score_high", "tie_group", *scores, "representativeness",
               "js_distance", "mean_abs_d", "invariance", "invariance_estimator", "congruence", "reliability_gap",
               "sign_agreement",
               "size_agreement", "d_correlation", "human_differences", "refusal_rate", "invalid_rate", "variance_ratio",
               "compressed_share", "style_flags", "icc", "share_closer", "conditioning_improvement",
               "moves_toward_subgroups", "score_spread", "item_mean_spread", "reading"]
    return out[columns]


def numeric_ranking(numeric: pd.DataFrame, purpose: str = "all") -> pd.DataFrame:
    """The ranking of an instrument whose items are all numeric: per pair, the levels score is the mean over
    items of the Wasserstein-1 distance normalized between the uniform floor and the human ceiling
    (:mod:`.numeric_fidelity`), its interval the mean of the items' bootstrap bounds so normalized; structure
    and subgroups are not scored (no scales, and subgroups are in the numeric table's means)."""
    if purpose not in ("levels", "all"):
        raise SpecError(f"purpose {purpose!r} needs scales or subgroup tables, and this instrument's items are all "
                        "numeric", where="purpose", fix="rank with --purpose levels (or all)")
    keys = [n for n in numeric.index.names if n != "item"]
    span = numeric["w1_floor_uniform"] - numeric["w1_ceiling"]
    bounds = pd.DataFrame({"low": (numeric["w1_floor_uniform"] - numeric["w1_high"]) / span,
                           "high": (numeric["w1_floor_uniform"] - numeric["w1_low"]) / span,
                           "score": numeric["w1_normalized"], "n_silicon": numeric["n_silicon"],
                           "sd_ratio": numeric["sd_ratio"], "mean_abs_d": numeric["d"].abs()})
    out = bounds.groupby(level=keys, sort=False).agg(
        n_silicon=("n_silicon", "max"), score=("score", "mean"), score_low=("low", "mean"),
        score_high=("high", "mean"), variance_ratio=("sd_ratio", lambda r: float(np.mean(np.square(r)))),
        mean_abs_d=("mean_abs_d", "mean"))
    out["levels"], out["levels_low"], out["levels_high"] = out["score"], out["score_low"], out["score_high"]
    out = out.sort_values("score", ascending=False, na_position="last")
    out["tie_group"] = tie_groups(out["score_low"], out["score_high"])
    out["reading"] = [("numeric answers no closer to the humans' than answers spread evenly over the range; not "
                       "for estimating levels" if not (low > 0) else
                       "numeric answers closer to the humans' than uniform answers") +
                      f" (mean |d| {d:.2f})" for low, d in zip(out["score_low"], out["mean_abs_d"])]
    return out


def calibration_ranking(pairs: pd.DataFrame) -> pd.DataFrame:
    """The ranking for ``purpose="calibration"``: pairs ordered by how many humans their silicon answers are worth
    (``score`` = the median gain over item and scale means of :func:`.twins.pair_gain`, with its bootstrap
    interval over the labelled humans), ties grouped; a pair whose validation flagged it (its PPI++ intervals
    covered the full-population values less often than the humans' own) gets no score and comes last."""
    out = pairs.copy()
    flagged = out["flagged"].fillna(False).astype(bool) if "flagged" in out else pd.Series(False, index=out.index)
    out["score"] = out["gain"].where(~flagged)
    out["score_low"] = out["gain_low"].where(~flagged)
    out["score_high"] = out["gain_high"].where(~flagged)
    out = out.sort_values("score", ascending=False, na_position="last")
    out["tie_group"] = tie_groups(out["score_low"], out["score_high"])
    return out


def _perturbation_spread(out: pd.DataFrame, robust: pd.DataFrame | None, keys: list[str]) -> pd.DataFrame:
    """Per row: the spread (max − min) of the score over the perturbations of the same run, model, persona style
    and cue type, and the mean spread of its item means (:func:`.presentation_effects.robustness`); NaN when
    the study crossed no perturbations."""
    spread = pd.DataFrame({"score_spread": np.nan, "item_mean_spread": np.nan}, index=out.index)
    if "perturbation" not in keys:
        return spread
    pair = [k for k in keys if k != "perturbation"]
    flat = out["score"].reset_index()
    if flat.groupby(pair)["perturbation"].nunique().max() < 2:
        return spread
    by_pair = flat.groupby(pair)["score"].agg(lambda s: s.max() - s.min() if s.notna().sum() > 1 else np.nan)
    spread["score_spread"] = by_pair.reindex(pd.MultiIndex.from_frame(flat[pair]) if len(pair) > 1
                                             else flat[pair[0]]).to_numpy()
    if robust is not None and len(robust):
        items = robust.xs("item mean", level="kind") if "item mean" in robust.index.get_level_values("kind") else None
        if items is not None:
            item_pair = [k for k in pair if k in items.index.names]
            means = items.groupby(level=item_pair)["spread"].mean()
            spread["item_mean_spread"] = means.reindex(pd.MultiIndex.from_frame(flat[item_pair]) if len(item_pair) > 1
                                                       else flat[item_pair[0]]).to_numpy()
    return spread
