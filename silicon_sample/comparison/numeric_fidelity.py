"""Numeric answers (a feeling thermometer, a count) compared with humans: levels, spread, shape and heaping,
between a floor and a human ceiling.

Per numeric item, silicon beside human (persona and survey weights throughout):

- the means with their 95 % t intervals and d (:func:`.item_fidelity.comparison_row`: Kish's n, SD with
  N − 1, Hedges–Olkin interval of d);
- the weighted medians (the lower weighted median: the smallest value whose cumulative weight reaches half)
  with percentile-bootstrap intervals;
- the SD ratio silicon / human (below 1: compressed answers) with its bootstrap interval;
- the Wasserstein-1 distance between the two distributions, in the item's units (``scipy.stats.
  wasserstein_distance`` with weights) with its bootstrap interval, and the Kolmogorov–Smirnov distance
  (sup |F_silicon − F_human| of the weighted ECDFs);
- heaping: the share of answers at multiples of 5, 10 and 50 in each source (human thermometer answers heap
  at 50 and on round numbers; Tourangeau, Rips & Rasinski 2000, ch. 8; Wilcox, Sigelman & Cook 1989);
- the floor: W1 of answers drawn uniformly over the item's allowed values (what a model that ignored the
  question would score), and the ceiling: W1 between ``n_silicon`` humans drawn at random and the other
  humans (the distance a perfect model still shows from sampling alone at this n), each averaged over
  ``repetitions``; ``w1_normalized`` = (floor − W1) / (floor − ceiling): 1 at the ceiling, 0 at the floor;
- with ``attributes``, subgroups: ``w1_subgroups``, the mean over every category of every attribute of W1
  between the silicon and the human answers of that category (categories with two answers or more on both
  sides), against the **marginal floor** ``w1_subgroups_floor_marginal`` — the same figure for silicon
  answers drawn from all the humans' answers whatever the persona (a model that ignores the persona's
  attributes and still gets the overall distribution right) — and the ceiling ``w1_subgroups_ceiling`` —
  ``n_silicon`` humans against the other humans, within categories; ``w1_subgroups_normalized`` as above.

A numeric item's special codes (998 "Don't know") are missing values here, counted in ``n_special_*``.

References
----------
Villani, C. (2009). *Optimal transport: old and new*, ch. 6 (the Wasserstein-1 distance).
Efron, B., & Tibshirani, R. J. (1993). *An introduction to the bootstrap*, ch. 13 (percentile intervals).

Examples
--------
>>> import numpy as np, pandas as pd
>>> human = pd.DataFrame({"t": [50, 60, 70, 85, 40, 50], "weight": 1.0})
>>> silicon = pd.DataFrame({"t": [50, 50, 55, 60], "weight": 1.0})
>>> row = compare_numeric(human, silicon, {"t": NumericItem(0, 100)}, bootstrap=50, repetitions=5).loc["t"]
>>> round(float(row["w1"]), 2), float(row["heaping_10_silicon"])
(8.75, 0.75)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .item_fidelity import comparison_row, weighted_moments


@dataclass(frozen=True)
class NumericItem:
    """What the comparison needs of a numeric item: its range, its step (1 for whole numbers; None for any
    decimal) and its special codes."""

    low: float
    high: float
    step: float | None = 1.0
    special: tuple[float, ...] = ()

    def allowed(self) -> np.ndarray | None:
        if self.step is None:
            return None
        return np.arange(self.low, self.high + self.step / 2, self.step)


def numeric_items(instrument) -> dict[str, NumericItem]:
    """The numeric items of an instrument as :class:`NumericItem`."""
    return {item.id: NumericItem(item.minimum, item.maximum, item.step or (1.0 if item.integer else None),
                                 tuple(float(o.value) for o in item.special))
            for item in instrument.items if item.type == "numeric"}


def weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    """The lower weighted median: the smallest x whose cumulative weight reaches half the total."""
    if not len(x):
        return np.nan
    order = np.argsort(x, kind="stable")
    cumulative = np.cumsum(w[order])
    return float(x[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def ks_distance(x: np.ndarray, wx: np.ndarray, y: np.ndarray, wy: np.ndarray) -> float:
    """sup |F_x − F_y| of the weighted ECDFs."""
    grid = np.union1d(x, y)

    def ecdf(values, weights):
        order = np.argsort(values, kind="stable")
        cumulative = np.cumsum(weights[order]) / weights.sum()
        return np.concatenate([[0.0], cumulative])[np.searchsorted(values[order], grid, side="right")]

    return float(np.max(np.abs(ecdf(x, wx) - ecdf(y, wy))))


def w1(x: np.ndarray, wx: np.ndarray, y: np.ndarray, wy: np.ndarray) -> float:
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(x, y, wx, wy))


def heaping(x: np.ndarray, w: np.ndarray, multiple: float) -> float:
    """Weighted share of answers at a multiple of ``multiple``."""
    at = np.isclose(np.mod(x, multiple), 0) | np.isclose(np.mod(x, multiple), multiple)
    return float(np.sum(w * at) / w.sum()) if len(x) else np.nan


def _answers(frame: pd.DataFrame, item: str, spec: NumericItem, weights: np.ndarray):
    values = pd.to_numeric(frame[item], errors="coerce").to_numpy(dtype=float)
    special = np.isin(values, spec.special)
    keep = ~np.isnan(values) & ~special
    return values[keep], weights[keep], int(special.sum())


def _interval(draws: list[float]) -> tuple[float, float]:
    finite = [d for d in draws if np.isfinite(d)]
    if len(finite) < 2:
        return np.nan, np.nan
    return float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5))


def compare_numeric(human: pd.DataFrame, silicon: pd.DataFrame, items: dict[str, NumericItem],
                    human_weights: np.ndarray | None = None, silicon_weights: np.ndarray | None = None, *,
                    bootstrap: int = 200, repetitions: int = 10, seed: int = 0,
                    attributes: list[str] | None = None) -> pd.DataFrame:
    """The numeric comparison of one silicon source (see the module docstring), one row per item.

    Parameters
    ----------
    human, silicon : DataFrame
        One row per respondent with a column per item; weights from ``weight`` unless given.
    items : dict
        ``{item: NumericItem}`` (:func:`numeric_items`).
    bootstrap, repetitions, seed : int
        Bootstrap resamples for the intervals (respondents resampled within each source), repetitions of the
        floor and the ceiling, and their seed.
    """
    rng = np.random.default_rng(seed)
    wh_all = (human["weight"].to_numpy(dtype=float) if human_weights is None and "weight" in human
              else np.ones(len(human)) if human_weights is None else np.asarray(human_weights, dtype=float))
    ws_all = (silicon["weight"].to_numpy(dtype=float) if silicon_weights is None and "weight" in silicon
              else np.ones(len(silicon)) if silicon_weights is None else np.asarray(silicon_weights, dtype=float))
    rows = {}
    for item, spec in items.items():
        xh, wh, special_h = _answers(human, item, spec, wh_all)
        xs, ws, special_s = _answers(silicon, item, spec, ws_all)
        row = comparison_row(weighted_moments(xh, wh), weighted_moments(xs, ws))
        row.update(n_special_human=special_h, n_special_silicon=special_s,
                   median_human=weighted_median(xh, wh), median_silicon=weighted_median(xs, ws))
        row["sd_ratio"] = row["sd_silicon"] / row["sd_human"] if row["sd_human"] else np.nan
        enough = len(xh) > 1 and len(xs) > 1
        row["w1"] = w1(xs, ws, xh, wh) if enough else np.nan
        row["ks"] = ks_distance(xs, ws, xh, wh) if enough else np.nan
        for multiple in (5, 10, 50):
            row[f"heaping_{multiple}_human"] = heaping(xh, wh, multiple)
            row[f"heaping_{multiple}_silicon"] = heaping(xs, ws, multiple)
        draws = {"median_human": [], "median_silicon": [], "sd_ratio": [], "w1": []}
        for _ in range(bootstrap if enough else 0):
            bh = rng.integers(0, len(xh), len(xh))
            bs = rng.integers(0, len(xs), len(xs))
            draws["median_human"].append(weighted_median(xh[bh], wh[bh]))
            draws["median_silicon"].append(weighted_median(xs[bs], ws[bs]))
            sd_h, sd_s = weighted_moments(xh[bh], wh[bh])[1], weighted_moments(xs[bs], ws[bs])[1]
            draws["sd_ratio"].append(sd_s / sd_h if sd_h else np.nan)
            draws["w1"].append(w1(xs[bs], ws[bs], xh[bh], wh[bh]))
        for name, values in draws.items():
            row[f"{name}_low"], row[f"{name}_high"] = _interval(values)
        row.update(_anchors(xh, wh, len(xs), spec, rng, repetitions) if enough else
                   {"w1_floor_uniform": np.nan, "w1_ceiling": np.nan})
        span = row["w1_floor_uniform"] - row["w1_ceiling"]
        row["w1_normalized"] = (row["w1_floor_uniform"] - row["w1"]) / span if span > 0 else np.nan
        if attributes:
            row.update(_subgroups(human, silicon, item, spec, wh_all, ws_all, attributes, rng, repetitions))
        rows[item] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "item"
    return table


def _subgroups(human: pd.DataFrame, silicon: pd.DataFrame, item: str, spec: NumericItem, wh_all: np.ndarray,
               ws_all: np.ndarray, attributes: list[str], rng, repetitions: int) -> dict:
    """Within-category W1, its marginal floor and its split-half ceiling (module docstring)."""
    values_h = pd.to_numeric(human[item], errors="coerce").to_numpy(dtype=float)
    values_s = pd.to_numeric(silicon[item], errors="coerce").to_numpy(dtype=float)
    ok_h = ~np.isnan(values_h) & ~np.isin(values_h, spec.special)
    ok_s = ~np.isnan(values_s) & ~np.isin(values_s, spec.special)
    groups = []
    for attribute in attributes:
        if attribute not in human or attribute not in silicon:
            continue
        for category in pd.unique(silicon[attribute].dropna()):
            in_h = ok_h & (human[attribute] == category).to_numpy()
            in_s = ok_s & (silicon[attribute] == category).to_numpy()
            if in_h.sum() >= 2 and in_s.sum() >= 2:
                groups.append((in_h, in_s))
    if not groups:
        return {"w1_subgroups": np.nan, "w1_subgroups_floor_marginal": np.nan, "w1_subgroups_ceiling": np.nan,
                "w1_subgroups_normalized": np.nan, "n_subgroups": 0}
    value = float(np.mean([w1(values_s[s], ws_all[s], values_h[h], wh_all[h]) for h, s in groups]))
    pool, pool_w = values_h[ok_h], wh_all[ok_h] / wh_all[ok_h].sum()
    floors, ceilings = [], []
    for _ in range(repetitions):
        drawn = values_s.copy()
        drawn[ok_s] = rng.choice(pool, ok_s.sum(), p=pool_w)        # the humans' answers, whoever asks
        floors.append(np.mean([w1(drawn[s], ws_all[s], values_h[h], wh_all[h]) for h, s in groups]))
        distances = []
        for h, s in groups:
            members = np.flatnonzero(h)
            k = int(s.sum())
            if len(members) > k:
                picked = np.zeros(len(values_h), dtype=bool)
                picked[rng.choice(members, k, replace=False)] = True
                rest = h & ~picked
                distances.append(w1(values_h[picked], wh_all[picked], values_h[rest], wh_all[rest]))
        if distances:
            ceilings.append(np.mean(distances))
    floor = float(np.mean(floors))
    ceiling = float(np.mean(ceilings)) if ceilings else np.nan
    span = floor - ceiling
    return {"w1_subgroups": value, "w1_subgroups_floor_marginal": floor, "w1_subgroups_ceiling": ceiling,
            "w1_subgroups_normalized": (floor - value) / span if span > 0 else np.nan, "n_subgroups": len(groups)}


def _anchors(xh: np.ndarray, wh: np.ndarray, n_silicon: int, spec: NumericItem, rng, repetitions: int) -> dict:
    """The uniform floor and the split-half human ceiling of W1 at the silicon's n (module docstring)."""
    allowed = spec.allowed()
    floors, ceilings = [], []
    for _ in range(repetitions):
        uniform = (rng.choice(allowed, n_silicon) if allowed is not None
                   else rng.uniform(spec.low, spec.high, n_silicon))
        floors.append(w1(uniform, np.ones(n_silicon), xh, wh))
        if len(xh) > n_silicon:
            picked = np.zeros(len(xh), dtype=bool)
            picked[rng.choice(len(xh), n_silicon, replace=False)] = True
            ceilings.append(w1(xh[picked], wh[picked], xh[~picked], wh[~picked]))
    return {"w1_floor_uniform": float(np.mean(floors)),
            "w1_ceiling": float(np.mean(ceilings)) if ceilings else np.nan}


__all__ = ["NumericItem", "compare_numeric", "heaping", "ks_distance", "numeric_items", "weighted_median"]
