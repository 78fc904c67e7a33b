"""MLR: maximum likelihood estimates with Huber–White standard errors and the Yuan–Bentler scaled test.

Why not a library: semopy has no robust test or sandwich errors; see :mod:`.multigroup_ml` for the
estimates, which are the ML ones.

lavaan's ``estimator = "MLR"`` (0.6): ``se = "robust.huber.white"``, ``test = "yuan.bentler.mplus"``,
observed information from the Hessian. Per group g (N_g cases, f_g = N_g/N), with u_n the case-wise
scores of the saturated normal likelihood in (μ, vech Σ) and Δ_g = ∂(μ_g, vech Σ_g)/∂θ:

- E = ½ ∂²F/∂θ∂θ' (observed information per case; F the ML discrepancy of :mod:`.multigroup_ml`)
- B0_g = Δ_g' (1/N_g Σ_n u_n u_n') Δ_g, scores at the fitted moments (first-order information)
- A1_g, B1_g: expected and first-order information of the saturated model at the sample moments
  (A1 = [Σ⁻¹, ½ D'(Σ⁻¹⊗Σ⁻¹)D], D the duplication matrix)
- tr(UΓ) = Σ_g tr(A1_g⁻¹ B1_g) − Σ_g f_g tr(B0_g E⁻¹); scaling factor c = tr(UΓ)/df; T_MLR = T_ML / c
- vcov(θ̂) = E⁻¹ (Σ_g f_g B0_g) E⁻¹ / N (Huber–White sandwich)

Fit indices as lavaan 0.6 reports them: ``*_scaled`` from T/c (RMSEA with df·c in the denominator,
lavaan's convention for Yuan–Bentler); ``*_robust`` (Brosseau-Liard, Savalei & Li 2012; Brosseau-Liard
& Savalei 2014): RMSEA = √G · √max(T/(N·df) − c/N, 0), CFI = 1 − max(T − c·df, 0) / max(T − c·df,
T_B − c_B·df_B, 0), with T_B and c_B of the baseline (independence) model.

References: Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and
covariance structure analysis with nonnormal missing data. Sociological Methodology, 30, 165–200.
Savalei, V. (2018). On the computation of the RMSEA and CFI from the mean-and-variance corrected test
statistic with nonnormal data in SEM. Multivariate Behavioral Research, 53, 419–429.
"""

from __future__ import annotations

import numpy as np

from .multigroup_ml import MultiGroupModel


