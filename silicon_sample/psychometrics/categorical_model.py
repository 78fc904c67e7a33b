"""The measurement model for ordinal items: parameter table and implied thresholds and correlations.

Why not a library: see :mod:`.ordinal_statistics`; no Python package fits threshold models by DWLS.

Each item is a coarsened latent response y*ᵢ = νᵢ + λᵢ'η + εᵢ, with y = k when τᵢ,ₖ₋₁ < y* ≤ τᵢ,ₖ
(Muthén 1984). In group g, with Σ* = ΛΨΛ' + Θ and μ* = ν + Λκ, the model implies for the sample
statistics of :mod:`.ordinal_statistics` (computed as if y* were standard normal):

- standardized thresholds  τ̃ᵢ,ₖ = (τᵢ,ₖ − μ*ᵢ) · Δᵢ
- polychoric correlations  ρ̃ᵢⱼ = Δᵢ Δⱼ (ΛΨΛ')ᵢⱼ,  i ≠ j (Θ is diagonal)

with the scaling factors Δᵢ = 1/√Σ*ᵢᵢ in lavaan's ``parameterization = "theta"`` (residual variances
Θ are parameters) and Δᵢ a parameter (1 in a single group) in ``"delta"`` (then Θᵢᵢ = 1/Δᵢ² − (ΛΨΛ')ᵢᵢ
is implied). Both give the same fit in one group (Muthén & Asparouhov 2002).

Identification:

- ``marker`` (lavaan's ``cfa()`` default, one group): first loading of each factor fixed at 1, Ψ free,
  ν = 0, κ = 0, Θ = 1 (theta) or Δ = 1 (delta).
- ``wu_estabrook`` (several groups; ``measEq.syntax(parameterization = "theta", ID.fac = "std.lv",
  ID.cat = "Wu.Estabrook.2016")``): loadings free, factor variances 1 and means 0 in every group;
  ν = 0 and Θ = 1 in the first group. Equal thresholds free ν and Θ in the other groups (for a binary
  item only ν: its Θ is not identified beside ν); equal loadings free the factor variances; equal
  intercepts fix ν = 0 everywhere, free the factor means, and free a binary item's Θ; equal residual
  variances fix Θ = 1 everywhere (Wu & Estabrook 2016, Prop. 4–7; as ``measEq.syntax`` does).

Reference: Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models of
different levels of invariance for ordered categorical outcomes. Psychometrika, 81, 1014–1045.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import SpecError
from .lavaan_syntax import MeasurementModel
from .ordinal_statistics import lower_pairs

CATEGORICAL_EQUALITY = ("thresholds", "loadings", "intercepts", "residuals")


@dataclass
class CategoricalTable:
    """Which matrix elements are free and which parameters they share across groups.

    ``entries``: (group, matrix, row, col, parameter index or −1, fixed value, label, kind) with matrix
    one of L, P, T (residual variances), nu, kappa, tau (flat threshold index), delta.
    """

    model: MeasurementModel
    n_thresholds: list[int]
    n_groups: int = 1
    parameterization: str = "delta"
    identification: str = "marker"
    equal: frozenset[str] = frozenset()
    released: frozenset[str] = frozenset()
    entries: list[tuple] = field(default_factory=list)
    keys: list[tuple] = field(default_factory=list)

    def __post_init__(self):
        if self.parameterization not in ("delta", "theta"):
            raise SpecError(f"parameterization must be delta or theta, got {self.parameterization!r}",
                            where="parameterization", fix="use parameterization='delta' (lavaan's default)")
        index_of: dict[tuple, int] = {}
        items = self.model.observed
        factors = list(self.model.factors)
        pos = {item: i for i, item in enumerate(items)}
        th_start = np.concatenate([[0], np.cumsum(self.n_thresholds)]).astype(int)

        def add(g, matrix, row, col, label, kind, free, shared, value=0.0):
            if not free:
                self.entries.append((g, matrix, row, col, -1, value, label, kind))
                return
            key = (label,) if shared else (label, g)
            if key not in index_of:
                index_of[key] = len(index_of)
                self.keys.append(key)
            self.entries.append((g, matrix, row, col, index_of[key], value, label, kind))

        def equal(kind, label):
            return kind in self.equal and label not in self.released

        for g in range(self.n_groups):
            first = g == 0
            for f, factor in enumerate(factors):
                for k, item in enumerate(self.model.indicators[factor]):
                    label = f"{factor}=~{item}"
                    if self.identification == "marker" and k == 0:
                        add(g, "L", pos[item], f, label, "loadings", False, False, 1.0)
                    else:
                        add(g, "L", pos[item], f, label, "loadings", True, equal("loadings", label))
            for f in range(len(factors)):
                for h in range(f, len(factors)):
                    label = f"{factors[f]}~~{factors[h]}"
                    if self.identification == "marker" or f != h:
                        add(g, "P", f, h, label, "lv.covariances", True, False)
                    else:
                        free = not first and "loadings" in self.equal
                        add(g, "P", f, h, label, "lv.variances", free, False, 1.0)
            for i, item in enumerate(items):
                thresholds_equal = all(equal("thresholds", f"{item}|t{k + 1}") for k in range(self.n_thresholds[i]))
                for k in range(self.n_thresholds[i]):
                    label = f"{item}|t{k + 1}"
                    add(g, "tau", th_start[i] + k, 0, label, "thresholds", True, equal("thresholds", label))
                label = f"{item}~1"
                if self.identification == "marker" or first or equal("intercepts", label):
                    add(g, "nu", i, 0, label, "intercepts", False, False, 0.0)
                else:
                    add(g, "nu", i, 0, label, "intercepts", thresholds_equal, False, 0.0)
                label = f"{item}~~{item}"
                if self.parameterization == "theta":
                    if self.identification == "marker" or first or equal("residuals", label):
                        add(g, "T", i, i, label, "residuals", False, False, 1.0)
                    else:  # a binary item's Θ is identified only once its intercept is fixed too
                        intercept_fixed = equal("intercepts", f"{item}~1")
                        free = thresholds_equal and (self.n_thresholds[i] >= 2 or intercept_fixed)
                        add(g, "T", i, i, label, "residuals", free, False, 1.0)
                else:
                    add(g, "delta", i, 0, f"{item}~*~{item}", "scales", not first, False, 1.0)
            for f, factor in enumerate(factors):
                free = not first and "intercepts" in self.equal and self.identification != "marker"
                add(g, "kappa", f, 0, f"{factor}~1", "means", free, False, 0.0)

    @property
    def n_params(self) -> int:
        return len(self.keys)

    @property
    def n_structural(self) -> int:
        """Free parameters other than thresholds: those the cases, not the marginal counts, must carry."""
        kinds = {e[4]: e[7] for e in self.entries if e[4] >= 0}
        return sum(1 for kind in kinds.values() if kind != "thresholds")

    def constrained_labels(self) -> list[str]:
        return [key[0] for key in self.keys if len(key) == 1] if self.n_groups > 1 else []


class CategoricalModel:
    """Implied statistics of a :class:`CategoricalTable`, evaluated fast for many parameter vectors."""

    def __init__(self, table: CategoricalTable):
        self.table = table
        self.p = len(table.model.observed)
        self.m = len(table.model.factors)
        self.total_th = int(sum(table.n_thresholds))
        self.item_of_threshold = np.repeat(np.arange(self.p), table.n_thresholds)
        self.rows, self.cols = lower_pairs(self.p)
        self._groups = []
        for g in range(table.n_groups):
            entries = [e for e in table.entries if e[0] == g]
            by_matrix = {}
            for matrix in ("L", "P", "T", "nu", "kappa", "tau", "delta"):
                chosen = [e for e in entries if e[1] == matrix]
                by_matrix[matrix] = (np.array([e[2] for e in chosen], dtype=int),
                                     np.array([e[3] for e in chosen], dtype=int),
                                     np.array([e[4] for e in chosen], dtype=int),
                                     np.array([e[5] for e in chosen], dtype=float))
            self._groups.append(by_matrix)
        self.n_stats = self.total_th + len(self.rows)

    def _values(self, theta, spec):
        rows, cols, index, fixed = spec
        return rows, cols, np.where(index >= 0, theta[np.maximum(index, 0)], fixed)

    def matrices(self, theta: np.ndarray, g: int) -> dict[str, np.ndarray]:
        spec = self._groups[g]
        L = np.zeros((self.p, self.m))
        r, c, v = self._values(theta, spec["L"])
        L[r, c] = v
        P = np.zeros((self.m, self.m))
        r, c, v = self._values(theta, spec["P"])
        P[r, c] = v
        P[c, r] = v
        out = {"L": L, "P": P}
        sizes = {"T": self.p, "nu": self.p, "kappa": self.m, "tau": self.total_th, "delta": self.p}
        for name, size in sizes.items():  # vectors; Δ defaults to 1, the others to 0
            vector = np.ones(size) if name == "delta" else np.zeros(size)
            r, _, v = self._values(theta, spec[name])
            vector[r] = v
            out[name] = vector
        return out

    def implied(self, theta: np.ndarray, g: int) -> np.ndarray:
        """Standardized thresholds then correlations (the order of :class:`OrdinalMoments`.statistics)."""
        mats = self.matrices(theta, g)
        L = mats["L"]
        common = L @ mats["P"] @ L.T
        if self.table.parameterization == "theta":
            variance = np.diag(common) + mats["T"]
            scale = 1.0 / np.sqrt(np.maximum(variance, 1e-12))
        else:
            scale = mats["delta"]
        mu = mats["nu"] + L @ mats["kappa"]
        th = (mats["tau"] - mu[self.item_of_threshold]) * scale[self.item_of_threshold]
        corr = scale[self.rows] * scale[self.cols] * common[self.rows, self.cols]
        return np.concatenate([th, corr])

    def jacobian(self, theta: np.ndarray, g: int, step: float = 1e-6) -> np.ndarray:
        """∂σ_g/∂θ by central differences (σ is smooth in θ; the error is O(step²))."""
        out = np.zeros((self.n_stats, len(theta)))
        used = np.unique(np.concatenate([spec[2][spec[2] >= 0] for spec in self._groups[g].values()]))
        for a in used:
            h = step * max(1.0, abs(theta[a]))
            up, down = theta.copy(), theta.copy()
            up[a] += h
            down[a] -= h
            out[:, a] = (self.implied(up, g) - self.implied(down, g)) / (2 * h)
        return out

    def residual_variances(self, theta: np.ndarray, g: int) -> np.ndarray:
        mats = self.matrices(theta, g)
        common = mats["L"] @ mats["P"] @ mats["L"].T
        if self.table.parameterization == "theta":
            return mats["T"]
        return 1.0 / mats["delta"] ** 2 - np.diag(common)
