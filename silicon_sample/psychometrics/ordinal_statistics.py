"""Sample statistics of ordinal items: thresholds, polychoric correlations and their asymptotic covariance.

Why not a library: no maintained Python package estimates polychoric correlations together with the
asymptotic covariance matrix of thresholds and correlations that WLSMV needs (semopy has no thresholds;
statsmodels and pingouin have no polychorics). The three steps follow lavaan's ``muthen1984()``:

1. **Thresholds** of item i (categories 0..K−1, the values observed in the pooled data): with P_k the
   cumulative proportion of answers at or below category k, τ_k = Φ⁻¹(P_k), k = 0..K−2.
2. **Polychoric correlation** of items i and j, thresholds held at step 1 (two-step estimator, Olsson
   1979): ρ maximises Σ_ab n_ab log π_ab(ρ), with π_ab = Φ₂(τ_a, τ'_b; ρ) − Φ₂(τ_{a−1}, τ'_b; ρ)
   − Φ₂(τ_a, τ'_{b−1}; ρ) + Φ₂(τ_{a−1}, τ'_{b−1}; ρ), solved by Fisher scoring for all pairs at once.
3. **Asymptotic covariance** Γ of κ = (thresholds, correlations) (Muthén 1984; Muthén & Satorra 1995):
   with the case-wise scores s_n of the threshold (univariate) and correlation (bivariate) likelihoods,
   the two-step estimating equations have the block-triangular Jacobian B = [[A₁₁, 0], [A₂₁, A₂₂]] built
   from cross-products of scores (A₁₁ per item, A₂₁ = Σ_n s_ρ ∂ℓ_ij/∂τ, A₂₂ = diag Σ_n s_ρ²), and
   ACOV(κ̂) = B⁻¹ (Σ_n s_n s_n') B⁻ᵀ. ``gamma`` is N · ACOV (lavaan's ``NACOV``, ``lavInspect(fit, "gamma")``).

Bivariate normal probabilities use Owen's T function (scipy.special.owens_t):
Φ₂(h, k; ρ) = ½Φ(h) + ½Φ(k) − T(h, a_h) − T(k, a_k) − β, a_h = (k − ρh)/(h√(1−ρ²)),
a_k = (h − ρk)/(k√(1−ρ²)), β = ½ when hk < 0 (or hk = 0 and h + k < 0), else 0 (Owen 1956).

With ``missing = "pairwise"`` (lavaan's, for WLSMV) every respondent with an answer counts: an item's thresholds
come from the respondents who answered it, a pair's correlation from those who answered both, and a score is 0
where its answers are missing (lavaan's ``lav_mat_crossprod`` skips them), so Γ takes each statistic's own
respondents; N is every respondent with at least one answer. A missing answer is code −1 in ``codes``.

Statistics are ordered as lavaan orders them: thresholds item by item (``N1|t1`` … ``N5|t5``), then the
correlations of the lower triangle column by column (``N1~~N2``, ``N1~~N3``, …).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from ..errors import DataError

_BIG = 1e10  # stands for an infinite threshold (Φ(±1e10) is exactly 0 or 1)


def bivariate_normal_cdf(h: np.ndarray, k: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Φ₂(h, k; ρ), vectorized, by Owen's T function (see the module docstring)."""
    h, k, rho = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float), np.asarray(rho, float))
    h = np.clip(h, -_BIG, _BIG)
    k = np.clip(k, -_BIG, _BIG)
    s = np.sqrt(1.0 - rho**2)
    hh = np.where(h == 0, 1e-300, h)
    kk = np.where(k == 0, 1e-300, k)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        t_h = special.owens_t(hh, (kk - rho * hh) / (hh * s))
        t_k = special.owens_t(kk, (hh - rho * kk) / (kk * s))
    beta = np.where((h * k < 0) | ((h * k == 0) & (h + k < 0)), 0.5, 0.0)
    value = 0.5 * special.ndtr(h) + 0.5 * special.ndtr(k) - t_h - t_k - beta
    value = np.where((h <= -_BIG) | (k <= -_BIG), 0.0, value)
    value = np.where(h >= _BIG, special.ndtr(k), value)
    value = np.where(k >= _BIG, special.ndtr(h), value)
    return np.clip(value, 0.0, 1.0)