def _vech_pairs(p: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(p)


def saturated_scores(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray, mean_structure: bool) -> np.ndarray:
    """Case-wise scores of the normal log-likelihood in (μ, vech Σ)."""
    W = np.linalg.inv(sigma)
    wd = (x - mu) @ W
    rows, cols = _vech_pairs(len(mu))
    factor = np.where(rows == cols, 0.5, 1.0)
    sc_sigma = (wd[:, rows] * wd[:, cols] - W[rows, cols]) * factor
    return np.hstack([wd, sc_sigma]) if mean_structure else sc_sigma


def saturated_information(sigma: np.ndarray, mean_structure: bool) -> np.ndarray:
    """Expected information per case of the saturated normal model in (μ, vech Σ)."""
    W = np.linalg.inv(sigma)
    rows, cols = _vech_pairs(len(sigma))
    factor = np.where(rows == cols, 0.5, 1.0)
    block = (W[np.ix_(rows, rows)] * W[np.ix_(cols, cols)] + W[np.ix_(rows, cols)] * W[np.ix_(cols, rows)])
    block = block * np.outer(factor, factor)
    if not mean_structure:
        return block
    k = len(sigma)
    out = np.zeros((k + len(rows), k + len(rows)))
    out[:k, :k] = W
    out[k:, k:] = block
    return out


def implied_jacobian(mg: MultiGroupModel, theta: np.ndarray, g: int, step: float = 1e-6) -> np.ndarray:
    """Δ_g = ∂(μ_g, vech Σ_g)/∂θ by central differences (exact up to rounding: Σ is quadratic in θ)."""
    rows, cols = _vech_pairs(mg.p)

    def moments(t):
        sigma, mu = mg.implied(t, g)
        parts = [sigma[rows, cols]]
        if mg.table.mean_structure:
            parts.insert(0, mu)
        return np.concatenate(parts)

    out = np.zeros((len(moments(theta)), len(theta)))
    for a in range(len(theta)):
        h = step * max(1.0, abs(theta[a]))
        up, down = theta.copy(), theta.copy()
        up[a] += h
        down[a] -= h
        out[:, a] = (moments(up) - moments(down)) / (2 * h)
    return out


def observed_information(mg: MultiGroupModel, theta: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """½ × Hessian of F by central differences of its analytic gradient (lavaan: ``observed.information
    = "hessian"``)."""
    n = len(theta)
    hessian = np.zeros((n, n))
    for a in range(n):
        h = step * max(1.0, abs(theta[a]))
        up, down = theta.copy(), theta.copy()
        up[a] += h
        down[a] -= h
        hessian[:, a] = (mg.objective(up)[1] - mg.objective(down)[1]) / (2 * h)
    return 0.25 * (hessian + hessian.T)  # ½ × the symmetrized Hessian


class SaturatedParts:
    """Per group: the raw data and tr(A1⁻¹B1), computed once and shared by every model of one data set."""

    def __init__(self, data: list[np.ndarray], mean_structure: bool):
        self.data = data
        self.mean_structure = mean_structure
        self.trace_h1 = []
        for x in data:
            mu, sigma = x.mean(axis=0), np.cov(x, rowvar=False, bias=True)
            u = saturated_scores(x, mu, sigma, mean_structure)
            b1 = u.T @ u / len(x)
            a1 = saturated_information(sigma, mean_structure)
            self.trace_h1.append(float(np.trace(np.linalg.solve(a1, b1))))


def robust_ml(mg: MultiGroupModel, theta: np.ndarray, saturated: SaturatedParts) -> dict:
    """Scaling factor, tr(UΓ) and the Huber–White covariance of the estimates."""
    fractions = mg.weights
    E = observed_information(mg, theta)
    E_inv = np.linalg.inv(E)
    b0_total = np.zeros_like(E)
    trace_h0 = 0.0
    for g, x in enumerate(saturated.data):
        sigma, mu = mg.implied(theta, g)
        u = saturated_scores(x, mu, sigma, saturated.mean_structure)
        delta = implied_jacobian(mg, theta, g)
        ud = u @ delta
        b0 = ud.T @ ud / len(x)
        trace_h0 += fractions[g] * float(np.sum(b0 * E_inv))
        b0_total += fractions[g] * b0
    trace = sum(saturated.trace_h1) - trace_h0
    df = mg.df()
    return {"trace_ug": trace, "scaling_factor": trace / df if df > 0 else np.nan,
            "vcov": E_inv @ b0_total @ E_inv / mg.n_total}


def baseline_scaling(saturated: SaturatedParts) -> tuple[float, int]:
    """Yuan–Bentler scaling factor of the independence model (free means and variances per group)."""
    trace_h0, df = 0.0, 0
    for x in saturated.data:
        p = x.shape[1]
        mu, variances = x.mean(axis=0), x.var(axis=0)
        sigma = np.diag(variances)
        u = saturated_scores(x, mu, sigma, saturated.mean_structure)
        rows, cols = _vech_pairs(p)
        keep = list(np.flatnonzero(rows == cols) + (p if saturated.mean_structure else 0))
        if saturated.mean_structure:
            keep = list(range(p)) + keep
        a = saturated_information(sigma, saturated.mean_structure)[np.ix_(keep, keep)]
        b = (u[:, keep].T @ u[:, keep]) / len(x)
        trace_h0 += float(np.trace(np.linalg.solve(a, b)))
        df += p * (p - 1) // 2
    return (sum(saturated.trace_h1) - trace_h0) / df, df
