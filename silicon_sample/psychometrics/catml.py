"""Robust CFI, TLI and RMSEA of a WLSMV model: the catML correction (Savalei 2021), as lavaan 0.6 computes it.

Why not a library: no Python package computes fit indices for categorical data; this follows lavaan's
``lav_fit_catml_dwls`` (0.6.14).

The scaled-and-shifted DWLS statistic estimates no population quantity that RMSEA or CFI can be read
against. Savalei (2021) evaluates the normal-theory ML discrepancy between the polychoric matrix R_g
and the model-implied correlation matrix P_g at the DWLS estimates ("catML"), and corrects it for the
non-normality of the polychorics:

    T₃ = Σ_g N_g [log|P_g| − log|R_g| + tr(R_g P_g⁻¹) − p]

    k = tr(U'VUΓ),  U = I − Δ E⁻¹ Δ'W,  ĉ = k / df

over the correlations of all groups stacked, with V = ⊕ f_g V_g, V_g the normal-theory ML weight of the
correlations at P_g, (V_g)_(ij),(kl) = aᵢₖaⱼₗ + aᵢₗaⱼₖ (a = P_g⁻¹), W = ⊕ f_g W_g the DWLS weights,
Γ = ⊕ Γ_g / f_g, Δ the Jacobian of the correlations, E⁻¹ the inverse DWLS information (thresholds
included) and f_g = N_g / N. The baseline (independence) model gives T₃,B = −Σ_g N_g log|R_g| and
ĉ_B = tr(Γ) / df_B. Then, with N − G as lavaan's N for DWLS:

    RMSEA_robust = √G · √max(T₃ / (N·df) − ĉ / N, 0)
    CFI_robust = 1 − max(T₃ − ĉ·df, 0) / max(T₃ − ĉ·df, T₃,B − ĉ_B·df_B, 0)
    TLI_robust = 1 − (T₃ − ĉ·df)·df_B / ((T₃,B − ĉ_B·df_B)·df)

Where lavaan reports NA, so does this module (NaN): when a polychoric matrix is not positive definite
(an eigenvalue below √ε), and when thresholds or intercepts carry equality constraints across groups
(lavaan 0.6.14 cannot build the catML model there, so its invariance levels beyond configural have no
robust indices; read their scaled indices instead).

Reference: Savalei, V. (2021). Improving fit indices in structural equation modeling with categorical
data. Multivariate Behavioral Research, 56(3), 390–407.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from scipy.linalg import block_diag

from . import fit_indices
from .ordinal_statistics import lower_pairs


class DWLSFit(Protocol):
    """What these functions read of a fitted WLSMV model (:class:`~.dwls.DWLSFit` has it; declared here so
    that this step does not import the estimation step that calls it)."""

    moments: list
    table: object
    model: object
    theta: np.ndarray
    fractions: list
    deltas: list
    weights: list
    df: int
    n: int

NAN_INDICES = {"cfi_robust": np.nan, "tli_robust": np.nan, "rmsea_robust": np.nan}


def normal_theory_weight(implied_corr: np.ndarray) -> np.ndarray:
    """0.5·D'(P⁻¹⊗P⁻¹)D over the off-diagonal elements (lavaan's ``duplication_cor_pre_post``)."""
    a = np.linalg.inv(implied_corr)
    rows, cols = lower_pairs(len(a))
    return a[np.ix_(rows, rows)] * a[np.ix_(cols, cols)] + a[np.ix_(rows, cols)] * a[np.ix_(cols, rows)]


def catml_defined(fit: DWLSFit) -> bool:
    """False where lavaan's catML gives NA: a non-positive-definite polychoric matrix, or equal thresholds."""
    for m in fit.moments:
        if np.min(np.linalg.eigvalsh(m.corr)) < np.sqrt(np.finfo(float).eps):
            return False
    return not any(len(key) == 1 and kind in ("thresholds", "intercepts")
                   for key, kind in _kinds(fit).items())


def _kinds(fit: DWLSFit) -> dict:
    keys = fit.table.keys
    return {keys[e[4]]: e[7] for e in fit.table.entries if e[4] >= 0} if fit.table.n_groups > 1 else {}


def _correlation_matrix(values: np.ndarray, p: int) -> np.ndarray:
    rows, cols = lower_pairs(p)
    out = np.eye(p)
    out[rows, cols] = values
    out[cols, rows] = values
    return out


def catml_statistics(fit: DWLSFit) -> dict:
    """T₃, ĉ, T₃,B and ĉ_B of the module docstring (lavaan's XX3, c.hat3, XX3.null, c.hat3.null)."""
    fractions = fit.fractions
    info = sum(f * d.T @ w @ d for f, d, w in zip(fractions, fit.deltas, fit.weights))
    info_inv = np.linalg.inv(info)
    t3 = t3_base = trace_gamma = 0.0
    deltas, w_blocks, v_blocks, gamma_blocks = [], [], [], []
    for g, (f, m, d, w) in enumerate(zip(fractions, fit.moments, fit.deltas, fit.weights)):
        p, k = len(m.items), m.n_thresholds
        implied = _correlation_matrix(fit.model.implied(fit.theta, g)[k:], p)
        _, logdet_implied = np.linalg.slogdet(implied)
        _, logdet_sample = np.linalg.slogdet(m.corr)
        t3 += m.n * (logdet_implied - logdet_sample + np.trace(m.corr @ np.linalg.inv(implied)) - p)
        t3_base += -m.n * logdet_sample
        gamma = m.gamma[k:, k:] / f
        trace_gamma += np.trace(gamma)
        deltas.append(d[k:])
        w_blocks.append(f * w[k:, k:])
        v_blocks.append(f * normal_theory_weight(implied))
        gamma_blocks.append(gamma)
    delta = np.vstack(deltas)
    weight, v, gamma = (block_diag(*b) for b in (w_blocks, v_blocks, gamma_blocks))
    u = np.eye(len(delta)) - delta @ info_inv @ delta.T @ weight
    k_trace = float(np.trace(u.T @ v @ u @ gamma))
    df_base = sum(len(m.items) * (len(m.items) - 1) // 2 for m in fit.moments)
    return {"chisq": t3, "c": k_trace / fit.df if fit.df > 0 else np.nan,
            "base_chisq": t3_base, "base_df": df_base, "c_base": trace_gamma / df_base}


def robust_indices(fit: DWLSFit) -> dict:
    """``cfi_robust``, ``tli_robust`` and ``rmsea_robust`` of a WLSMV fit (NaN where lavaan gives NA)."""
    if fit.df <= 0 or not catml_defined(fit):
        return dict(NAN_INDICES)
    s = catml_statistics(fit)
    groups = len(fit.moments)
    n = fit.n - groups
    t3, df, c = s["chisq"], fit.df, s["c"]
    return {
        "cfi_robust": fit_indices.cfi_corrected(t3, df, s["base_chisq"], s["base_df"], c, s["c_base"]),
        "tli_robust": fit_indices.tli_corrected(t3, df, s["base_chisq"], s["base_df"], c, s["c_base"]),
        "rmsea_robust": float(np.sqrt(groups) * np.sqrt(max(t3 / (n * df) - c / n, 0.0))),
    }
