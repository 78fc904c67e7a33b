"""WLSMV: diagonally weighted least squares on thresholds and polychorics, with robust tests and errors.

Why not a library: semopy's DWLS weights come from raw fourth moments, not from the asymptotic covariance
of the polychorics, and it has no thresholds, no adjusted test and no groups.

Estimation (lavaan's ``estimator = "WLSMV"``): with s_g the sample statistics of group g
(:mod:`.ordinal_statistics`), σ_g(θ) the implied ones (:mod:`.categorical_model`) and
W_g = diag(Γ_g)⁻¹ the DWLS weights,

    F(θ) = Σ_g f_g (s_g − σ_g(θ))' W_g (s_g − σ_g(θ)),   T = N · F(θ̂)

minimised by Gauss–Newton with step halving. Robust ("sandwich") covariance of the estimates:
(1/N) P⁻¹ (Σ_g f_g Δ_g'W_gΓ_gW_gΔ_g) P⁻¹ with P = Σ_g f_g Δ_g'W_gΔ_g. The test is scaled and shifted
(:mod:`.robust_tests`). Baseline model: thresholds free, correlations 0 (lavaan's independence model).

Fit indices (lavaan 0.6): cfi/tli/rmsea from the unscaled T and baseline; ``*_scaled`` from the scaled
and shifted statistics (RMSEA with df, as lavaan does for scaled.shifted; N − G as RMSEA's N, lavaan's
convention for (D)WLS); ``*_robust`` from the catML correction (:mod:`.catml`); ``srmr`` from the residual
correlations (Bentler's SRMR over the p(p−1)/2 off-diagonal elements, groups weighted by f_g).

References: Muthén, B., du Toit, S. H. C., & Spisic, D. (1997). Robust inference using weighted least
squares and quadratic estimating equations in latent variable modeling with categorical and continuous
outcomes. Asparouhov & Muthén (2010), see :mod:`.robust_tests`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import ConvergenceError, DataError
from . import catml, fit_indices
from .categorical_model import CategoricalModel, CategoricalTable
from .ordinal_statistics import OrdinalMoments
from .robust_tests import scaled_shifted


@dataclass
class DWLSFit:
    table: CategoricalTable
    model: CategoricalModel
    moments: list[OrdinalMoments]
    theta: np.ndarray
    chisq: float
    df: int
    deltas: list[np.ndarray]
    weights: list[np.ndarray]

    @property
    def n(self) -> int:
        return sum(m.n for m in self.moments)

    @property
    def fractions(self) -> np.ndarray:
        return np.array([m.n / self.n for m in self.moments])

    def vcov(self) -> np.ndarray:
        """Robust (sandwich) covariance of the estimates (lavaan's ``se = "robust.sem"``)."""
        info = sum(f * d.T @ w @ d for f, d, w in zip(self.fractions, self.deltas, self.weights))
        meat = sum(f * (w @ d).T @ m.gamma @ (w @ d)
                   for f, d, w, m in zip(self.fractions, self.deltas, self.weights, self.moments))
        info_inv = np.linalg.inv(info)
        return info_inv @ meat @ info_inv / (self.n - len(self.moments))

    def scaled(self) -> dict:
        return scaled_shifted(self.chisq, self.df, self.deltas, self.weights, [m.gamma for m in self.moments],
                              self.fractions)


def dwls_weights(moments: OrdinalMoments) -> np.ndarray:
    diagonal = np.diag(moments.gamma).copy()
    if np.any(diagonal <= 0):
        raise DataError(f"group {moments.name}: a threshold or correlation has zero sampling variance",
                        where="data", fix="an item with nearly every answer in one option cannot be fitted")
    return np.diag(1.0 / diagonal)


def start_values(table: CategoricalTable, moments: list[OrdinalMoments]) -> np.ndarray:
    """Thresholds from the data; loadings from the first principal component of each factor's polychorics."""
    theta = np.zeros(table.n_params)
    counts = np.zeros(table.n_params)
    items = table.model.observed
    pos = {item: i for i, item in enumerate(items)}
    th = [np.concatenate(m.thresholds) for m in moments]
    std_loading: dict[tuple[int, int], float] = {}
    for f, factor in enumerate(table.model.factors):
        idx = [pos[i] for i in table.model.indicators[factor]]
        corr = np.mean([m.corr[np.ix_(idx, idx)] for m in moments], axis=0)
        values, vectors = np.linalg.eigh(corr)
        first = vectors[:, -1] * np.sqrt(max(values[-1] - 1, 0.05) / max(len(idx) - 1, 1))
        first = first if first.sum() >= 0 else -first
        for k, i in enumerate(idx):
            std_loading[(i, f)] = float(np.clip(first[k], -0.9, 0.9))
    for g, matrix, row, col, index, _fixed, _label, _kind in table.entries:
        if index < 0:
            continue
        if matrix == "tau":
            value = th[g][row]
        elif matrix == "L":
            std = std_loading[(row, col)]
            if table.identification == "marker":
                marker = pos[table.model.indicators[table.model.factors[col]][0]]
                value = std / std_loading[(marker, col)]
                if table.parameterization == "theta":
                    value *= np.sqrt((1 - std_loading[(marker, col)] ** 2) / (1 - std**2))
            else:
                value = std / np.sqrt(1 - std**2) if table.parameterization == "theta" else std
        elif matrix == "P":
            if table.identification != "marker":
                value = 1.0 if row == col else 0.0
            else:
                marker = pos[table.model.indicators[table.model.factors[row]][0]]
                lam = std_loading[(marker, row)]
                value = lam**2 if row == col else 0.0
                if table.parameterization == "theta" and row == col:
                    value = lam**2 / (1 - lam**2)
        elif matrix in ("T", "delta"):
            value = 1.0
        else:
            value = 0.0
        theta[index] += value
        counts[index] += 1
    return theta / np.maximum(counts, 1)


def fit_dwls(table: CategoricalTable, moments: list[OrdinalMoments], start: np.ndarray | None = None,
             max_iter: int = 300, tol: float = 1e-12) -> DWLSFit:
    model = CategoricalModel(table)
    weights = [dwls_weights(m) for m in moments]
    n = sum(m.n for m in moments)
    fractions = [(m.n - 1) / n for m in moments]  # lavaan: group F weighted (N_g − 1)/N for (D)WLS
    stats_ = [m.statistics for m in moments]
    wdiag = [np.diag(w) for w in weights]

    def objective(theta):
        total = 0.0
        for g in range(len(moments)):
            r = stats_[g] - model.implied(theta, g)
            total += fractions[g] * np.sum(wdiag[g] * r * r)
        return total

    theta = start_values(table, moments) if start is None else start.copy()
    value = objective(theta)
    for _ in range(max_iter):
        jac = [model.jacobian(theta, g) for g in range(len(moments))]
        info = sum(f * (j.T * w) @ j for f, j, w in zip(fractions, jac, wdiag))
        grad = sum(f * (j.T * w) @ (s - model.implied(theta, g))
                   for g, (f, j, w, s) in enumerate(zip(fractions, jac, wdiag, stats_)))
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(info, grad, rcond=None)[0]
        scale = 1.0
        while scale > 1e-10:
            candidate = theta + scale * step
            new_value = objective(candidate)
            if np.isfinite(new_value) and new_value <= value + 1e-15:
                break
            scale /= 2
        else:
            break
        theta, old = candidate, value
        value = new_value
        if abs(old - value) < tol * max(1.0, value) and np.max(np.abs(scale * step)) < 1e-8:
            break
    jac = [model.jacobian(theta, g) for g in range(len(moments))]
    grad = sum(f * (j.T * w) @ (s - model.implied(theta, g))
               for g, (f, j, w, s) in enumerate(zip(fractions, jac, wdiag, stats_)))
    if np.max(np.abs(grad)) > 1e-5:
        raise ConvergenceError(f"DWLS did not converge (largest gradient {np.max(np.abs(grad)):.2g})",
                               where="model", fix="the model may not be identified for these data")
    n_stats = sum(model.n_stats for _ in moments)
    df = n_stats - table.n_params
    return DWLSFit(table, model, moments, theta, n * value, df, jac, weights)


def baseline_fit(moments: list[OrdinalMoments]) -> dict:
    """Independence model: thresholds fitted exactly, correlations 0; T, df and its scaled-shifted version."""
    n = sum(m.n for m in moments)
    fractions = [m.n / n for m in moments]
    chisq, df, deltas, weights = 0.0, 0, [], []
    for _f, m in zip(fractions, moments):
        w = dwls_weights(m)
        r = m.statistics[m.n_thresholds:]
        chisq += (m.n - 1) * np.sum(np.diag(w)[m.n_thresholds:] * r * r)
        df += len(r)
        weights.append(w)
    offsets = np.cumsum([0] + [m.n_thresholds for m in moments])
    for g, m in enumerate(moments):
        d = np.zeros((len(m.statistics), offsets[-1]))
        d[np.arange(m.n_thresholds), offsets[g] + np.arange(m.n_thresholds)] = 1.0
        deltas.append(d)
    scaled = scaled_shifted(chisq, df, deltas, weights, [m.gamma for m in moments], fractions)
    return {"chisq": chisq, "df": df, **scaled}


def srmr(fit: DWLSFit) -> float:
    total = 0.0
    for f, m, g in zip(fit.fractions, fit.moments, range(len(fit.moments))):
        implied = fit.model.implied(fit.theta, g)[m.n_thresholds:]
        residual = m.statistics[m.n_thresholds:] - implied
        p = len(m.items)
        total += f * np.sqrt(np.sum(residual**2) / (p * (p + 1) / 2))
    return float(total)


def fit_row(fit: DWLSFit, baseline: dict | None = None) -> dict:
    """The fit indices of a WLSMV model (see the module docstring); robust CFI/TLI/RMSEA from :mod:`.catml`."""
    baseline = baseline or baseline_fit(fit.moments)
    scaled = fit.scaled()
    n, df, groups = fit.n, fit.df, len(fit.moments)
    chisq, t_ss = fit.chisq, scaled["chisq_scaled"]
    b_chisq, b_df, b_ss = baseline["chisq"], baseline["df"], baseline["chisq_scaled"]
    pvalue = float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan
    n_rmsea = n - groups  # lavaan's N for RMSEA under (D)WLS: N − G (ML uses N)
    ci_low, ci_high = fit_indices.rmsea_ci(chisq, df, n_rmsea, groups)
    return {
        "chisq": chisq, "df": df, "pvalue": pvalue,
        "cfi": fit_indices.cfi(chisq, df, b_chisq, b_df), "tli": fit_indices.tli(chisq, df, b_chisq, b_df),
        "rmsea": fit_indices.rmsea(chisq, df, n_rmsea, groups), "rmsea_ci_lower": ci_low, "rmsea_ci_upper": ci_high,
        "srmr": srmr(fit), "aic": np.nan, "bic": np.nan, "loglik": np.nan,
        "chisq_scaled": t_ss, "df_scaled": df, "pvalue_scaled": float(stats.chi2.sf(t_ss, df)) if df > 0 else np.nan,
        "scaling_factor": scaled["scaling_factor"], "shift_parameter": scaled["shift"],
        "cfi_scaled": fit_indices.cfi(t_ss, df, b_ss, b_df), "tli_scaled": fit_indices.tli(t_ss, df, b_ss, b_df),
        "rmsea_scaled": fit_indices.rmsea(t_ss, df, n_rmsea, groups),
        **catml.robust_indices(fit),
        "n_params": fit.table.n_params, "n": n, "baseline_chisq": b_chisq, "baseline_df": b_df,
        "baseline_chisq_scaled": b_ss,
    }


def score_statistic(fit: DWLSFit, released: CategoricalTable) -> float:
    """Score (LM-type) statistic for freeing constraints: N·(½g)'P⁻¹(½g) at the restricted estimates.

    g is the gradient of F in the parameters of the ``released`` table, evaluated where the restricted
    model's estimates put them (a released parameter starts at its shared or fixed value). Under DWLS
    this statistic is not χ²-distributed; it ranks constraints for release (largest first), as the ML
    score test does.
    """
    position = {key: i for i, key in enumerate(fit.table.keys)}
    fixed = {(e[6], e[0]): e[5] for e in fit.table.entries if e[4] < 0}
    theta = np.zeros(released.n_params)
    for k, key in enumerate(released.keys):
        if key in position:
            theta[k] = fit.theta[position[key]]
        elif (key[0],) in position:
            theta[k] = fit.theta[position[(key[0],)]]
        else:
            theta[k] = fixed.get((key[0], key[1] if len(key) > 1 else 0), 0.0)
    model = CategoricalModel(released)
    n = fit.n
    fractions = [(m.n - 1) / n for m in fit.moments]
    grad = np.zeros(released.n_params)
    info = np.zeros((released.n_params, released.n_params))
    for g, (f, m, w) in enumerate(zip(fractions, fit.moments, fit.weights)):
        j = model.jacobian(theta, g)
        wd = np.diag(w)
        grad += f * (j.T * wd) @ (m.statistics - model.implied(theta, g))
        info += f * (j.T * wd) @ j
    return float(n * grad @ np.linalg.lstsq(info, grad, rcond=None)[0])
