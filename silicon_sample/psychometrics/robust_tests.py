"""Robust test statistics and nested-model differences, on lavaan's conventions.

With G groups, N_g cases in group g, f_g = N_g/N, Δ_g = ∂σ_g/∂θ, W_g the weight matrix and Γ_g = N_g ·
ACOV of the sample statistics of group g, write P = Σ_g f_g Δ_g' W_g Δ_g (the information per case) and

    U = W_f − W_f Δ P⁻¹ Δ' W_f,   W_f = diag_g(f_g W_g),   Γ_f = diag_g(Γ_g / f_g)

- **Scaled-and-shifted test** (WLSMV; Asparouhov & Muthén 2010): a = √(df / tr((UΓ_f)²)),
  b = df − a · tr(UΓ_f), T_ss = a·T + b on df degrees of freedom. lavaan reports 1/a as the scaling factor
  and b as the shift parameter.
- **Satorra (2000) difference** (lavaan's ``lavTestLRT(method = "satorra.2000")``, scaled and shifted):
  for a restricted model M0 nested in M1, the restriction matrix A (m × q₁) spans the orthogonal
  complement of H = Δ₁⁺ Δ₀ (lavaan's "delta" method), and with K_g = Δ₁g' W_g Γ_g W_g Δ₁g,
  M = P⁻¹A'(AP⁻¹A')⁻¹AP⁻¹ and UΓ = M Σ_g f_g K_g:  a = √(m / tr((UΓ)²)), b = m − a·tr(UΓ),
  T_d = a (T₀ − T₁) + b on m = df₀ − df₁ degrees of freedom.
- **Satorra–Bentler (2001) scaled difference** (MLR): c_d = (df₀ c₀ − df₁ c₁)/(df₀ − df₁),
  T_d = (T₀ − T₁)/c_d, from the unscaled statistics and the scaling factors of the two models.

References: Asparouhov, T., & Muthén, B. (2010). Simple second order chi-square correction. Mplus
technical appendix. Satorra, A. (2000). Scaled and adjusted restricted tests in multi-sample analysis of
moment structures. Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic
for moment structure analysis. Psychometrika, 66, 507–514. lavaan: ``lav_test_satorra_bentler.R``,
``lav_test_diff.R``.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, stats


def _stack(deltas, weights, gammas, fractions):
    delta = np.vstack(deltas)
    w_f = linalg.block_diag(*[f * w for f, w in zip(fractions, weights)])
    gamma_f = linalg.block_diag(*[g / f for f, g in zip(fractions, gammas)])
    return delta, w_f, gamma_f


def scaled_shifted(chisq: float, df: int, deltas, weights, gammas, fractions) -> dict:
    """Mean-and-variance adjusted (scaled-and-shifted) statistic; see the module docstring."""
    if df == 0:
        return {"chisq_scaled": chisq, "scaling_factor": np.nan, "shift": np.nan, "trace_ug": 0.0}
    delta, w_f, gamma_f = _stack(deltas, weights, gammas, fractions)
    info = delta.T @ w_f @ delta
    wd = w_f @ delta
    u = w_f - wd @ np.linalg.solve(info, wd.T)
    ug = u @ gamma_f
    trace = float(np.trace(ug))
    trace2 = float(np.sum(ug * ug.T))
    a = np.sqrt(df / trace2)
    b = df - a * trace
    return {"chisq_scaled": a * chisq + b, "scaling_factor": 1.0 / a, "shift": b, "trace_ug": trace}


def restriction_matrix(deltas_free, deltas_restricted) -> np.ndarray:
    """A with A·H = 0 for H = Δ₁⁺Δ₀ (lavaan's ``lav_test_diff_A(method = "delta")``)."""
    d1, d0 = np.vstack(deltas_free), np.vstack(deltas_restricted)
    h = np.linalg.pinv(d1) @ d0
    q, r = np.linalg.qr(h, mode="complete")
    rank = int(np.sum(np.abs(np.diag(r)) > 1e-10 * max(1.0, np.abs(r).max())))
    return q[:, rank:].T


def satorra_2000(chisq_restricted: float, df_restricted: int, chisq_free: float, df_free: int,
                 deltas_free, deltas_restricted, weights, gammas, fractions) -> dict:
    """Scaled-and-shifted difference test of a restricted model against the free model it is nested in."""
    m = df_restricted - df_free
    raw = chisq_restricted - chisq_free
    if m <= 0:
        return {"delta_chisq": raw, "delta_df": m, "p_delta_chisq": np.nan}
    A = restriction_matrix(deltas_free, deltas_restricted)
    info = sum(f * d.T @ w @ d for f, d, w in zip(fractions, deltas_free, weights))
    p_inv = np.linalg.inv(info)
    apa = A @ p_inv @ A.T
    M = p_inv @ A.T @ np.linalg.pinv(apa) @ A @ p_inv
    K = sum(f * (w @ d).T @ g @ (w @ d) for f, d, w, g in zip(fractions, deltas_free, weights, gammas))
    mk = M @ K
    trace, trace2 = float(np.trace(mk)), float(np.sum(mk * mk.T))
    a = np.sqrt(m / trace2)
    b = m - a * trace
    statistic = raw * a + b
    return {"delta_chisq": statistic, "delta_df": m, "p_delta_chisq": float(stats.chi2.sf(statistic, m))}


def satorra_bentler_2001(chisq_restricted: float, df_restricted: int, scaling_restricted: float,
                         chisq_free: float, df_free: int, scaling_free: float) -> dict:
    """Scaled difference of two MLR (or MLM) models from their unscaled χ² and scaling factors."""
    m = df_restricted - df_free
    raw = chisq_restricted - chisq_free
    if m <= 0:
        return {"delta_chisq": raw, "delta_df": m, "p_delta_chisq": np.nan}
    cd = (df_restricted * scaling_restricted - df_free * scaling_free) / m
    if cd <= 0:  # lavaan gives NA here too; the strictly positive version (2010) is not its default
        return {"delta_chisq": np.nan, "delta_df": m, "p_delta_chisq": np.nan}
    statistic = raw / cd
    return {"delta_chisq": statistic, "delta_df": m, "p_delta_chisq": float(stats.chi2.sf(statistic, m))}
