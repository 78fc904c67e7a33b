"""Multi-group confirmatory factor analysis by maximum likelihood, with equality constraints.

Why not a library: semopy's ``multigroup`` fits each group separately, and no
maintained Python package fits several groups jointly with parameters shared
across groups, which is what measurement invariance needs. This module does
that one job, on lavaan's conventions, and is checked against lavaan.

Model (group g, p items, m factors)::

    Σ_g = Λ_g Φ_g Λ_g' + Θ_g          μ_g = ν_g + Λ_g κ_g

The first indicator of each factor is its marker (loading 1); Φ is free
(variances and covariances), Θ diagonal, ν free, κ fixed at 0 unless the
intercepts are equal across groups, in which case κ is free in every group but
the first (lavaan's defaults for ``cfa(..., group=, group.equal=)``).
Parameters with the same label share one value across groups when their class
(``loadings``, ``intercepts``, ``residuals``) is constrained equal and the
label is not released (partial invariance).

Estimation maximises the normal likelihood, i.e. minimises::

    F = Σ_g (N_g/N) [log|Σ_g| + tr(S_g Σ_g⁻¹) − log|S_g| − p + (x̄_g − μ_g)' Σ_g⁻¹ (x̄_g − μ_g)]

with S_g the covariance matrix divided by N_g (likelihood "normal", as
lavaan's default for ML), so χ² = N·F_min. Optimisation is Fisher scoring
with step halving, using the analytic gradient and the expected information

    I = Σ_g N_g [Δμ' Σ⁻¹ Δμ + ½ tr(Σ⁻¹ ∂Σ/∂θ_a Σ⁻¹ ∂Σ/∂θ_b)]

which also gives the score (Lagrange multiplier) tests used to release
equality constraints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ConvergenceError, SpecError
from .lavaan_syntax import MeasurementModel
from .moments import GroupMoments

EQUALITY_CLASSES = ("loadings", "intercepts", "residuals")


@dataclass(frozen=True)
class Entry:
    """One free matrix element of one group and the parameter it takes its value from."""

    group: int
    matrix: str  # "L" loadings, "P" factor (co)variances, "T" residual variances, "nu" intercepts, "kappa" means
    row: int
    col: int
    label: str
    kind: str  # "loadings", "intercepts", "residuals", "lv.covariances", "means"


@dataclass
class ParameterTable:
    """Which matrix elements are free, and which share a parameter across groups."""

    model: MeasurementModel
    n_groups: int
    equal: frozenset[str] = frozenset()
    released: frozenset[str] = frozenset()
    mean_structure: bool = True
    entries: list[Entry] = field(default_factory=list)
    index: np.ndarray | None = None
    keys: list[tuple] = field(default_factory=list)

    def __post_init__(self):
        unknown = set(self.equal) - set(EQUALITY_CLASSES)
        if unknown:
            raise SpecError(f"unknown equality class(es) {sorted(unknown)}", where="group_equal",
                            fix="use loadings, intercepts, thresholds and residuals")
        items = self.model.observed
        factors = list(self.model.factors)
        pos = {item: i for i, item in enumerate(items)}
        index_of: dict[tuple, int] = {}
        indices = []
        for g in range(self.n_groups):
            specs = []
            for f, factor in enumerate(factors):
                for item in self.model.indicators[factor][1:]:
                    specs.append(("L", pos[item], f, f"{factor}=~{item}", "loadings"))
            for f in range(len(factors)):
                for h in range(f, len(factors)):
                    specs.append(("P", f, h, f"{factors[f]}~~{factors[h]}", "lv.covariances"))
            for i, item in enumerate(items):
                specs.append(("T", i, i, f"{item}~~{item}", "residuals"))
            if self.mean_structure:
                for i, item in enumerate(items):
                    specs.append(("nu", i, 0, f"{item}~1", "intercepts"))
                if "intercepts" in self.equal and g > 0:
                    for f, factor in enumerate(factors):
                        specs.append(("kappa", f, 0, f"{factor}~1", "means"))
            for matrix, row, col, label, kind in specs:
                shared = kind in self.equal and label not in self.released
                key = (label,) if shared else (label, g)
                if key not in index_of:
                    index_of[key] = len(index_of)
                    self.keys.append(key)
                self.entries.append(Entry(g, matrix, row, col, label, kind))
                indices.append(index_of[key])
        self.index = np.array(indices, dtype=int)

    @property
    def n_params(self) -> int:
        return len(self.keys)

    def constrained_labels(self) -> list[str]:
        """Labels currently shared across groups (candidates for release)."""
        return [key[0] for key in self.keys if len(key) == 1] if self.n_groups > 1 else []


class MultiGroupModel:
    """Implied moments, discrepancy, gradient and information for one parameter table."""

    def __init__(self, table: ParameterTable, moments: list[GroupMoments]):
        self.table = table
        self.moments = moments
        self.p = len(table.model.observed)
        self.m = len(table.model.factors)
        self.n_total = sum(g.n for g in moments)
        self.weights = np.array([g.n / self.n_total for g in moments])
        self._logdet_s = [np.linalg.slogdet(g.cov)[1] for g in moments]
        self._marker = np.zeros((self.p, self.m))
        pos = {item: i for i, item in enumerate(table.model.observed)}
        for f, factor in enumerate(table.model.factors):
            self._marker[pos[table.model.indicators[factor][0]], f] = 1.0
        self._groups = [np.flatnonzero([e.group == g for e in table.entries]) for g in range(table.n_groups)]

    # -- matrices -------------------------------------------------------------
    def matrices(self, theta: np.ndarray, g: int):
        L = self._marker.copy()
        P = np.zeros((self.m, self.m))
        T = np.zeros(self.p)
        nu = np.zeros(self.p)
        kappa = np.zeros(self.m)
        for k in self._groups[g]:
            e, value = self.table.entries[k], theta[self.table.index[k]]
            if e.matrix == "L":
                L[e.row, e.col] = value
            elif e.matrix == "P":
                P[e.row, e.col] = P[e.col, e.row] = value
            elif e.matrix == "T":
                T[e.row] = value
            elif e.matrix == "nu":
                nu[e.row] = value
            else:
                kappa[e.row] = value
        return L, P, T, nu, kappa

    def implied(self, theta: np.ndarray, g: int):
        L, P, T, nu, kappa = self.matrices(theta, g)
        sigma = L @ P @ L.T + np.diag(T)
        mu = nu + L @ kappa if self.table.mean_structure else self.moments[g].mean
        return sigma, mu

    # -- discrepancy and derivatives --------------------------------------------
    def objective(self, theta: np.ndarray, gradient: bool = True):
        """F (see module docstring) and its gradient; F = inf outside the admissible region."""
        total = 0.0
        grad = np.zeros(self.table.n_params)
        for g, mom in enumerate(self.moments):
            L, P, T, nu, kappa = self.matrices(theta, g)
            sigma = L @ P @ L.T + np.diag(T)
            mu = nu + L @ kappa if self.table.mean_structure else mom.mean
            sign, logdet = np.linalg.slogdet(sigma)
            if sign <= 0:
                return (np.inf, grad) if gradient else np.inf
            W = np.linalg.inv(sigma)
            d = mom.mean - mu
            Wd = W @ d
            f = logdet + np.trace(mom.cov @ W) - self._logdet_s[g] - self.p + d @ Wd
            total += self.weights[g] * f
            if not gradient:
                continue
            G = W @ (sigma - mom.cov - np.outer(d, d)) @ W
            self.chain(g, theta, G, -2.0 * Wd, self.weights[g], grad)
        return (total, grad) if gradient else total

    def chain(self, g: int, theta: np.ndarray, G: np.ndarray, g_mu: np.ndarray, weight: float,
              grad: np.ndarray) -> None:
        """Add ``weight`` × ∂F_g/∂θ to ``grad`` from ∂F_g/∂Σ_g = G (symmetric, off-diagonals counted once each
        way) and ∂F_g/∂μ_g = ``g_mu``."""
        L, P, T, nu, kappa = self.matrices(theta, g)
        dL = 2.0 * G @ L @ P + np.outer(g_mu, kappa)
        dP = L.T @ G @ L
        for k in self._groups[g]:
            e = self.table.entries[k]
            if e.matrix == "L":
                value = dL[e.row, e.col]
            elif e.matrix == "P":
                value = dP[e.row, e.col] * (1.0 if e.row == e.col else 2.0)
            elif e.matrix == "T":
                value = G[e.row, e.row]
            elif e.matrix == "nu":
                value = g_mu[e.row]
            else:
                value = (L.T @ g_mu)[e.row]
            grad[self.table.index[k]] += weight * value

    def information(self, theta: np.ndarray) -> np.ndarray:
        """Expected information of the whole sample (sum over groups of N_g × per-case information)."""
        n = self.table.n_params
        info = np.zeros((n, n))
        p = self.p
        for g, mom in enumerate(self.moments):
            L, P, T, nu, kappa = self.matrices(theta, g)
            sigma = L @ P @ L.T + np.diag(T)
            W = np.linalg.inv(sigma)
            LP = L @ P
            d_sigma = np.zeros((n, p, p))
            d_mu = np.zeros((n, p))
            for k in self._groups[g]:
                e, a = self.table.entries[k], self.table.index[k]
                if e.matrix == "L":
                    d_sigma[a, e.row, :] += LP[:, e.col]
                    d_sigma[a, :, e.row] += LP[:, e.col]
                    if self.table.mean_structure:
                        d_mu[a, e.row] += kappa[e.col]
                elif e.matrix == "P":
                    outer = np.outer(L[:, e.row], L[:, e.col])
                    d_sigma[a] += outer if e.row == e.col else outer + outer.T
                elif e.matrix == "T":
                    d_sigma[a, e.row, e.row] += 1.0
                elif e.matrix == "nu":
                    d_mu[a, e.row] += 1.0
                else:
                    d_mu[a] += L[:, e.row]
            used = np.unique(self.table.index[self._groups[g]])
            ds = d_sigma[used]
            wdw = W @ ds @ W                 # (a, p, p): W ∂Σ/∂θ_a W, batched matrix products
            block = 0.5 * wdw.reshape(len(used), -1) @ ds.transpose(0, 2, 1).reshape(len(used), -1).T
            if self.table.mean_structure:
                dm = d_mu[used]
                block += dm @ W @ dm.T
            info[np.ix_(used, used)] += mom.n * block
        return info

    # -- estimation -------------------------------------------------------------
    def start(self) -> np.ndarray:
        """Starting values: markers' covariances for loadings, half the variances for residuals, means for
        intercepts."""
        theta = np.zeros(self.table.n_params)
        counts = np.zeros(self.table.n_params)
        items = self.table.model.observed
        pos = {item: i for i, item in enumerate(items)}
        for k, e in enumerate(self.table.entries):
            mom = self.moments[e.group]
            S = mom.cov
            if e.matrix == "L" or (e.matrix == "P" and e.row == e.col):
                factor = self.table.model.factors[e.col if e.matrix == "L" else e.row]
                marker = pos[self.table.model.indicators[factor][0]]
                others = [pos[i] for i in self.table.model.indicators[factor][1:]]
                phi = max(np.mean([S[marker, j] for j in others]), 0.05 * S[marker, marker])
                value = S[e.row, marker] / phi if e.matrix == "L" else phi
            elif e.matrix == "T":
                value = 0.5 * S[e.row, e.row]
            elif e.matrix == "nu":
                value = mom.mean[e.row]
            else:
                value = 0.0
            theta[self.table.index[k]] += value
            counts[self.table.index[k]] += 1
        return theta / counts

    def fit(self, theta0: np.ndarray | None = None, max_iter: int = 500, tol: float = 1e-10) -> np.ndarray:
        """Fisher scoring with step halving; returns the ML estimates.

        Raises :class:`ConvergenceError` when it ends away from a stationary point, and as soon as the fit is
        seen running off to infinity: 20 iterations in a row whose step had to be halved 6 times or more (the
        quadratic model 64 times too long) with the expected information numerically singular (condition number
        above 1e12). Such fits (a latent variance going to 0 while its loadings grow) crept on through all
        ``max_iter`` iterations with up to 20 halvings each and ended in the same error; fits that converge
        through a singular stretch needed at most 4 halvings there (the controls replica's 509 fits, the tests'
        lavaan cases)."""
        theta = self.start() if theta0 is None else theta0.copy()
        value, grad = self.objective(theta)
        if not np.isfinite(value):
            raise ConvergenceError("the starting values give a non-positive-definite implied covariance matrix",
                                   where="model", fix="check the model and the data")
        history = []
        running_off = 0
        for iteration in range(max_iter):
            # stalled: no real progress in 50 iterations (e.g. a latent variance drifting to 0 in one group)
            history.append(value)
            if iteration >= 100 and history[-51] - value < 1e-6 * max(1.0, abs(value)):
                break
            hessian = 2.0 * self.information(theta) / self.n_total
            try:
                step = np.linalg.solve(hessian, grad)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(hessian, grad, rcond=None)[0]
            scale = 1.0
            while scale > 1e-8:
                candidate = theta - scale * step
                new_value, new_grad = self.objective(candidate)
                if np.isfinite(new_value) and new_value <= value + 1e-14:
                    break
                scale /= 2
            else:
                break
            running_off = running_off + 1 if scale <= 2.0 ** -6 and np.linalg.cond(hessian) > 1e12 else 0
            if running_off == 20:
                raise ConvergenceError(
                    f"maximum likelihood did not converge: the estimates run off to infinity (largest gradient "
                    f"{np.abs(new_grad).max():.2g}, information singular)", where="model",
                    fix="the model may not be identified for these data (e.g. a variance estimate going to 0)")
            converged = abs(value - new_value) < tol * max(1.0, abs(value)) and np.abs(new_grad).max() < 1e-6
            theta, value, grad = candidate, new_value, new_grad
            if converged:
                return theta
        if np.abs(grad).max() > 1e-5:
            raise ConvergenceError(f"maximum likelihood did not converge (largest gradient {np.abs(grad).max():.2g})",
                                   where="model", fix="the model may not be identified for these data")
        return theta

    # -- results ----------------------------------------------------------------
    def df(self) -> int:
        per_group = self.p * (self.p + 1) // 2 + (self.p if self.table.mean_structure else 0)
        return self.table.n_groups * per_group - self.table.n_params

    def loglik(self, theta: np.ndarray) -> float:
        """Log-likelihood of the data (lavaan's ``logl``)."""
        total = 0.0
        for g, mom in enumerate(self.moments):
            sigma, mu = self.implied(theta, g)
            W = np.linalg.inv(sigma)
            d = mom.mean - mu
            total += -0.5 * mom.n * (self.p * np.log(2 * np.pi) + np.linalg.slogdet(sigma)[1]
                                     + np.trace(mom.cov @ W) + d @ W @ d)
        return total

    def with_table(self, table: ParameterTable) -> MultiGroupModel:
        """The same model class on the same data with another parameter table."""
        return MultiGroupModel(table, self.moments)

    def score_test(self, theta: np.ndarray, label: str) -> tuple[float, int]:
        """Score (LM) statistic and df for releasing the equality constraint on ``label`` (the expected
        information at the model's moments)."""
        released = ParameterTable(self.table.model, self.table.n_groups, self.table.equal,
                                  self.table.released | {label}, self.table.mean_structure)
        position = {key: i for i, key in enumerate(self.table.keys)}
        theta_r = np.array([theta[position[key if key in position else (key[0],)]] for key in released.keys])
        model = self.with_table(released)
        _, grad = model.objective(theta_r)
        score = -0.5 * self.n_total * grad
        info = model.information(theta_r)
        statistic = float(score @ np.linalg.solve(info, score))
        return statistic, released.n_params - self.table.n_params
