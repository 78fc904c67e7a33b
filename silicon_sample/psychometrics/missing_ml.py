r"""Full-information maximum likelihood with missing answers (lavaan's ``missing = "ml"``).

Every respondent with at least one observed item counts, with the items they answered. Grouping the rows of
one group by their pattern of observed items (pattern k: ``n_k`` rows, observed set ``o_k`` of ``p_k`` items,
pattern mean :math:`\bar y_k` and covariance :math:`S_k` with divisor ``n_k``), the normal log-likelihood is

.. math::

    \log L(\mu, \Sigma) = -\tfrac12 \sum_k n_k \left[ p_k \log 2\pi + \log|\Sigma_k| + \mathrm{tr}(\Sigma_k^{-1} S_k)
    + (\bar y_k - \mu_k)^\top \Sigma_k^{-1} (\bar y_k - \mu_k) \right]

with :math:`\mu_k, \Sigma_k` the model's moments of the observed items (Arbuckle 1996; lavaan's
``lav_mvnorm_missing_loglik_samplestats``). The saturated (h1) moments maximise it without structure, found by
EM (Dempster, Laird & Rubin 1977; lavaan's ``lav_mvnorm_missing_h1_estimate_moments``) on the patterns'
sufficient statistics. lavaan's conventions, kept here:

- χ² = 2 (log L_h1 − log L_model); the fit function F = χ² / N, N the rows with at least one observed item
  (a row with every item missing is left out and counted);
- the baseline (independence) model frees each item's mean and variance: its log-likelihood is each item's own
  normal log-likelihood over the rows that answered it; baseline df = p(p − 1)/2 per group;
- the saturated moments from EM are the "observed" moments of SRMR (residuals standardized by their SDs, means
  included) and of the starting values;
- a mean structure is always fitted (intercepts free), as lavaan does with missing = "ml".

References: Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data. In
Marcoulides & Schumacker (Eds.), *Advanced structural equation modeling*. Dempster, A. P., Laird, N. M., &
Rubin, D. B. (1977). Maximum likelihood from incomplete data via the EM algorithm. *JRSS B*, 39, 1–38.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ConvergenceError, DataError, SpecError
from .moments import GroupMoments
from .multigroup_ml import MultiGroupModel, ParameterTable

LOG_2PI = float(np.log(2 * np.pi))

MISSING = ("listwise", "ml", "pairwise")
"""How missing answers are handled (lavaan's ``missing=``): listwise deletion, full-information ML (ML and MLR;
``"fiml"`` is read as ``"ml"``), or pairwise statistics (WLSMV)."""


def check_missing(missing: str, estimator: str) -> str:
    """``missing`` checked against the estimator, as lavaan allows them: ``ml`` with ML and MLR, ``pairwise``
    with WLSMV, ``listwise`` with all; ``auto`` is ``ml`` or ``pairwise`` by the estimator (the comparisons'
    default)."""
    value = str(missing).lower()
    value = "ml" if value in ("fiml", "direct") else value
    if value == "auto":        # what lavaan users fit with answers missing: FIML for ML/MLR, pairwise for WLSMV
        return "pairwise" if estimator == "WLSMV" else "ml"
    if value not in MISSING:
        raise SpecError(f"unknown missing={missing!r}", where="missing",
                        fix="use listwise, ml (full-information ML, for ML and MLR), pairwise (WLSMV) or auto")
    if value == "ml" and estimator == "WLSMV":
        raise SpecError("missing='ml' (full-information ML) needs estimator ML or MLR, not WLSMV", where="missing",
                        fix="use missing='pairwise' with WLSMV, as lavaan does for ordered items")
    if value == "pairwise" and estimator != "WLSMV":
        raise SpecError(f"missing='pairwise' is for WLSMV (polychorics from the pairs answered), not {estimator}",
                        where="missing", fix="use missing='ml' (full-information ML) with ML and MLR")
    return value


def missing_label(missing: str, n: int, missing_answers: int, left_out: int) -> str:
    """The ``missing`` column of every fit table: the method and its counts."""
    method = {"listwise": "listwise deletion", "ml": "full-information ML (lavaan missing = \"ml\")",
              "pairwise": "pairwise (lavaan missing = \"pairwise\")"}[missing]
    return (f"{method}: {n} respondents, {missing_answers} missing answers among them"
            + (f", {left_out} respondents left out" if left_out else ""))


@dataclass(frozen=True)
class Pattern:
    """The rows of one group that answered the same items: which (``observed``), how many, their moments."""

    observed: np.ndarray
    n: int
    mean: np.ndarray
    cov: np.ndarray            # divisor n
    rows: np.ndarray           # the rows' answers to the observed items (for case-wise scores)


@dataclass(frozen=True)
class MissingGroup:
    """One group's patterns, its saturated (EM) moments and log-likelihood, and its counts."""

    name: str
    patterns: list[Pattern]
    h1: GroupMoments
    loglik_h1: float
    missing_answers: int       # missing cells among the rows kept
    rows_left_out: int         # rows with every item missing
    derived: dict = field(default_factory=dict, compare=False, repr=False)   # figures of the data alone, kept


