"""MLR with missing answers: Huber–White standard errors and the Yuan–Bentler scaled test on the full-information
likelihood (lavaan's ``estimator = "MLR", missing = "ml"``; the complete-data version is :mod:`.robust_ml`).

lavaan 0.6's conventions with missing = "ml": ``information = "observed"`` for the standard errors and the test,
``test = "yuan.bentler.mplus"`` (its h1 information always "unstructured", at the EM moments). Per group g (N_g
rows, f_g = N_g/N), with s_i the case-wise scores of the saturated missing-data likelihood in (μ, vech Σ) — for
case i with observed items o, s_μ = W d and s_Σ = (W d d'W − W) with the diagonal halved, W = Σ_oo⁻¹,
d = y_o − μ_o, zero for the items not answered:

- A1_g = −(1/N_g) ∂² log L_g / ∂η ∂η' at the EM moments (observed information of the saturated model, in
  closed form: :func:`observed_h1_information`), B1_g = (1/N_g) Σ_i s_i s_i' at the EM moments;
- E = ½ ∂²F/∂θ∂θ' (observed information per case of the model; F of :class:`.missing_ml.FimlModel`);
- B0_g = Δ_g' (1/N_g Σ_i s_i s_i') Δ_g, scores at the fitted moments, Δ_g = ∂(μ_g, vech Σ_g)/∂θ;
- tr(UΓ) = Σ_g tr(A1_g⁻¹ B1_g) − Σ_g f_g tr(B0_g E⁻¹); c = tr(UΓ)/df; T_MLR = T_ML/c;
- vcov(θ̂) = E⁻¹ (Σ_g f_g B0_g) E⁻¹ / N.

The baseline (independence) model's c_B takes the same h1 trace and, for h0, its own E and B0 (each item's mean
and variance over the rows that answered it). The robust CFI, TLI and RMSEA are lavaan's FIML-corrected ones
(Zhang & Savalei 2022, :func:`fiml_corrected`), not the complete-data formulas.

Reference: Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and covariance
structure analysis with nonnormal missing data. *Sociological Methodology*, 30, 165–200.
"""

from __future__ import annotations

import numpy as np

from .missing_ml import FimlModel, MissingGroup, Pattern, item_moments
from .robust_ml import implied_jacobian, observed_information