def bivariate_normal_pdf(h: np.ndarray, k: np.ndarray, rho: np.ndarray) -> np.ndarray:
    h, k = np.clip(h, -_BIG, _BIG), np.clip(k, -_BIG, _BIG)
    det = 1.0 - rho**2
    with np.errstate(over="ignore", invalid="ignore"):
        q = (h * h - 2 * rho * h * k + k * k) / det
        value = np.exp(-0.5 * q) / (2 * np.pi * np.sqrt(det))
    return np.where(np.isfinite(q) & (np.abs(h) < _BIG) & (np.abs(k) < _BIG), value, 0.0)


@dataclass
class OrdinalMoments:
    """Ordinal sample statistics of one group (see the module docstring for the definitions).

    ``codes``: the answers as category numbers 0..K−1 (n × p); ``categories[i]``: the answer values of
    item i in category order; ``thresholds[i]``: its K−1 thresholds; ``corr``: polychoric correlations;
    ``statistics``: thresholds then correlations (lavaan's order); ``gamma``: N · ACOV of ``statistics``.
    """

    name: str
    n: int
    items: list[str]
    categories: list[list[float]]
    codes: np.ndarray
    thresholds: list[np.ndarray]
    corr: np.ndarray
    gamma: np.ndarray | None = None
    labels: list[str] = field(default_factory=list)

    @property
    def statistics(self) -> np.ndarray:
        p = len(self.items)
        rows, cols = lower_pairs(p)
        return np.concatenate([np.concatenate(self.thresholds), self.corr[rows, cols]])

    @property
    def n_thresholds(self) -> int:
        return sum(len(t) for t in self.thresholds)


