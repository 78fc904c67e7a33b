"""Floors and a ceiling for every fidelity figure, with bootstrap intervals and normalized scores.

A raw figure (say, mean representativeness .82) says nothing until it is placed between what a
respondent who knows nothing scores and what another human sample of the same size scores. For one
model–persona pair — a silicon sample of n respondents — against a human baseline of N respondents:

============================  =========  ======  ==================================================
figure                        family     better  what
============================  =========  ======  ==================================================
item_representativeness       levels     higher  mean over items of OpinionQA's R = 1 − W₁/(k − 1)
item_js_distance              levels     lower   mean over items of the Jensen–Shannon distance (base 2)
item_abs_d                    levels     lower   mean over items of |Cohen's d| (silicon − human)
scale_abs_d                   levels     lower   mean over scales of |d| (instruments that score scales)
correlation_srmr              structure  lower   SRMR between the item correlation matrices
congruence                    structure  higher  mean over scales of Tucker's φ (one-factor ML loadings)
invariance_level              structure  higher  highest invariance level reached, 0 (none) … 9 (strict)
subgroup_representativeness   subgroups  higher  mean R over attribute × category × item
sign_agreement                subgroups  higher  share of human subgroup differences reproduced in sign
d_correlation                 subgroups  higher  r between human and silicon subgroup d
============================  =========  ======  ==================================================

**Anchors**, each computed on samples of the silicon sample's size n, ``repetitions`` times with seeds,
and averaged (their spread is kept as ``*_sd``):

- *uniform floor* — every option equally likely, for every item (respondents keep their attributes);
- *marginal floor* — each respondent answers each item independently from the human (weighted)
  distribution of that item: the right levels, no individual structure, no subgroup differences;
- *shuffled floor* — the silicon answers with the persona attributes permuted across respondents
  (subgroup figures only: it changes nothing else);
- *human ceiling* — n respondents drawn from the baseline without replacement, compared with the
  other N − n the same way: sampling noise at this n. Its splits come from a generator of their own, seeded
  by (seed, n), so pairs of the same size share one ceiling, computed once (:func:`human_ceiling`).

**Which floor is the zero.** A floor is the zero of a figure only when it carries none of what the
figure tests: for *levels* the uniform floor (the marginal floor reproduces the population's levels by
construction — for item distributions it *is* a human-sized sample of the population, the ceiling in
expectation — so it is shown, and a pair below it is read as "no better than answering from the
population's overall distribution", but it cannot be the zero); for *structure* the uniform and
marginal floors; for *subgroups* all three. The best floor is the zero closest to the ceiling.

**Normalized score** = (raw − best floor) / (ceiling − best floor): 0 is no better than the best floor,
1 is as good as another human sample of this size (it can leave [0, 1]). When the ceiling is not
clearly beyond the best floor (by less than twice the standard error of the difference of their means
over the repetitions) there is no room to normalize in: ``normalized`` is NaN and the note says so.
The tables' rows are anchored the same way (:data:`ROW_FIGURES`): each item's representativeness, each
scale's |d| and congruence, each subgroup's representativeness per item, and each subgroup contrast's
|d_silicon − d_human| (whose shuffled floor is |d_human|: the difference lost). Each family also gets a
row of its own (``levels``, ``structure``, ``subgroups``): the mean of its figures' normalized scores,
each clipped to [−1, 2] first (a figure whose floor sits close under the ceiling — subgroup
representativeness, where the marginal floor gets most of the way — can reach −12 for noise and would
drown the others), with an interval from the resamples in which every one of them was computed (the
invariance level, which has no resamples, enters each as its one value).

**Intervals**: 95% bootstrap intervals from ``bootstrap`` resamples (seeded) of the silicon
respondents — whole personas when a persona has several rows (replicates) — holding the human baseline
fixed: its sampling noise at this n is what the ceiling measures. The interval is the 2.5–97.5 %
spread of the resampled figures around their median, placed around the raw figure
(raw − (median − q₂.₅), raw + (q₉₇.₅ − median)): a resample adds its own sampling noise to a distance
between distributions, which shifts a plain percentile interval away from the raw figure; the raw
figure, the floors and the ceiling are all plug-in figures at this n, so they carry that bias alike.
Normalized intervals put the interval's ends through the same formula. The congruence refits a
factor model for every resample, so it is bootstrapped with at most ``structure_bootstrap``
resamples and its floors and ceiling take the first ``structure_repetitions`` repetitions. The
invariance level is anchored by the ceiling only (one fit of n humans against the rest); it has no
interval, and its row says why.

References: Santurkar et al. (2023), Whose opinions do language models reflect? (representativeness,
uniform baseline); Bisbee et al. (2024), Synthetic replacements for human survey data? (variance and
coefficients); Efron & Tibshirani (1993), An Introduction to the Bootstrap (percentile intervals).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SiliconSampleError
from ..psychometrics.scoring import keyed_items
from .item_fidelity import cohens_d, compare_items
from .setting import Setting, with_scale_scores
from .source_invariance import INVARIANCE_ORDER, invariance_between_sources
from .structure import correlation_srmr, keyed_loadings, standardized_loadings, tucker_congruence
from .subgroups import pattern_correspondence, pattern_summary, subgroup_metrics

FIGURES = {  # name: (family, higher is better)
    "item_representativeness": ("levels", True), "item_js_distance": ("levels", False),
    "item_abs_d": ("levels", False), "scale_abs_d": ("levels", False),
    "correlation_srmr": ("structure", False), "congruence": ("structure", True),
    "invariance_level": ("structure", True),
    "subgroup_representativeness": ("subgroups", True), "sign_agreement": ("subgroups", True),
    "d_correlation": ("subgroups", True),
}
BOUNDS = {"item_representativeness": (0, 1), "item_js_distance": (0, 1), "item_abs_d": (0, np.inf),
          "scale_abs_d": (0, np.inf), "correlation_srmr": (0, np.inf), "congruence": (-1, 1),
          "subgroup_representativeness": (0, 1), "sign_agreement": (0, 1), "d_correlation": (-1, 1)}
FAMILY_CLIP = (-1.0, 2.0)
ZEROS = {"levels": ("uniform",), "structure": ("uniform", "marginal"),
         "subgroups": ("uniform", "marginal", "shuffled")}
FAMILIES = ("levels", "structure", "subgroups")
FLOORS = ("uniform", "marginal", "shuffled")
ANCHOR_COLUMNS = ["family", "better", "n_silicon", "n_human", "value", "ci_low", "ci_high", "uniform_floor",
                  "marginal_floor", "shuffled_floor", "ceiling", "ceiling_sd", "best_floor", "best_floor_is",
                  "normalized", "normalized_low", "normalized_high", "note"]


def _weights(frame: pd.DataFrame) -> np.ndarray:
    return frame["weight"].to_numpy(dtype=float) if "weight" in frame else np.ones(len(frame))


def _ordinal(estimators: dict[str, str] | None, scale: str) -> bool:
    return bool(estimators) and estimators.get(scale) == "WLSMV"


def human_loadings(setting: Setting, human: pd.DataFrame, estimators: dict[str, str] | None = None,
                   missing: str = "auto") -> dict[str, np.ndarray | None]:
    """One-factor loadings of each scale in ``human`` (polychoric where the scale's estimator is WLSMV), None
    where the model cannot be fitted; kept while ``human`` lives (:func:`.structure.keyed_loadings`)."""
    loadings = {}
    for scale, keyed in setting.keys.items():
        try:
            loadings[scale] = keyed_loadings(human, keyed, setting.ranges, _ordinal(estimators, scale), missing)
        except (SiliconSampleError, np.linalg.LinAlgError):
            loadings[scale] = None
    return loadings


def figures(human: pd.DataFrame, silicon: pd.DataFrame, setting: Setting, families=FAMILIES,
            congruence: bool = True, loadings: dict | None = None, detail: dict | None = None,
            estimators: dict[str, str] | None = None, why: dict[str, str] | None = None,
            missing: str = "auto") -> dict[str, float]:
    """Every figure of the table in the module docstring (but the invariance level) for one silicon sample;
    ``why``, when given, receives the reason of each figure that could not be computed.

    ``human`` and ``silicon`` carry item columns, scale scores (when the instrument has scales), attribute
    columns and ``weight``. ``detail``, when given, receives the per-row figures of :data:`ROW_FIGURES`
    (one Series each: per item, per scale). ``estimators`` (scale → ML, MLR or WLSMV) says which
    correlations the congruence's loadings come from (:mod:`.structure`); default Pearson.
    """
    out: dict[str, float] = {}
    wh, ws = _weights(human), _weights(silicon)
    if "levels" in families:
        items = compare_items(human, silicon, setting.options, wh, ws)
        if detail is not None:
            detail.setdefault("representativeness", []).append(items["representativeness"])
        out["item_representativeness"] = float(items["representativeness"].mean())
        out["item_js_distance"] = float(items["js_distance"].mean())
        out["item_abs_d"] = float(items["d"].abs().mean())
        if setting.keys:
            abs_d = pd.Series({s: abs(cohens_d(silicon[s], human[s], ws, wh)) for s in setting.keys},
                              dtype=float).rename_axis("scale")
            out["scale_abs_d"] = float(abs_d.mean())
            if detail is not None:
                detail.setdefault("abs_d", []).append(abs_d)
    if "structure" in families:
        keyed = [k.lstrip("-") for ks in setting.keys.values() for k in ks] or setting.items
        out["correlation_srmr"] = correlation_srmr(human, silicon, keyed)
        if setting.keys and congruence:
            loadings = loadings if loadings is not None else human_loadings(setting, human, estimators, missing)
            phis = pd.Series(np.nan, index=pd.Index(list(setting.keys), name="scale"), dtype=float)
            for scale, keyed_scale in setting.keys.items():
                if loadings.get(scale) is None or len(keyed_scale) < 2:
                    continue
                try:
                    b = standardized_loadings(keyed_items(silicon, keyed_scale, setting.ranges),
                                              _ordinal(estimators, scale), missing)
                    phis[scale] = tucker_congruence(loadings[scale], b)
                except (SiliconSampleError, np.linalg.LinAlgError):
                    pass
            fitted = phis[np.isfinite(phis)]
            out["congruence"] = float(fitted.mean()) if len(fitted) else np.nan
            if detail is not None:
                detail.setdefault("congruence", []).append(phis)
    if "subgroups" in families and setting.attributes:
        metrics = subgroup_metrics(human, silicon, setting.attributes, setting.items, setting.options, wh, ws,
                                   setting.categories)
        out["subgroup_representativeness"] = float(metrics["representativeness"].mean())
        patterns = pattern_correspondence(human, silicon, setting.attributes, setting.outcomes, wh, ws,
                                          categories=setting.categories)
        if detail is not None:
            detail.setdefault("subgroup_representativeness", []).append(metrics["representativeness"])
            if len(patterns):
                detail.setdefault("delta_d", []).append((patterns["d_silicon"] - patterns["d_human"]).abs())
        summary = pattern_summary(patterns)
        out["sign_agreement"], out["d_correlation"] = summary["sign_agreement"], summary["d_correlation"]
        if why is not None and summary["reason"]:
            why.update(sign_agreement=summary["reason"], d_correlation=summary["reason"])
    if why is not None and "congruence" in out and not np.isfinite(out["congruence"]):
        why["congruence"] = ("no scale's factor model could be fitted to both sources (too few respondents, or an "
                             "item without variance)")
    return out


# -- the samples the anchors are computed on ----------------------------------------------------------
def uniform_sample(silicon: pd.DataFrame, setting: Setting, rng: np.random.Generator) -> pd.DataFrame:
    """The silicon respondents answering every item with every option equally likely."""
    answers = {item: rng.choice(values, size=len(silicon)) for item, values in setting.options.items()}
    return with_scale_scores(silicon.assign(**answers), setting)


def marginal_sample(silicon: pd.DataFrame, setting: Setting, rng: np.random.Generator) -> pd.DataFrame:
    """The silicon respondents answering each item independently from the human distribution of that item."""
    wh = _weights(setting.human)
    answers = {}
    for item, values in setting.options.items():
        x = pd.to_numeric(setting.human[item], errors="coerce").to_numpy(dtype=float)
        p = np.array([wh[x == v].sum() for v in values], dtype=float)
        answers[item] = rng.choice(values, size=len(silicon), p=p / p.sum())
    return with_scale_scores(silicon.assign(**answers), setting)


def shuffled_sample(silicon: pd.DataFrame, setting: Setting, rng: np.random.Generator) -> pd.DataFrame:
    """The silicon answers with the respondents' attributes permuted across respondents (jointly)."""
    order = rng.permutation(len(silicon))
    shuffled = silicon.copy()
    for attribute in setting.attributes:
        shuffled[attribute] = silicon[attribute].to_numpy()[order]
    return shuffled


def human_split(n: int, setting: Setting, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the other N − n respondents, n respondents drawn without replacement) of the baseline."""
    pick = np.zeros(len(setting.human), dtype=bool)
    pick[rng.choice(len(setting.human), size=n, replace=False)] = True
    return setting.human[~pick], setting.human[pick]


def bootstrap_sample(silicon: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Respondents resampled with replacement; whole personas when a persona has several rows."""
    if "persona_id" in silicon and silicon["persona_id"].duplicated().any():
        personas = silicon["persona_id"].unique()
        chosen = rng.choice(personas, size=len(personas), replace=True)
        groups = silicon.groupby("persona_id").indices
        return silicon.iloc[np.concatenate([groups[p] for p in chosen])]
    return silicon.iloc[rng.integers(0, len(silicon), size=len(silicon))]


# -- the anchored table -----------------------------------------------------------------------------
def _level_index(level: str) -> float:
    return float(INVARIANCE_ORDER.index(level)) if level in INVARIANCE_ORDER else np.nan


def invariance_ceiling(setting: Setting, n: int, rng: np.random.Generator, estimator: str | None = None,
                       missing: str = "auto") -> str:
    """The invariance level n humans reach against the other N − n (one fit, partial release allowed), with
    the pair's estimator; an option a small human subsample leaves empty is merged (sampling, not
    measurement)."""
    rest, sub = human_split(n, setting, rng)
    _, level, _ = invariance_between_sources(rest, sub, setting.keys, estimator=estimator, collapse_empty=True,
                                             n_options={item: len(codes) for item, codes in setting.options.items()},
                                             missing=missing)
    return level


@dataclass
class HumanCeiling:
    """The human ceiling at one n: the figures of ``repetitions`` splits (n humans against the other N − n) and
    their per-row figures."""

    figures: list[dict]
    detail: dict[str, list]


def human_ceiling(setting: Setting, n: int, *, repetitions: int, structure_repetitions: int, seed: int,
                  estimators: dict[str, str] | None, missing: str) -> HumanCeiling:
    """The human ceiling of the anchors at sample size ``n`` (module docstring), drawn from a generator of its own
    seeded by (``seed``, n): every pair of the same size shares it, so it is computed once per baseline, size and
    settings and kept in ``setting.human_ceilings``."""
    key = ("figures", n, repetitions, structure_repetitions, seed, tuple(sorted((estimators or {}).items())),
           missing)
    if key not in setting.human_ceilings:
        rng = np.random.default_rng([seed, n, 7])
        runs: list[dict] = []
        detail: dict[str, list] = {}
        for r in range(repetitions):
            rest, sub = human_split(n, setting, rng)
            runs.append(figures(rest, sub, setting, congruence=r < structure_repetitions, detail=detail,
                                estimators=estimators, missing=missing))
        setting.human_ceilings[key] = HumanCeiling(runs, detail)
    return setting.human_ceilings[key]


def shared_invariance_ceiling(setting: Setting, n: int, seed: int, estimator: str | None, missing: str) -> str:
    """:func:`invariance_ceiling` on a split of its own generator (``seed``, n), kept in ``setting.human_ceilings``
    for every pair of this size and estimator."""
    key = ("invariance", n, seed, estimator, missing)
    if key not in setting.human_ceilings:
        setting.human_ceilings[key] = invariance_ceiling(setting, n, np.random.default_rng([seed, n, 8]),
                                                         estimator, missing)
    return setting.human_ceilings[key]


def anchored_figures(human: pd.DataFrame, silicon: pd.DataFrame, setting: Setting, *, bootstrap: int = 200,
                     repetitions: int = 10, structure_bootstrap: int = 20, structure_repetitions: int = 3,
                     invariance_level: str | None = None, seed: int = 0,
                     estimators: dict[str, str] | None = None, invariance_estimator: str | None = None,
                     missing: str = "auto") -> Anchored:
    """One row per figure: the raw value with its bootstrap interval, the floors, the ceiling and the
    normalized score (see the module docstring), for one model–persona pair; and the same per row for each
    item's representativeness (``.items``), each scale's |d| (``.scales``) and congruence (``.structure``).

    Parameters
    ----------
    human : DataFrame
        The baseline's respondents: item columns, scale scores, attributes, ``weight``.
    silicon : DataFrame
        The pair's silicon respondents, alike (``persona_id`` makes the bootstrap resample personas).
    setting : Setting
        Items, options, keys and subgroups (:func:`setting_for`).
    bootstrap, repetitions, structure_bootstrap, structure_repetitions : int
        Bootstrap resamples of the raw figures; repetitions of every floor and of the ceiling; bootstrap
        resamples and floor / ceiling repetitions of the congruence (a factor model per sample).
    invariance_level : str, optional
        The highest invariance level the pair reached; with it the ``invariance_level`` row is anchored too.
    seed : int
        Seeds every draw.
    estimators : dict, optional
        Scale → ML, MLR or WLSMV (:func:`.structure.scale_estimators`): the congruence of the raw figure,
        its resamples, floors and ceiling all use the correlations it names.
    invariance_estimator : str, optional
        The estimator the pair's invariance models used; the invariance ceiling is fitted with it too.
    """
    rng = np.random.default_rng(seed)
    n = len(silicon)
    loadings = human_loadings(setting, human, estimators, missing) if setting.keys else {}
    detail: dict[str, dict] = {"raw": {}, "bootstrap": {}, "uniform": {}, "marginal": {}, "shuffled": {},
                               "ceiling": {}}
    why_missing: dict[str, str] = {}
    raw = figures(human, silicon, setting, loadings=loadings, detail=detail["raw"], estimators=estimators,
                  why=why_missing, missing=missing)
    replicates = [figures(human, bootstrap_sample(silicon, rng), setting, congruence=b < structure_bootstrap,
                          loadings=loadings, detail=detail["bootstrap"], estimators=estimators,
                          missing=missing)
                  for b in range(bootstrap)]
    anchors: dict[str, list[dict]] = {name: [] for name in FLOORS}
    ceiling_possible = len(setting.human) - n >= max(30, n // 10)
    ceiling = (human_ceiling(setting, n, repetitions=repetitions, structure_repetitions=structure_repetitions,
                             seed=seed, estimators=estimators, missing=missing)
               if ceiling_possible else HumanCeiling([], {}))
    anchors["ceiling"] = ceiling.figures
    detail["ceiling"] = {measure: list(series) for measure, series in ceiling.detail.items()}
    for r in range(repetitions):
        fit = r < structure_repetitions
        anchors["uniform"].append(figures(human, uniform_sample(silicon, setting, rng), setting, congruence=fit,
                                          loadings=loadings, detail=detail["uniform"], estimators=estimators,
                                          missing=missing))
        anchors["marginal"].append(figures(human, marginal_sample(silicon, setting, rng), setting, congruence=fit,
                                           loadings=loadings, detail=detail["marginal"], estimators=estimators,
                                           missing=missing))
        anchors["shuffled"].append(figures(human, shuffled_sample(silicon, setting, rng), setting,
                                           families=("subgroups",), detail=detail["shuffled"]))
    rows, scaled = [], {}
    for name, value in raw.items():
        family, higher = FIGURES[name]
        boot = np.array([r.get(name, np.nan) for r in replicates], dtype=float)
        boot = boot[np.isfinite(boot)]
        row = {"figure": name, "family": family, "better": "higher" if higher else "lower", "n_silicon": n,
               "n_human": len(human), "value": value, "note": ""}
        if not np.isfinite(value):
            row["note"] = f"not computed: {why_missing.get(name, 'the figure could not be computed on these answers')}"
        elif len(boot) >= 10:
            row["ci_low"], row["ci_high"] = np.clip(interval(value, boot), *BOUNDS[name])
        if not np.isfinite(value) or len(boot) < 10:
            row["ci_low"] = row["ci_high"] = np.nan
        if np.isfinite(value) and len(boot) < 10:
            row["note"] = "no interval: too few resamples could be fitted"
        spread = {}
        for anchor, runs in anchors.items():
            values = np.array([r.get(name, np.nan) for r in runs], dtype=float)
            values = values[np.isfinite(values)]
            column = "ceiling" if anchor == "ceiling" else f"{anchor}_floor"
            row[column] = float(values.mean()) if len(values) else np.nan
            spread[anchor] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        row["ceiling_sd"] = spread["ceiling"]
        if not ceiling_possible:
            row["note"] = "no ceiling: the baseline is not larger than the silicon sample by enough respondents"
        rows.append(_normalize(row, spread, higher, repetitions))
        scaled[name] = _scaled(row, np.array([r.get(name, np.nan) for r in replicates], dtype=float))
    if invariance_level is not None and setting.keys and ceiling_possible:
        top_level = shared_invariance_ceiling(setting, n, seed, invariance_estimator, missing)
        value, top = _level_index(invariance_level), _level_index(top_level)
        row = {"figure": "invariance_level", "family": "structure", "better": "higher", "n_silicon": n,
               "n_human": len(human), "value": value, "ci_low": np.nan, "ci_high": np.nan,
               "uniform_floor": np.nan, "marginal_floor": np.nan, "shuffled_floor": np.nan, "ceiling": top,
               "ceiling_sd": np.nan, "best_floor": 0.0, "best_floor_is": "none (the bottom of the scale)",
               "normalized": value / top if top > 0 else np.nan, "normalized_low": np.nan, "normalized_high": np.nan,
               "note": f"levels 0 none … {len(INVARIANCE_ORDER) - 1} strict "
                       f"({', '.join(INVARIANCE_ORDER)}); ceiling {top_level} "
                       f"({invariance_estimator or 'estimator chosen from the humans’ answers'}); no interval "
                       "(every level would be refitted per resample); the floors are not fitted: answers without "
                       "structure end 'none' after tens of seconds, or at a degenerate level when their latent "
                       "variances are near zero, so the scale's bottom is the floor"}
        rows.append(row)
    rows += family_rows(rows, scaled, n, len(human))
    rows_of = {measure: row_anchors(detail, measure) for measure in ROW_FIGURES if measure in detail["raw"]}
    return Anchored(pd.DataFrame(rows).set_index("figure")[ANCHOR_COLUMNS],
                    {ROW_FIGURES[measure][0]: table for measure, table in rows_of.items()})


ROW_FIGURES = {  # per-row figure: (table, zeros, higher is better, bounds)
    "representativeness": ("items", ("uniform",), True, (0, 1)),
    "abs_d": ("scales", ("uniform",), False, (0, np.inf)),
    "congruence": ("structure", ("uniform", "marginal"), True, (-1, 1)),
    "subgroup_representativeness": ("subgroups", ("uniform", "marginal", "shuffled"), True, (0, 1)),
    "delta_d": ("patterns", ("uniform", "marginal", "shuffled"), False, (0, np.inf)),   # |d_silicon − d_human|
}


@dataclass
class Anchored:
    """The anchored figures of one pair, and the anchored per-row figures of its tables, by table name
    (``items``: representativeness; ``scales``: |d|; ``structure``: congruence; ``subgroups``:
    representativeness; ``patterns``: |d_silicon − d_human|)."""

    figures: pd.DataFrame
    rows: dict[str, pd.DataFrame]


def row_anchors(detail: dict[str, dict], measure: str) -> pd.DataFrame:
    """Per row (item or scale) of one figure: its interval, floors, ceiling, best floor and normalized score,
    the same way as the summary figures (the zeros of :data:`ROW_FIGURES`); columns prefixed ``measure_``."""
    _, zeros, higher, bounds = ROW_FIGURES[measure]
    value = detail["raw"][measure][0]
    out = pd.DataFrame(index=value.index)
    resampled = detail["bootstrap"].get(measure, [])
    boot = pd.concat(resampled, axis=1).to_numpy() if resampled else np.empty((len(value), 0))
    counts = np.isfinite(boot).sum(axis=1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # a row never fitted in a resample: no interval
        low, median, high = (np.nanpercentile(boot, [2.5, 50, 97.5], axis=1) if boot.shape[1]
                             else np.full((3, len(value)), np.nan))
    enough = counts >= 10
    out[f"{measure}_ci_low"] = np.where(enough, np.clip(value - (median - low), *bounds), np.nan)
    out[f"{measure}_ci_high"] = np.where(enough, np.clip(value + (high - median), *bounds), np.nan)
    for anchor in ("uniform", "marginal", "shuffled", "ceiling"):
        runs = detail[anchor].get(measure, [])
        column = anchor if anchor == "ceiling" else f"{anchor}_floor"
        out[f"{measure}_{column}"] = pd.concat(runs, axis=1).mean(axis=1) if runs else np.nan
    floors = out[[f"{measure}_{z}_floor" for z in zeros]]
    best = floors.max(axis=1) if higher else floors.min(axis=1)
    room = out[f"{measure}_ceiling"] - best
    usable = room > 0 if higher else room < 0
    with np.errstate(all="ignore"):
        out[f"{measure}_normalized"] = ((value - best) / room).where(usable)
        for end in ("low", "high"):
            out[f"{measure}_normalized_{end}"] = ((out[f"{measure}_ci_{end}"] - best) / room).where(usable)
        if not higher:       # for lower-is-better figures the interval's ends swap on the normalized scale
            lows = out[f"{measure}_normalized_low"].copy()
            out[f"{measure}_normalized_low"] = out[f"{measure}_normalized_high"]
            out[f"{measure}_normalized_high"] = lows
    return out


def _scaled(row: dict, boot: np.ndarray) -> np.ndarray | None:
    """The resampled values of a figure on its normalized scale (None when it has no normalized score)."""
    if not np.isfinite(row["normalized"]):
        return None
    return (boot - row["best_floor"]) / (row["ceiling"] - row["best_floor"])


def family_rows(rows: list[dict], scaled: dict[str, np.ndarray | None], n: int, n_human: int) -> list[dict]:
    """Per family: the mean normalized score of its figures, with an interval from the same resamples."""
    out = []
    for family in FAMILIES:
        members = [r for r in rows if r["family"] == family and np.isfinite(r["normalized"])]
        row = {"figure": family, "family": family, "better": "higher", "n_silicon": n, "n_human": n_human,
               **{c: np.nan for c in ANCHOR_COLUMNS if c not in ("family", "better", "n_silicon", "n_human")}}
        row.update(best_floor_is="", note="")
        if not members:
            why = list(dict.fromkeys(r["note"] for r in rows if r["family"] == family and r["note"]))
            row["note"] = f"no {family} figure could be normalized" + (f": {'; '.join(why)}" if why else "")
            out.append(row)
            continue
        value = float(np.mean([np.clip(r["normalized"], *FAMILY_CLIP) for r in members]))
        row.update(value=value, normalized=value,
                   note="mean normalized score of " + ", ".join(r["figure"] for r in members))
        resampled = [scaled[r["figure"]] for r in members if scaled.get(r["figure"]) is not None]
        if resampled and all(len(b) == len(resampled[0]) for b in resampled):
            # a figure without resamples (the invariance level) enters every resample as its one value
            boots = [scaled.get(r["figure"]) if scaled.get(r["figure"]) is not None
                     else np.full(len(resampled[0]), r["normalized"]) for r in members]
            stacked = np.clip(np.vstack(boots), *FAMILY_CLIP)
            boot = stacked[:, np.isfinite(stacked).all(axis=0)].mean(axis=0)   # resamples with every figure
            if len(boot) >= 10:
                row["ci_low"], row["ci_high"] = interval(value, boot)
                row["normalized_low"], row["normalized_high"] = row["ci_low"], row["ci_high"]
        out.append(row)
    return out


def _normalize(row: dict, spread: dict, higher: bool, repetitions: int) -> dict:
    zeros = {name: row.get(f"{name}_floor", np.nan) for name in ZEROS[row["family"]]}
    zeros = {k: v for k, v in zeros.items() if np.isfinite(v)}
    row.update(best_floor=np.nan, best_floor_is="", normalized=np.nan, normalized_low=np.nan,
               normalized_high=np.nan)
    if not zeros:
        return row
    best = (max if higher else min)(zeros, key=zeros.get)
    row["best_floor"], row["best_floor_is"] = zeros[best], best
    ceiling = row.get("ceiling", np.nan)
    room = (ceiling - zeros[best]) if higher else (zeros[best] - ceiling)
    noise = 2 * np.sqrt((spread.get(best, 0.0) ** 2 + spread.get("ceiling", 0.0) ** 2) / max(repetitions, 1))
    if not np.isfinite(ceiling) or room <= noise or room <= 0:
        if np.isfinite(ceiling):
            row["note"] = "; ".join(filter(None, [row["note"], f"no room to normalize: the {best} floor reaches "
                                                               "the human ceiling for this figure"]))
        return row
    scale = ceiling - zeros[best]
    row["normalized"] = (row["value"] - zeros[best]) / scale
    if np.isfinite(row["ci_low"]):
        ends = (np.array([row["ci_low"], row["ci_high"]]) - zeros[best]) / scale
        row["normalized_low"], row["normalized_high"] = float(ends.min()), float(ends.max())
    return row


def interval(value: float, boot: np.ndarray) -> tuple[float, float]:
    """The 95 % spread of the resampled figures around their median, placed around ``value``."""
    low, median, high = np.percentile(boot, [2.5, 50, 97.5])
    return float(value - (median - low)), float(value + (high - median))


