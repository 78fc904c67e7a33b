"""Response styles, variance compression and test–retest reliability, for silicon and human respondents alike.

Aligned models answer "excessively neutral", agree with an item and its reversal, and compress the
spread of answers (Bisbee et al. 2024: means close to the ANES, variance too small). Per respondent,
on the raw answers (reverse-keyed items *not* mirrored):

- ``acquiescence`` — on each scale with items keyed both ways: the mean of (mean raw answer of its
  positively keyed items, mean raw answer of its reverse-keyed items), placed on [−1, 1] around the
  scale's midpoint ((x − mid) / half-range); averaged over such scales. A consistent respondent's two
  halves cancel (≈ 0); one who agrees with everything scores near +1;
- ``contradictions`` — the share of (positively keyed, reverse-keyed) item pairs of a scale that the
  respondent agrees with both (both answers above the midpoint);
- ``extreme`` — the share of answers at the lowest or highest option;
- ``midpoint`` — the share of answers at the middle option (for an even number of options, the two
  middle ones);
- ``longest_run`` — the longest run of identical answers in the instrument's item order;
- ``within_sd`` — the SD of the respondent's answers across items (N − 1).

:func:`response_style_table` gives, per index, the silicon and human means (weighted), their n, the
silicon − human d with the Hedges–Olkin 95 % interval, and ``flag`` when |d| ≥ 0.5 (Cohen's medium).

:func:`variance_table` gives, per item and scale, the between-person variances (N − 1, unweighted), the
ratio silicon / human with its 95 % interval from the F distribution
(ratio / F₀.₉₇₅(n_s − 1, n_h − 1), ratio / F₀.₀₂₅(...)), the two-sided F-test p-value, and
``compressed`` / ``inflated`` when the interval lies wholly below / above 1.

:func:`retest_table` gives, when respondents answered more than once (``replicates > 1``), the
intraclass correlation per item and scale: McGraw & Wong's ICC(A,1) = Shrout & Fleiss's ICC(2,1) —
two-way random effects, absolute agreement, single measurement (Koo & Li, 2016, recommend it for
test–retest), from ``pingouin.intraclass_corr`` — with its
95 % interval, over the respondents with every replicate answered.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .item_fidelity import cohens_d, d_interval, weighted_moments

STYLE_INDICES = ("acquiescence", "contradictions", "extreme", "midpoint", "longest_run", "within_sd")
ICC_FORM = ("ICC(A,1) = Shrout & Fleiss ICC(2,1): two-way random effects, absolute agreement, single "
            "measurement (pingouin)")


def respondent_styles(frame: pd.DataFrame, keys: dict[str, list[str]], options: dict[str, list[int]]) -> pd.DataFrame:
    """One row per respondent (``frame``'s index), one column per index of the module docstring."""
    items = list(options)
    x = frame[items].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    low = np.array([min(options[i]) for i in items], dtype=float)
    high = np.array([max(options[i]) for i in items], dtype=float)
    mid, half = (low + high) / 2, (high - low) / 2
    answered = ~np.isnan(x)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # a respondent who answered nothing: NaN, kept
        extreme = np.where(answered, (x == low) | (x == high), np.nan)
        middle = np.where(answered, np.abs(x - mid) <= np.where((high - low) % 2 == 1, 0.5, 0.0), np.nan)
        out = pd.DataFrame({"extreme": np.nanmean(extreme, axis=1), "midpoint": np.nanmean(middle, axis=1),
                            "within_sd": np.nanstd(x, axis=1, ddof=1)}, index=frame.index)
    out["longest_run"] = [_longest_run(row) for row in x]
    column = {item: k for k, item in enumerate(items)}
    acquiescence, contradictions = [], []
    for keyed in keys.values():
        plus = [column[k] for k in keyed if not k.startswith("-") and k in column]
        minus = [column[k.lstrip("-")] for k in keyed if k.startswith("-") and k.lstrip("-") in column]
        if not plus or not minus:
            continue
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a respondent with one side unanswered: NaN, kept
            centred = (x - mid) / half
            acquiescence.append((np.nanmean(centred[:, plus], axis=1) + np.nanmean(centred[:, minus], axis=1)) / 2)
            agree = np.where(answered, x > mid, np.nan)
            pairs = [agree[:, p] * agree[:, m] for p in plus for m in minus]
            contradictions.append(np.nanmean(np.vstack(pairs), axis=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # respondents with no answered pair: NaN, kept
        out["acquiescence"] = np.nanmean(np.vstack(acquiescence), axis=0) if acquiescence else np.nan
        out["contradictions"] = np.nanmean(np.vstack(contradictions), axis=0) if contradictions else np.nan
    return out[list(STYLE_INDICES)]


def _longest_run(row: np.ndarray) -> float:
    values = row[~np.isnan(row)]
    if not len(values):
        return np.nan
    best = run = 1
    for previous, current in zip(values[:-1], values[1:]):
        run = run + 1 if current == previous else 1
        best = max(best, run)
    return float(best)


def response_style_table(human: pd.DataFrame, silicon: pd.DataFrame, keys: dict[str, list[str]],
                         options: dict[str, list[int]]) -> pd.DataFrame:
    """Per response-style index: silicon and human means, n, d (silicon − human) with its interval, flag."""
    sh, ss = respondent_styles(human, keys, options), respondent_styles(silicon, keys, options)
    wh = human["weight"].to_numpy(dtype=float) if "weight" in human else np.ones(len(human))
    ws = silicon["weight"].to_numpy(dtype=float) if "weight" in silicon else np.ones(len(silicon))
    rows = []
    for index in STYLE_INDICES:
        xh, xs = sh[index].to_numpy(dtype=float), ss[index].to_numpy(dtype=float)
        row = {"index": index, "n_human": int(np.isfinite(xh).sum()), "n_silicon": int(np.isfinite(xs).sum()),
               "human": np.nan, "silicon": np.nan, "d": np.nan, "d_low": np.nan, "d_high": np.nan, "flag": False}
        if row["n_human"] > 1 and row["n_silicon"] > 1:
            row["human"], _, nh = weighted_moments(xh, wh)
            row["silicon"], _, ns = weighted_moments(xs, ws)
            d = cohens_d(xs, xh, ws, wh)
            if np.isfinite(d):
                low, high = d_interval(d, nh, ns)
                row.update(d=d, d_low=low, d_high=high, flag=bool(abs(d) >= 0.5))
        rows.append(row)
    return pd.DataFrame(rows).set_index("index")


def variance_table(human: pd.DataFrame, silicon: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Per item or scale: between-person variances, their ratio silicon / human with an F interval, p, flags."""
    rows = []
    for outcome in outcomes:
        xh = pd.to_numeric(human[outcome], errors="coerce").dropna().to_numpy(dtype=float)
        xs = pd.to_numeric(silicon[outcome], errors="coerce").dropna().to_numpy(dtype=float)
        row = {"outcome": outcome, "n_human": len(xh), "n_silicon": len(xs), "var_human": np.nan,
               "var_silicon": np.nan, "ratio": np.nan, "ratio_low": np.nan, "ratio_high": np.nan, "p_value": np.nan,
               "compressed": False, "inflated": False}
        if len(xh) > 1 and len(xs) > 1:
            vh, vs = xh.var(ddof=1), xs.var(ddof=1)
            row.update(var_human=vh, var_silicon=vs)
            if vh > 0:
                ratio, df_s, df_h = vs / vh, len(xs) - 1, len(xh) - 1
                low, high = ratio / stats.f.ppf(0.975, df_s, df_h), ratio / stats.f.ppf(0.025, df_s, df_h)
                tail = stats.f.cdf(ratio, df_s, df_h)
                row.update(ratio=ratio, ratio_low=low, ratio_high=high, p_value=float(2 * min(tail, 1 - tail)),
                           compressed=bool(high < 1), inflated=bool(low > 1))
        rows.append(row)
    return pd.DataFrame(rows).set_index("outcome")


def retest_table(silicon: pd.DataFrame, outcomes: list[str], respondent: list[str] | str = "persona_id",
                 replicate: str = "replicate") -> pd.DataFrame:
    """Per item or scale: ICC(2,1) across replicates with its 95 % interval (see the module docstring).

    Empty when no respondent answered more than once.
    """
    import pingouin as pg  # imported here: it takes seconds to load

    respondent = [respondent] if isinstance(respondent, str) else list(respondent)
    if replicate not in silicon or silicon[replicate].nunique() < 2 or not set(respondent) <= set(silicon):
        return pd.DataFrame()
    target = silicon[respondent].astype(str).agg("/".join, axis=1)
    rows = []
    for outcome in outcomes:
        data = pd.DataFrame({"target": target.to_numpy(), "rater": silicon[replicate].to_numpy(),
                             "rating": pd.to_numeric(silicon[outcome], errors="coerce").to_numpy()})
        raters = data["rater"].nunique()
        complete = data.dropna().groupby("target").filter(lambda g, k=raters: g["rater"].nunique() == k)
        row = {"outcome": outcome, "form": ICC_FORM, "n_respondents": complete["target"].nunique(),
               "replicates": raters, "icc": np.nan, "icc_low": np.nan, "icc_high": np.nan,
               "note": ""}
        if row["n_respondents"] < 3:
            row["note"] = "fewer than 3 respondents answered every replicate"
        elif complete["rating"].nunique() < 2:
            row["note"] = "every answer is the same: no variance to apportion"
        else:
            with np.errstate(all="ignore"):
                icc = pg.intraclass_corr(data=complete, targets="target", raters="rater", ratings="rating")
            agreement = icc.set_index("Type").loc["ICC(A,1)"]
            low, high = agreement["CI95"]
            row.update(icc=float(agreement["ICC"]), icc_low=float(low), icc_high=float(high))
        rows.append(row)
    return pd.DataFrame(rows).set_index("outcome")