def patterns_of(x: np.ndarray) -> list[Pattern]:
    """The missingness patterns of ``x`` (rows × items, NaN missing); rows with every item missing are left out."""
    seen = ~np.isnan(x)
    keep = seen.any(axis=1)
    x, seen = x[keep], seen[keep]
    masks, inverse = np.unique(seen, axis=0, return_inverse=True)
    out = []
    for k, mask in enumerate(masks):
        rows = x[inverse.ravel() == k][:, mask]
        mean = rows.mean(axis=0)
        centred = rows - mean
        out.append(Pattern(np.flatnonzero(mask), len(rows), mean, centred.T @ centred / len(rows), rows))
    return out


def loglik(mu: np.ndarray, sigma: np.ndarray, patterns: list[Pattern]) -> float:
    """The normal log-likelihood of a group's observed answers (module docstring); −inf if Σ_k is not positive
    definite."""
    total = 0.0
    for pattern in patterns:
        o = pattern.observed
        s_o = sigma[np.ix_(o, o)]
        sign, logdet = np.linalg.slogdet(s_o)
        if sign <= 0:
            return -np.inf
        w = np.linalg.inv(s_o)
        d = pattern.mean - mu[o]
        total -= 0.5 * pattern.n * (len(o) * LOG_2PI + logdet + np.sum(w * pattern.cov) + d @ w @ d)
    return float(total)


def em_moments(patterns: list[Pattern], p: int, tol: float = 1e-12, max_iter: int = 10_000
               ) -> tuple[np.ndarray, np.ndarray]:
    """The saturated μ and Σ (divisor N) maximising :func:`loglik`, by EM on the patterns' sufficient statistics.

    E-step for pattern k (observed o, missing m; B = Σ_mo Σ_oo⁻¹, a = μ_m − B μ_o, C = Σ_mm − B Σ_om): the
    rows' expected sums Σ y = n_k (ȳ_o, a + B ȳ_o) and cross-products, oo: n_k (S_k + ȳȳ'), mo: n_k (a ȳ' +
    B(S_k + ȳȳ')), mm: n_k (a a' + a ȳ'B' + B ȳ a' + B(S_k + ȳȳ')B' + C). M-step: μ = T₁/N, Σ = T₂/N − μμ'.
    Converged when no element of μ or Σ moves more than ``tol`` (relative to its scale)."""
    n = sum(pt.n for pt in patterns)
    t1 = np.zeros(p)
    counts = np.zeros(p)
    for pt in patterns:
        t1[pt.observed] += pt.n * pt.mean
        counts[pt.observed] += pt.n
    mu = t1 / counts
    var = np.zeros(p)
    for pt in patterns:
        var[pt.observed] += pt.n * (np.diag(pt.cov) + (pt.mean - mu[pt.observed]) ** 2)
    sigma = np.diag(var / counts)
    for _ in range(max_iter):
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for pt in patterns:
            o = pt.observed
            m = np.setdiff1d(np.arange(p), o)
            second = pt.cov + np.outer(pt.mean, pt.mean)
            t1[o] += pt.n * pt.mean
            t2[np.ix_(o, o)] += pt.n * second
            if len(m):
                b = np.linalg.solve(sigma[np.ix_(o, o)], sigma[np.ix_(o, m)]).T
                a = mu[m] - b @ mu[o]
                c = sigma[np.ix_(m, m)] - b @ sigma[np.ix_(o, m)]
                t1[m] += pt.n * (a + b @ pt.mean)
                cross = np.outer(a, pt.mean) + b @ second
                t2[np.ix_(m, o)] += pt.n * cross
                t2[np.ix_(o, m)] += pt.n * cross.T
                t2[np.ix_(m, m)] += pt.n * (np.outer(a, a) + np.outer(a, b @ pt.mean) + np.outer(b @ pt.mean, a)
                                            + b @ second @ b.T + c)
        new_mu = t1 / n
        new_sigma = t2 / n - np.outer(new_mu, new_mu)
        change = max(np.abs(new_mu - mu).max(), np.abs(new_sigma - sigma).max())
        mu, sigma = new_mu, (new_sigma + new_sigma.T) / 2
        if change < tol * max(1.0, np.abs(sigma).max()):
            return mu, sigma
    raise ConvergenceError(f"the EM estimates of the saturated moments did not converge in {max_iter} iterations",
                           where="missing = 'ml'", fix="check for items answered by very few respondents")


