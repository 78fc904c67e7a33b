"""Fit indices on lavaan's conventions (ML, likelihood "normal": N, not N − 1).

With χ² the model statistic on df degrees of freedom, χ²_B the baseline
(independence) model's statistic on df_B, N the total sample size and G the
number of groups:

- CFI  = 1 − max(χ² − df, 0) / max(χ²_B − df_B, χ² − df, 0)
- TLI  = (χ²_B/df_B − χ²/df) / (χ²_B/df_B − 1)
- RMSEA = √G · √(max(χ²/df − 1, 0) / N)  (Steiger's multi-group correction), with
  the 90% interval from the non-centrality λ at which the non-central χ²
  distribution puts χ² at its 95th and 5th percentiles: √G · √(λ / (N·df)).
- SRMR (lavaan's default, Bentler's): per group the root mean square of the
  residual covariances standardised by the observed SDs, (s_ij − σ̂_ij)/√(s_ii s_jj)
  over i ≤ j, and of the mean residuals (x̄_i − μ̂_i)/√s_ii when the model has a
  mean structure; groups combined weighted by N_g / N.
- AIC = −2 logL + 2q, BIC = −2 logL + q log N, q free parameters.

Reference: lavaan (Rosseel, 2012), ``fitMeasures``; Steiger (1998) for the
multi-group RMSEA; Hu & Bentler (1999).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from .moments import GroupMoments


def baseline_chisq(moments: list[GroupMoments]) -> tuple[float, int]:
    """Independence model (free variances and means in every group): χ² and df."""
    chisq = sum(g.n * (np.sum(np.log(np.diag(g.cov))) - np.linalg.slogdet(g.cov)[1]) for g in moments)
    p = len(moments[0].mean)
    return float(chisq), len(moments) * p * (p - 1) // 2


def cfi(chisq: float, df: int, base_chisq: float, base_df: int) -> float:
    denominator = max(base_chisq - base_df, chisq - df, 0.0)
    return 1.0 if denominator == 0 else 1.0 - max(chisq - df, 0.0) / denominator


def tli(chisq: float, df: int, base_chisq: float, base_df: int) -> float:
    if df == 0:
        return 1.0
    return (base_chisq / base_df - chisq / df) / (base_chisq / base_df - 1.0)


def rmsea(chisq: float, df: int, n: int, groups: int = 1) -> float:
    if df == 0:
        return 0.0
    return float(np.sqrt(groups) * np.sqrt(max(chisq / df - 1.0, 0.0) / n))


def rmsea_ci(chisq: float, df: int, n: int, groups: int = 1, level: float = 0.90) -> tuple[float, float]:
    """Confidence interval of RMSEA from the non-central χ² distribution (lavaan's method)."""
    if df == 0:
        return 0.0, 0.0
    upper_p, lower_p = (1 + level) / 2, (1 - level) / 2

    def ncp_for(prob: float) -> float:
        f = lambda lam: stats.ncx2.cdf(chisq, df, lam) - prob if lam > 0 else stats.chi2.cdf(chisq, df) - prob
        if f(0.0) < 0:  # even λ = 0 puts χ² below this percentile
            return 0.0
        hi = max(chisq, 1.0)
        while f(hi) > 0:
            hi *= 2
        return optimize.brentq(f, 0.0, hi, xtol=1e-12)

    scale = lambda lam: float(np.sqrt(groups) * np.sqrt(lam / (n * df)))
    return scale(ncp_for(upper_p)), scale(ncp_for(lower_p))


def srmr(moments: list[GroupMoments], implied: list[tuple[np.ndarray, np.ndarray]], mean_structure: bool) -> float:
    n_total = sum(g.n for g in moments)
    total = 0.0
    for g, (sigma, mu) in zip(moments, implied):
        sd = np.sqrt(np.diag(g.cov))
        residual = (g.cov - sigma) / np.outer(sd, sd)
        values = list(residual[np.triu_indices_from(residual)])
        if mean_structure:
            values += list((g.mean - mu) / sd)
        total += g.n / n_total * np.sqrt(np.mean(np.square(values)))
    return float(total)


def fit_table(chisq: float, df: int, n_params: int, loglik: float, moments: list[GroupMoments],
              implied: list[tuple[np.ndarray, np.ndarray]], mean_structure: bool,
              baseline: tuple[float, int] | None = None) -> dict:
    """All indices for one fitted model, as a dict (one row of a results table). ``baseline``: the independence
    model's χ² and df when it is not the complete-data one of ``moments`` (full-information ML)."""
    n = sum(g.n for g in moments)
    groups = len(moments)
    base, base_df = baseline if baseline is not None else baseline_chisq(moments)
    low, high = rmsea_ci(chisq, df, n, groups)
    return {
        "chisq": chisq, "df": df, "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
        "cfi": cfi(chisq, df, base, base_df), "tli": tli(chisq, df, base, base_df),
        "rmsea": rmsea(chisq, df, n, groups), "rmsea_ci_lower": low, "rmsea_ci_upper": high,
        "srmr": srmr(moments, implied, mean_structure),
        "aic": -2 * loglik + 2 * n_params, "bic": -2 * loglik + n_params * np.log(n), "loglik": loglik,
        "n_params": n_params, "n": n, "baseline_chisq": base, "baseline_df": base_df,
    }


ROBUST_COLUMNS = ["chisq_scaled", "df_scaled", "pvalue_scaled", "scaling_factor", "shift_parameter", "cfi_scaled",
                  "tli_scaled", "rmsea_scaled", "cfi_robust", "tli_robust", "rmsea_robust"]
"""lavaan's robust fit measures under our column names (NaN where lavaan gives NA, and for ML)."""
BASELINE_COLUMNS = ["baseline_chisq", "baseline_df", "baseline_chisq_scaled"]


def tli_corrected(chisq: float, df: int, base_chisq: float, base_df: int, c: float, c_base: float) -> float:
    """lavaan's robust TLI: 1 − ((T − c·df)·df_B) / ((T_B − c_B·df_B)·df)."""
    if df == 0:
        return 1.0
    return 1.0 - ((chisq - c * df) * base_df) / ((base_chisq - c_base * base_df) * df)


def cfi_corrected(chisq: float, df: int, base_chisq: float, base_df: int, c: float, c_base: float) -> float:
    """lavaan's robust CFI: 1 − max(T − c·df, 0) / max(T − c·df, T_B − c_B·df_B, 0)."""
    t1 = max(chisq - c * df, 0.0)
    t2 = max(chisq - c * df, base_chisq - c_base * base_df, 0.0)
    return 1.0 if t2 == 0 else 1.0 - t1 / t2


def mlr_indices(chisq: float, df: int, c: float, base_chisq: float, base_df: int, c_base: float, n: int,
                groups: int) -> dict:
    """Scaled and robust indices of an MLR model (formulas in :mod:`.robust_ml`)."""
    scaled = chisq / c if df > 0 else chisq
    base_scaled = base_chisq / c_base
    rmsea_scaled = (np.sqrt(groups) * np.sqrt(max(chisq / (n * df * c) - 1.0 / n, 0.0))) if df > 0 else 0.0
    rmsea_robust = (np.sqrt(groups) * np.sqrt(max(chisq / (n * df) - c / n, 0.0))) if df > 0 else 0.0
    return {
        "chisq_scaled": scaled, "df_scaled": df,
        "pvalue_scaled": float(stats.chi2.sf(scaled, df)) if df > 0 else np.nan, "scaling_factor": c,
        "shift_parameter": np.nan,
        "cfi_scaled": cfi(scaled, df, base_scaled, base_df), "tli_scaled": tli(scaled, df, base_scaled, base_df),
        "rmsea_scaled": rmsea_scaled,
        "cfi_robust": cfi_corrected(chisq, df, base_chisq, base_df, c, c_base),
        "tli_robust": tli_corrected(chisq, df, base_chisq, base_df, c, c_base), "rmsea_robust": rmsea_robust,
        "baseline_chisq_scaled": base_scaled,
    }