def _vech(p: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(p)


def case_scores(patterns: list[Pattern], mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """s_i for every row of the group's patterns (rows in pattern order), in (μ, vech Σ)."""
    p = len(mu)
    rows, cols = _vech(p)
    factor = np.where(rows == cols, 0.5, 1.0)
    out = []
    for pt in patterns:
        o = pt.observed
        w_o = np.linalg.inv(sigma[np.ix_(o, o)])
        W = np.zeros((p, p))
        W[np.ix_(o, o)] = w_o
        wd = np.zeros((pt.n, p))
        wd[:, o] = (pt.rows - mu[o]) @ w_o
        out.append(np.hstack([wd, (wd[:, rows] * wd[:, cols] - W[rows, cols]) * factor]))
    return np.vstack(out)


def score_sum(patterns: list[Pattern], mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Σ_i s_i from the patterns' sufficient statistics (the gradient of log L in (μ, vech Σ))."""
    p = len(mu)
    rows, cols = _vech(p)
    factor = np.where(rows == cols, 0.5, 1.0)
    g_mu, g_sigma = np.zeros(p), np.zeros((p, p))
    for pt in patterns:
        o = pt.observed
        w_o = np.linalg.inv(sigma[np.ix_(o, o)])
        d = pt.mean - mu[o]
        g_mu[o] += pt.n * (w_o @ d)
        g_sigma[np.ix_(o, o)] += pt.n * (w_o @ (pt.cov + np.outer(d, d)) @ w_o - w_o)
    return np.concatenate([g_mu, g_sigma[rows, cols] * factor])


def observed_h1_information(patterns: list[Pattern], mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """A1: −(1/N) ∂² log L/∂η∂η' in η = (μ, vech Σ), analytic.

    Per pattern (observed o, n rows, W = Σ_oo⁻¹, d = ȳ_o − μ_o, B = W(S + dd')W), with f = ½ on the diagonal of
    vech and 1 off it (the score of :func:`score_sum`), the second derivatives of log L are
    ∂²/∂μ∂μ' = −nW; ∂²/∂μ_k∂σ_ab = −n(W_ka (Wd)_b + W_kb (Wd)_a) f_ab;
    ∂²/∂σ_kl∂σ_ab = n f_kl f_ab (W_ka W_bl + W_kb W_al − W_ka B_bl − W_kb B_al − B_ka W_bl − B_kb W_al)
    (the differentials of W = Σ⁻¹, dW = −W dΣ W; Magnus & Neudecker 1999, ch. 9). The tests check it against
    central differences of :func:`score_sum`.
    """
    p = len(mu)
    rows, cols = _vech(p)
    vech_index = np.zeros((p, p), dtype=int)
    vech_index[rows, cols] = vech_index[cols, rows] = np.arange(len(rows))
    hessian = np.zeros((p + len(rows), p + len(rows)))
    for pt in patterns:
        o, n = pt.observed, pt.n
        w = np.linalg.inv(sigma[np.ix_(o, o)])
        d = pt.mean - mu[o]
        wd = w @ d
        b = w @ (pt.cov + np.outer(d, d)) @ w
        ru, cu = np.triu_indices(len(o))
        f = np.where(ru == cu, 0.5, 1.0)
        at = p + vech_index[o[ru], o[cu]]
        hessian[np.ix_(o, o)] -= n * w
        mixed = -n * (w[:, ru] * wd[cu] + w[:, cu] * wd[ru]) * f
        hessian[np.ix_(o, at)] += mixed
        hessian[np.ix_(at, o)] += mixed.T
        k, j, a, c = ru[:, None], cu[:, None], ru[None, :], cu[None, :]      # rows (k, j), columns (a, c)
        block = (w[k, a] * w[c, j] + w[k, c] * w[a, j] - w[k, a] * b[c, j] - w[k, c] * b[a, j]
                 - b[k, a] * w[c, j] - b[k, c] * w[a, j])
        hessian[np.ix_(at, at)] += n * block * f[:, None] * f[None, :]
    info = -hessian / sum(pt.n for pt in patterns)
    return (info + info.T) / 2


def h1_informations(group: MissingGroup) -> tuple[np.ndarray, np.ndarray]:
    """(A1, B1): the observed and the first-order h1 information of a group at its EM moments. They depend on
    the data alone, so they are computed once per group and shared by every model fitted to it (each level of
    an invariance test, its robust statistics and its FIML-corrected indices)."""
    if "h1 informations" not in group.derived:
        mu, sigma = group.h1.mean, group.h1.cov
        scores = case_scores(group.patterns, mu, sigma)
        group.derived["h1 informations"] = (observed_h1_information(group.patterns, mu, sigma),
                                            scores.T @ scores / len(scores))
    return group.derived["h1 informations"]


def h1_trace(group: MissingGroup) -> float:
    """tr(A1⁻¹ B1) of one group at its EM moments."""
    a1, b1 = h1_informations(group)
    return float(np.trace(np.linalg.solve(a1, b1)))


def robust_fiml(model: FimlModel, theta: np.ndarray, traces_h1: list[float] | None = None) -> dict:
    """Scaling factor, tr(UΓ) and the Huber–White covariance of the estimates (module docstring)."""
    traces_h1 = traces_h1 if traces_h1 is not None else [h1_trace(g) for g in model.groups]
    E = observed_information(model, theta)
    E_inv = np.linalg.inv(E)
    b0_total = np.zeros_like(E)
    trace_h0 = 0.0
    for g, group in enumerate(model.groups):
        sigma, mu = model.implied(theta, g)
        ud = case_scores(group.patterns, mu, sigma) @ implied_jacobian(model, theta, g)
        b0 = ud.T @ ud / len(ud)
        trace_h0 += model.weights[g] * float(np.sum(b0 * E_inv))
        b0_total += model.weights[g] * b0
    trace = sum(traces_h1) - trace_h0
    df = model.df()
    return {"trace_ug": trace, "scaling_factor": trace / df if df > 0 else np.nan,
            "vcov": E_inv @ b0_total @ E_inv / model.n_total, "traces_h1": traces_h1}


def baseline_scaling_fiml(groups: list[MissingGroup], traces_h1: list[float]) -> tuple[float, int]:
    """c_B of the independence model with missing answers: its h0 trace from its own observed information
    (each item's n_j/σ_j² for the mean and n_j/(2σ_j⁴) for the variance, per case of the group) and scores."""
    trace_h0, df, n_total = 0.0, 0, sum(g.h1.n for g in groups)
    for group in groups:
        p = len(group.h1.mean)
        counts, mu, var = item_moments(group.patterns, p)
        rows, cols = _vech(p)
        keep = list(range(p)) + list(p + np.flatnonzero(rows == cols))
        scores = case_scores(group.patterns, mu, np.diag(var))[:, keep]
        n = group.h1.n
        b0 = scores.T @ scores / n
        e = np.diag(np.concatenate([counts / var, counts / (2 * var ** 2)]) / n)
        f = n / n_total
        # E of the whole sample per case is f·e (block diagonal over groups), so f·tr(B0 (f·e)⁻¹) = tr(B0 e⁻¹)
        trace_h0 += f * float(np.sum(b0 * np.linalg.inv(f * e)))
        df += p * (p - 1) // 2
    return (sum(traces_h1) - trace_h0) / df, df


def _complete_ml_chisq(n: int, mu: np.ndarray, sigma: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> float:
    """N · F_ML of implied moments (μ, Σ) against sample moments (mean, cov): the complete-data χ²."""
    w = np.linalg.inv(sigma)
    d = mean - mu
    return float(n * (np.linalg.slogdet(sigma)[1] + np.sum(w * cov) - np.linalg.slogdet(cov)[1] - len(mu)
                      + d @ w @ d))


def fiml_corrected(model: FimlModel, theta: np.ndarray) -> dict:
    """The FIML-corrected robust RMSEA and CFI ingredients of Zhang & Savalei (2022), version V3, as lavaan
    computes them for MLR with missing = "ml" (``lav_fit_fiml_corrected``): T₃ = N·F_ML of the FIML estimates
    against the EM moments (a complete-data χ²), and its scaling c₃ = k/df with
    k = tr(W_c Γ) − 2 tr(Δ'J W_m⁻¹ W_c Δ E⁻¹) + tr(Δ'JΔ E⁻¹ Δ'W_cΔ E⁻¹), where W_m and J are the missing-data
    h1 observed and first-order informations at the EM moments, W_c the complete-data one there, Γ = W_m⁻¹ J W_m⁻¹
    and E = Δ'W_mΔ (each group weighted by f_g); likewise for the independence model.

    Reference: Zhang, X., & Savalei, V. (2022). New computations for RMSEA and CFI following FIML and TS
    estimation with missing data. *Psychological Methods*."""
    from .robust_ml import saturated_information

    fractions = model.weights
    wm, wc, jm, deltas, deltas_b, t3, t3_null = [], [], [], [], [], 0.0, 0.0
    for g, group in enumerate(model.groups):
        mean, cov, n = group.h1.mean, group.h1.cov, group.h1.n
        f = fractions[g]
        m, j = h1_informations(group)
        wm.append(f * m)
        jm.append(f * j)
        wc.append(f * saturated_information(cov, True))
        deltas.append(implied_jacobian(model, theta, g))
        sigma, mu = model.implied(theta, g)
        t3 += _complete_ml_chisq(n, mu, sigma, mean, cov)
        p = len(mean)
        _, base_mu, base_var = item_moments(group.patterns, p)
        t3_null += _complete_ml_chisq(n, base_mu, np.diag(base_var), mean, cov)
        rows, cols = _vech(p)
        keep = list(range(p)) + list(p + np.flatnonzero(rows == cols))
        delta_b = np.zeros((p + len(rows), 2 * p))
        delta_b[keep, np.arange(2 * p)] = 1.0
        deltas_b.append(delta_b)

    def block(mats):
        size = sum(x.shape[0] for x in mats)
        out = np.zeros((size, size))
        at = 0
        for x in mats:
            out[at:at + len(x), at:at + len(x)] = x
            at += len(x)
        return out

    def stack_b(mats):      # the independence model's parameters are per group: block columns
        rows_total, cols_total = sum(x.shape[0] for x in mats), sum(x.shape[1] for x in mats)
        out = np.zeros((rows_total, cols_total))
        r = c = 0
        for x in mats:
            out[r:r + x.shape[0], c:c + x.shape[1]] = x
            r, c = r + x.shape[0], c + x.shape[1]
        return out

    wm_all, wc_all, jm_all = block(wm), block(wc), block(jm)
    wmi_all = np.linalg.inv(wm_all)
    gamma = wmi_all @ jm_all @ wmi_all
    tr11 = float(np.sum(wc_all * gamma))

    def k_of(delta: np.ndarray) -> float:
        e_inv = np.linalg.inv(delta.T @ wm_all @ delta)
        tr12 = float(np.sum((delta.T @ jm_all @ wmi_all @ wc_all @ delta) * e_inv))
        a = delta.T @ jm_all @ delta @ e_inv
        b = delta.T @ wc_all @ delta @ e_inv
        return tr11 - 2 * tr12 + float(np.sum(a * b.T))

    df, df_null = model.df(), len(model.groups) * model.p * (model.p - 1) // 2
    k, k_null = k_of(np.vstack(deltas)), k_of(stack_b(deltas_b))
    return {"chisq": t3, "df": df, "c": k / df if df > 0 else np.nan, "chisq_null": t3_null, "df_null": df_null,
            "c_null": k_null / df_null}


def fiml_robust_indices(model: FimlModel, theta: np.ndarray) -> dict:
    """lavaan's ``cfi.robust``, ``tli.robust`` and ``rmsea.robust`` for MLR with missing = "ml" (FIML-C V3,
    :func:`fiml_corrected`): the formulas of :mod:`.fit_indices` on T₃, c₃ and the independence model's."""
    from .fit_indices import cfi_corrected, tli_corrected

    fc = fiml_corrected(model, theta)
    n, groups, df = model.n_total, len(model.groups), fc["df"]
    rmsea = (np.sqrt(groups) * np.sqrt(max(fc["chisq"] / (n * df) - fc["c"] / n, 0.0))) if df > 0 else 0.0
    return {"cfi_robust": cfi_corrected(fc["chisq"], df, fc["chisq_null"], fc["df_null"], fc["c"], fc["c_null"]),
            "tli_robust": tli_corrected(fc["chisq"], df, fc["chisq_null"], fc["df_null"], fc["c"], fc["c_null"]),
            "rmsea_robust": rmsea}


__all__ = ["baseline_scaling_fiml", "case_scores", "fiml_corrected", "fiml_robust_indices", "h1_informations",
           "h1_trace", "observed_h1_information", "robust_fiml", "score_sum"]