def item_moments(patterns: list[Pattern], p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(answers, mean, variance with divisor n_j) of each item over the rows that answered it: the independence
    model's estimates under full-information ML."""
    counts, s1, s2 = np.zeros(p), np.zeros(p), np.zeros(p)
    for pt in patterns:
        counts[pt.observed] += pt.n
        s1[pt.observed] += pt.n * pt.mean
        s2[pt.observed] += pt.n * (np.diag(pt.cov) + pt.mean ** 2)
    mean = s1 / counts
    return counts, mean, s2 / counts - mean ** 2


def baseline_loglik(patterns: list[Pattern], p: int) -> float:
    """The independence model's log-likelihood: each item normal with its own mean and variance (divisor n_j)
    over the rows that answered it."""
    counts, _, variance = item_moments(patterns, p)
    return float(-0.5 * np.sum(counts * (LOG_2PI + np.log(variance) + 1.0)))


def missing_groups(data: pd.DataFrame, items: list[str], group: str | None = None) -> list[MissingGroup]:
    """Each group's patterns, EM moments and counts (groups in order of first appearance, as lavaan). Raises
    :class:`DataError` naming the column when an item is missing for every respondent of a group or has zero
    variance among those who answered it."""
    absent = [c for c in items + ([group] if group else []) if c not in data.columns]
    if absent:
        raise DataError(f"column(s) {', '.join(absent)} not in the data", where="data",
                        fix=f"available: {', '.join(map(str, data.columns))}")
    frame = data[items + ([group] if group else [])]
    if group:
        frame = frame[frame[group].notna()]
    try:
        values = frame[items].astype(float)
    except (TypeError, ValueError):
        raise DataError("items must be numeric", where="data", fix="code the answers as numbers") from None
    labels = frame[group].unique().tolist() if group else ["all"]
    out = []
    for label in labels:
        x = (values[frame[group] == label] if group else values).to_numpy()
        where = f"group {group}={label}" if group else "data"
        empty = [item for item, seen in zip(items, (~np.isnan(x)).any(axis=0)) if not seen]
        if empty:
            raise DataError(f"item {empty[0]} is missing for every respondent", where=where,
                            fix="drop the item from the model (full-information ML needs some answers to each)")
        for j, item in enumerate(items):
            column = x[:, j][~np.isnan(x[:, j])]
            if np.ptp(column) == 0:
                raise DataError(f"item {item} has zero variance (every answer is {column[0]:g})", where=where,
                                fix="drop the item from the model or examine why every respondent gave one answer")
        patterns = patterns_of(x)
        kept = sum(pt.n for pt in patterns)
        mu, sigma = em_moments(patterns, len(items))
        out.append(MissingGroup(str(label), patterns, GroupMoments(str(label), kept, mu, sigma),
                                loglik(mu, sigma, patterns),
                                int(np.isnan(x).sum() - (len(x) - kept) * len(items)), len(x) - kept))
    return out


def _pattern_stacks(patterns: list[Pattern]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """The patterns grouped by how many items they answered: (observed indices k × q, n k, means k × q,
    covariances k × q × q) per group, for batched linear algebra."""
    by_size: dict[int, list[Pattern]] = {}
    for pt in patterns:
        by_size.setdefault(len(pt.observed), []).append(pt)
    return [(np.array([pt.observed for pt in same]), np.array([pt.n for pt in same], dtype=float),
             np.array([pt.mean for pt in same]), np.array([pt.cov for pt in same]))
            for _, same in sorted(by_size.items())]


class FimlModel(MultiGroupModel):
    """:class:`~.multigroup_ml.MultiGroupModel` with the full-information likelihood: F = 2(log L_h1 − log L)/N,
    so N·F is lavaan's χ². Fisher scoring keeps the complete-data expected information at the saturated
    moments as its metric (a step direction only; the step halving keeps every step downhill)."""

    def __init__(self, table: ParameterTable, groups: list[MissingGroup]):
        super().__init__(table, [g.h1 for g in groups])
        self.groups = groups
        self._stacks = [_pattern_stacks(group.patterns) for group in groups]

    def objective(self, theta: np.ndarray, gradient: bool = True):
        """F and its gradient, the patterns with the same number of answered items evaluated together
        (batched inverses and log-determinants of their Σ_oo)."""
        total = 0.0
        grad = np.zeros(self.table.n_params)
        p = self.p
        for g, group in enumerate(self.groups):
            sigma, mu = self.implied(theta, g)
            G = np.zeros(p * p)
            g_mu = np.zeros(p)
            value = 0.0
            for o, n, mean, cov in self._stacks[g]:
                s_o = sigma[o[:, :, None], o[:, None, :]]
                sign, logdet = np.linalg.slogdet(s_o)
                if (sign <= 0).any():
                    return (np.inf, grad) if gradient else np.inf
                w = np.linalg.inv(s_o)
                d = mean - mu[o]
                wd = (w @ d[:, :, None])[:, :, 0]
                value += float(n @ (o.shape[1] * LOG_2PI + logdet + np.sum(w * cov, axis=(1, 2))
                                    + np.sum(d * wd, axis=1)))
                if gradient:
                    inner = s_o - cov - d[:, :, None] * d[:, None, :]
                    G += np.bincount((o[:, :, None] * p + o[:, None, :]).ravel(),
                                     weights=(n[:, None, None] * (w @ inner @ w)).ravel(), minlength=p * p)
                    g_mu += np.bincount(o.ravel(), weights=(-2.0 * n[:, None] * wd).ravel(), minlength=p)
            total += (value + 2.0 * group.loglik_h1) / self.n_total
            if gradient:
                self.chain(g, theta, G.reshape(p, p) / self.n_total, g_mu / self.n_total, 1.0, grad)
        return (total, grad) if gradient else total

    def loglik(self, theta: np.ndarray) -> float:
        """The full-information log-likelihood (lavaan's ``logl`` with missing = "ml")."""
        return float(sum(loglik(*self.implied(theta, g)[::-1], group.patterns) for g, group in enumerate(self.groups)))

    def loglik_h1(self) -> float:
        return float(sum(group.loglik_h1 for group in self.groups))

    def with_table(self, table: ParameterTable) -> FimlModel:
        """Releases in partial invariance: the inherited score test takes the full-information gradient with
        the complete-data expected information at the EM moments (the finite-difference observed information,
        lavaan's default, was not positive definite for every released model); these statistics order the
        releases, they are not lavTestScore's numbers."""
        return FimlModel(table, self.groups)

    def baseline(self) -> tuple[float, int]:
        """The independence model's χ² and df (module docstring)."""
        chisq = sum(2.0 * (group.loglik_h1 - baseline_loglik(group.patterns, self.p)) for group in self.groups)
        return float(chisq), len(self.groups) * self.p * (self.p - 1) // 2


__all__ = ["MISSING", "FimlModel", "MissingGroup", "Pattern", "baseline_loglik", "check_missing", "em_moments",
           "item_moments", "loglik", "missing_groups", "missing_label", "patterns_of"]