def lower_pairs(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the strict lower triangle, column by column (lavaan's vech order)."""
    rows, cols = [], []
    for j in range(p - 1):
        for i in range(j + 1, p):
            rows.append(i)
            cols.append(j)
    return np.array(rows, dtype=int), np.array(cols, dtype=int)


def _bounds(tau: np.ndarray) -> np.ndarray:
    return np.concatenate([[-np.inf], tau, [np.inf]])


def thresholds_of(codes: np.ndarray, n_categories: int) -> np.ndarray:
    """τ_k = Φ⁻¹(cumulative share at or below category k) of the answers given (codes −1 are missing)."""
    codes = codes[codes >= 0]
    counts = np.bincount(codes, minlength=n_categories)
    cumulative = np.cumsum(counts)[:-1] / len(codes)
    return stats.norm.ppf(cumulative)


def _pair_start(codes: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Pearson correlations of the category numbers over each pair's respondents: the starting values."""
    if not (codes < 0).any():
        return np.corrcoef(codes, rowvar=False)[rows, cols] if len(codes) > 1 else np.zeros(len(rows))
    start = np.zeros(len(rows))
    for m, (i, j) in enumerate(zip(rows, cols)):
        both = (codes[:, i] >= 0) & (codes[:, j] >= 0)
        if both.sum() > 1:
            start[m] = np.corrcoef(codes[both, i], codes[both, j])[0, 1]
    return start


def _cell_probabilities(lo_i, hi_i, lo_j, hi_j, rho):
    return (bivariate_normal_cdf(hi_i, hi_j, rho) - bivariate_normal_cdf(lo_i, hi_j, rho)
            - bivariate_normal_cdf(hi_i, lo_j, rho) + bivariate_normal_cdf(lo_i, lo_j, rho))


def _cell_rho_derivative(lo_i, hi_i, lo_j, hi_j, rho):
    return (bivariate_normal_pdf(hi_i, hi_j, rho) - bivariate_normal_pdf(lo_i, hi_j, rho)
            - bivariate_normal_pdf(hi_i, lo_j, rho) + bivariate_normal_pdf(lo_i, lo_j, rho))


class _PairGrid:
    """Cell boundaries of every item pair, padded to the largest number of categories."""

    def __init__(self, thresholds: list[np.ndarray], codes: np.ndarray):
        p = len(thresholds)
        self.rows, self.cols = lower_pairs(p)
        k_max = max(len(t) for t in thresholds) + 1
        bounds = np.full((p, k_max + 1), np.inf)
        for i, tau in enumerate(thresholds):
            b = _bounds(tau)
            bounds[i, : len(b)] = b
        self.k_max = k_max
        self.bounds = bounds
        n_pairs = len(self.rows)
        self.counts = np.zeros((n_pairs, k_max, k_max))
        for m, (i, j) in enumerate(zip(self.rows, self.cols)):
            both = (codes[:, i] >= 0) & (codes[:, j] >= 0)
            np.add.at(self.counts[m], (codes[both, i], codes[both, j]), 1.0)
        bi, bj = bounds[self.rows], bounds[self.cols]
        self.lo_i = bi[:, :-1, None]
        self.hi_i = bi[:, 1:, None]
        self.lo_j = bj[:, None, :-1]
        self.hi_j = bj[:, None, 1:]

    def probabilities(self, rho: np.ndarray) -> np.ndarray:
        r = rho[:, None, None]
        return _cell_probabilities(self.lo_i, self.hi_i, self.lo_j, self.hi_j, r)

    def rho_derivative(self, rho: np.ndarray) -> np.ndarray:
        r = rho[:, None, None]
        return _cell_rho_derivative(self.lo_i, self.hi_i, self.lo_j, self.hi_j, r)


def polychoric(thresholds: list[np.ndarray], codes: np.ndarray, max_iter: int = 100) -> np.ndarray:
    """Two-step polychoric correlations of all item pairs (Fisher scoring, all pairs at once)."""
    p = codes.shape[1]
    grid = _PairGrid(thresholds, codes)
    rho = np.clip(np.nan_to_num(_pair_start(codes, grid.rows, grid.cols)), -0.95, 0.95)
    for _ in range(max_iter):
        prob = np.maximum(grid.probabilities(rho), 1e-300)
        d_prob = grid.rho_derivative(rho)
        score = np.sum(grid.counts * d_prob / prob, axis=(1, 2))
        info = np.sum(grid.counts.sum(axis=(1, 2))[:, None, None] * d_prob**2 / prob, axis=(1, 2))
        step = score / np.maximum(info, 1e-300)
        new = rho + step
        # stay inside (−1, 1): halve the step where it would leave the interval
        while np.any(np.abs(new) >= 0.9999):
            out = np.abs(new) >= 0.9999
            step = np.where(out, step / 2, step)
            new = rho + step
        rho = new
        if np.max(np.abs(step)) < 1e-10:
            break
    corr = np.eye(p)
    corr[grid.rows, grid.cols] = rho
    corr[grid.cols, grid.rows] = rho
    return corr


def asymptotic_covariance(thresholds: list[np.ndarray], corr: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """N · ACOV of (thresholds, polychoric correlations), Muthén (1984) as lavaan computes it."""
    n, p = codes.shape
    n_th = [len(t) for t in thresholds]
    th_start = np.concatenate([[0], np.cumsum(n_th)])
    total_th = th_start[-1]
    grid = _PairGrid(thresholds, codes)
    n_pairs = len(grid.rows)
    # case-wise threshold scores: d log P(y_i = a) / d tau_{i,k}
    sc_th = np.zeros((n, total_th))
    for i, tau in enumerate(thresholds):
        b = _bounds(tau)
        prob = special.ndtr(b[1:]) - special.ndtr(b[:-1])
        dens = stats.norm.pdf(b)  # 0 at ±inf
        a = codes[:, i]
        upper = (a < len(tau)) & (a >= 0)
        lower = a > 0
        sc_th[np.flatnonzero(upper), th_start[i] + a[upper]] = dens[a[upper] + 1] / prob[a[upper]]
        sc_th[np.flatnonzero(lower), th_start[i] + a[lower] - 1] = -dens[a[lower]] / prob[a[lower]]
    rho = corr[grid.rows, grid.cols]
    prob = np.maximum(grid.probabilities(rho), 1e-300)
    sc_rho_cell = grid.rho_derivative(rho) / prob
    # d pi_ab / d tau_i at the cell's upper (a) and lower (a-1) boundaries of item i, and likewise for j
    r = rho[:, None, None]
    s = np.sqrt(1 - r**2)
    with np.errstate(invalid="ignore"):
        def along_i(t_i):
            return stats.norm.pdf(t_i) * (special.ndtr((grid.hi_j - r * t_i) / s)
                                          - special.ndtr((grid.lo_j - r * t_i) / s))

        def along_j(t_j):
            return stats.norm.pdf(t_j) * (special.ndtr((grid.hi_i - r * t_j) / s)
                                          - special.ndtr((grid.lo_i - r * t_j) / s))

        d_hi_i = np.nan_to_num(along_i(np.clip(grid.hi_i, -_BIG, _BIG))) / prob
        d_lo_i = -np.nan_to_num(along_i(np.clip(grid.lo_i, -_BIG, _BIG))) / prob
        d_hi_j = np.nan_to_num(along_j(np.clip(grid.hi_j, -_BIG, _BIG))) / prob
        d_lo_j = -np.nan_to_num(along_j(np.clip(grid.lo_j, -_BIG, _BIG))) / prob
    sc_cor = np.zeros((n, n_pairs))
    a21 = np.zeros((n_pairs, total_th))
    for m, (i, j) in enumerate(zip(grid.rows, grid.cols)):
        both = (codes[:, i] >= 0) & (codes[:, j] >= 0)     # a missing answer scores 0 (pairwise)
        sc_cor[both, m] = sc_rho_cell[m][codes[both, i], codes[both, j]]
        weight = grid.counts[m] * sc_rho_cell[m]
        ki, kj = n_th[i], n_th[j]
        # thresholds of i: tau_{i,k} is the upper bound of row k and the lower bound of row k+1
        a21[m, th_start[i]: th_start[i] + ki] = ((weight * d_hi_i[m]).sum(axis=1)[:ki]
                                                + (weight * d_lo_i[m]).sum(axis=1)[1: ki + 1])
        a21[m, th_start[j]: th_start[j] + kj] = ((weight * d_hi_j[m]).sum(axis=0)[:kj]
                                                + (weight * d_lo_j[m]).sum(axis=0)[1: kj + 1])
    scores = np.hstack([sc_th, sc_cor])
    inner = scores.T @ scores
    a11 = np.zeros((total_th, total_th))
    for i in range(p):
        block = slice(th_start[i], th_start[i + 1])
        a11[block, block] = inner[block, block]
    a22_diag = np.einsum("nm,nm->m", sc_cor, sc_cor)
    a11_inv = np.linalg.inv(a11)
    a22_inv = np.diag(1.0 / a22_diag)
    b_inv = np.block([[a11_inv, np.zeros((total_th, n_pairs))], [-a22_inv @ a21 @ a11_inv, a22_inv]])
    return n * (b_inv @ inner @ b_inv.T)


def _category_codes(values: pd.Series, categories: list[float]) -> np.ndarray:
    """Category numbers 0..K−1 of the answers; −1 where the answer is missing."""
    lookup = {v: k for k, v in enumerate(categories)}
    return values.map(lookup).fillna(-1).to_numpy(dtype=int)


def empty_categories(data: pd.DataFrame, items: list[str], group: str | None) -> list[tuple[str, str, float]]:
    """(item, group, option) for every option used in the pooled data but by nobody in one group."""
    if group is None:
        return []
    out = []
    for item in items:
        pooled = sorted(data[item].dropna().unique())
        for label, rows in data.groupby(group, sort=False):
            used = set(rows[item].dropna().unique())
            out += [(item, str(label), v) for v in pooled if v not in used]
    return out


def collapse_empty_categories(data: pd.DataFrame, items: list[str], group: str) -> tuple[pd.DataFrame, list[str]]:
    """Merge every option that some group leaves empty into its neighbour (towards the middle) in all groups.

    Returns the recoded data and one note per merge ("N1: 1 merged into 2 (empty in gender=2)").
    """
    data = data.copy()
    notes = []
    for item in items:
        while True:
            empties = [e for e in empty_categories(data, [item], group) if e[0] == item]
            if not empties:
                break
            _, label, value = empties[0]
            options = sorted(data[item].dropna().unique())
            if len(options) <= 2:
                break
            k = options.index(value)
            target = options[k + 1] if k < len(options) / 2 else options[k - 1]
            data.loc[data[item] == value, item] = target
            notes.append(f"{item}: {value:g} merged into {target:g} (empty in {group}={label})")
    return data, notes


def ordinal_moments(data: pd.DataFrame, items: list[str], group: str | None = None,
                    with_gamma: bool = True, missing: str = "listwise") -> list[OrdinalMoments]:
    """Thresholds, polychoric correlations and Γ for each group: from the complete cases (``missing =
    "listwise"``), or from every respondent with an answer, each statistic from the answers it needs
    (``"pairwise"``; module docstring).

    Categories are the answer values observed in the pooled data (as lavaan's ``ordered =``). Raises
    :class:`DataError` naming the item, group and option when a group leaves an option empty (its
    thresholds are then infinite): collapse the option with ``collapse_empty=True`` in the calling
    function, or drop the item.
    """
    absent = [c for c in items + ([group] if group else []) if c not in data.columns]
    if absent:
        raise DataError(f"column(s) {', '.join(absent)} not in the data", where="data")
    frame = data[items + ([group] if group else [])]
    if missing == "pairwise":
        frame = frame[frame[items].notna().any(axis=1)]
        frame = frame[frame[group].notna()] if group else frame
    else:
        frame = frame.dropna()
    for item in items:
        if (pd.to_numeric(frame[item], errors="coerce").isna() & frame[item].notna()).any():
            raise DataError(f"item {item} has non-numeric answers", where="data", fix="code the answers as numbers")
    frame = frame.astype(dict.fromkeys(items, float))
    for label, rows in (frame.groupby(group, sort=False) if group else [("all", frame)]):
        for item in items:
            if rows[item].notna().sum() == 0:
                where = f"group {group}={label}" if group else "data"
                raise DataError(f"item {item} is missing for every respondent", where=where,
                                fix="drop the item from the model (its thresholds need answers)")
            if rows[item].nunique() == 1:
                where = f"group {group}={label}" if group else "data"
                raise DataError(f"item {item} has zero variance (every answer is {rows[item].dropna().iloc[0]:g})",
                                where=where,
                                fix="drop the item from the model or examine why every respondent gave one answer")
    empties = empty_categories(frame, items, group)
    if empties:
        item, label, value = empties[0]
        more = f" (and {len(empties) - 1} more)" if len(empties) > 1 else ""
        raise DataError(f"option {value:g} of item {item} is used in the data but by nobody in group "
                        f"{group}={label}{more}; its thresholds cannot be estimated there", where="data",
                        fix="pass collapse_empty=True (CLI: --collapse-empty) to merge empty options into their "
                            "neighbours (recorded in the table), or drop the item")
    categories = [sorted(frame[item].dropna().unique().tolist()) for item in items]
    for item, cats in zip(items, categories):
        if len(cats) < 2:
            raise DataError(f"item {item} has one answer only ({cats[0]:g}); it carries no information",
                            where="data", fix="drop the item from the model")
    labels = frame[group].unique().tolist() if group else ["all"]
    out = []
    for label in labels:
        rows = frame[frame[group] == label] if group else frame
        if len(rows) < len(items) + 1:
            raise DataError(f"{len(rows)} complete cases, fewer than the {len(items) + 1} needed",
                            where=f"group {group}={label}" if group else "data")
        codes = np.column_stack([_category_codes(rows[item], cats) for item, cats in zip(items, categories)])
        tau = [thresholds_of(codes[:, i], len(cats)) for i, cats in enumerate(categories)]
        corr = polychoric(tau, codes)
        gamma = asymptotic_covariance(tau, corr, codes) if with_gamma else None
        names = [f"{item}|t{k + 1}" for item, t in zip(items, tau) for k in range(len(t))]
        r, c = lower_pairs(len(items))
        names += [f"{items[j]}~~{items[i]}" for i, j in zip(r, c)]
        out.append(OrdinalMoments(str(label), len(rows), list(items), categories, codes, tau, corr, gamma, names))
    return out


def pairwise_polychoric(frame: pd.DataFrame) -> np.ndarray:
    """Polychoric correlation matrix on pairwise-complete answers, thresholds from each item's own answers
    (psych::polychoric's defaults: ``global = TRUE``, missing values pairwise)."""
    columns = list(frame.columns)
    p = len(columns)
    categories = [sorted(frame[c].dropna().unique().tolist()) for c in columns]
    taus = []
    for c, cats in zip(columns, categories):
        codes = _category_codes(frame[c].dropna(), cats)
        taus.append(thresholds_of(codes, len(cats)))
    corr = np.eye(p)
    for i in range(p):
        for j in range(i + 1, p):
            both = frame[[columns[i], columns[j]]].dropna()
            codes = np.column_stack([_category_codes(both[columns[i]], categories[i]),
                                     _category_codes(both[columns[j]], categories[j])])
            corr[i, j] = corr[j, i] = polychoric([taus[i], taus[j]], codes)[0, 1]
    return corr
