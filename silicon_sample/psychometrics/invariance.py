"""Measurement invariance across groups: configural, metric, scalar, strict — and partial invariance.

Each level adds equality constraints across groups to the previous one
(lavaan's ``group.equal``): metric — loadings; scalar — loadings and
intercepts (latent means then free in all groups but the first); strict —
loadings, intercepts and residual variances. Models are fitted jointly over
all groups by :mod:`.multigroup_ml` (ML, Likert items treated as continuous).

Decision (Chen, 2007): a level *fails* against the previous accepted level when
ΔCFI ≤ −.010 and, in addition, ΔRMSEA ≥ .015 or ΔSRMR ≥ .030 (metric) / .010
(scalar, strict). Cut-offs are configurable.

Partial invariance: when a level fails, the equality constraint of that level
with the largest score test (modification index, df = G − 1) is released, the
model refitted, and so on until the level holds (or no constraint is left);
released parameters stay free at the following levels, as with lavaan's
``group.partial``.

References: Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack
of measurement invariance. Structural Equation Modeling, 14, 464–504.
Byrne, Shavelson & Muthén (1989) on partial invariance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, SpecError
from .fit_indices import fit_table
from .lavaan_syntax import parse
from .moments import group_moments
from .multigroup_ml import MultiGroupModel, ParameterTable

LEVELS = {
    "configural": frozenset(),
    "metric": frozenset({"loadings"}),
    "scalar": frozenset({"loadings", "intercepts"}),
    "strict": frozenset({"loadings", "intercepts", "residuals"}),
}
RELEASED_CLASS = {"metric": "loadings", "scalar": "intercepts", "strict": "residuals"}
CHEN_CUTOFFS = {"cfi": -0.010, "rmsea": 0.015, "srmr_metric": 0.030, "srmr": 0.010}
ESTIMATOR_NOTE = "ML, Likert items treated as continuous (normal likelihood, N not N-1)"
INDEX_COLUMNS = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr",
                 "aic", "bic", "loglik"]


def _fit(model, moments, equal, released, start=None):
    table = ParameterTable(model, len(moments), frozenset(equal), frozenset(released))
    mg = MultiGroupModel(table, moments)
    check_identified(mg.df(), table.n_params, mg.n_total)
    theta = mg.fit(start)
    chisq = mg.n_total * mg.objective(theta, gradient=False)
    row = fit_table(chisq, mg.df(), table.n_params, mg.loglik(theta), moments,
                    [mg.implied(theta, g) for g in range(len(moments))], mean_structure=True)
    return mg, theta, row


def check_identified(df: int, n_params: int, n_cases: int) -> None:
    """Refuse models with more parameters than moments or than cases."""
    if df < 0:
        raise DataError(f"the model has {n_params} free parameters, more than the data's moments allow "
                        f"(df = {df})", where="model", fix="use more items per factor or fewer factors")
    if n_cases < n_params:
        raise DataError(f"{n_cases} complete cases, fewer than the model's {n_params} free parameters",
                        where="data", fix="collect more responses or fit a smaller model")


def _compare(row: dict, previous: dict, level: str, cutoffs: dict) -> dict:
    d_chisq = row["chisq"] - previous["chisq"]
    d_df = row["df"] - previous["df"]
    out = {"delta_chisq": d_chisq, "delta_df": d_df,
           "p_delta_chisq": float(stats.chi2.sf(d_chisq, d_df)) if d_df > 0 else np.nan,
           "delta_cfi": row["cfi"] - previous["cfi"], "delta_rmsea": row["rmsea"] - previous["rmsea"],
           "delta_srmr": row["srmr"] - previous["srmr"]}
    srmr_cut = cutoffs["srmr_metric"] if level == "metric" else cutoffs["srmr"]
    fails = out["delta_cfi"] <= cutoffs["cfi"] and (out["delta_rmsea"] >= cutoffs["rmsea"]
                                                   or out["delta_srmr"] >= srmr_cut)
    out["decision"] = "fails" if fails else "holds"
    return out


def measurement_invariance(data: pd.DataFrame, model: str, group: str,
                           levels=("configural", "metric", "scalar", "strict"), cutoffs: dict | None = None,
                           partial: bool = True) -> pd.DataFrame:
    """Test measurement invariance of a CFA model across the groups of ``group``.

    Parameters
    ----------
    data : DataFrame
        Item answers (numeric) and the grouping column; rows with a missing
        item are left out (listwise).
    model : str
        lavaan measurement syntax, e.g. ``"visual =~ x1 + x2 + x3; ..."``.
    group : str
        Column naming the group of each row. Groups are taken in order of first
        appearance (as lavaan does); the first is the reference for latent means.
    levels : sequence of str
        Any prefix-ordered subset of configural, metric, scalar, strict.
    cutoffs : dict, optional
        Chen's cut-offs: ``cfi`` (−.010), ``rmsea`` (.015), ``srmr_metric`` (.030), ``srmr`` (.010).
    partial : bool
        Release constraints one at a time (largest score test first) when a level fails.

    Returns
    -------
    DataFrame indexed by level (``scalar_partial`` etc. for partial models) with
    chisq, df, pvalue, cfi, tli, rmsea (+ 90% CI), srmr, aic, bic, loglik; against
    the previous accepted level delta_chisq, delta_df, p_delta_chisq, delta_cfi,
    delta_rmsea, delta_srmr and decision; ``freed`` lists released constraints
    with their score statistics; ``estimator`` states the convention.

    Examples
    --------
    >>> import semopy
    >>> from silicon_sample.psychometrics import measurement_invariance
    >>> hs = semopy.examples.holzinger39.get_data()
    >>> mi = measurement_invariance(hs, "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; "
    ...                                 "speed =~ x7 + x8 + x9", group="school")
    >>> mi.loc["scalar", ["chisq", "df"]].tolist()   # lavaan: 164.103 on 60 df
    [164.10283092..., 60]
    """
    unknown = [lev for lev in levels if lev not in LEVELS]
    if unknown or list(levels) != sorted(levels, key=list(LEVELS).index):
        raise SpecError(f"levels must be an ordered subset of {list(LEVELS)}, got {list(levels)}", where="levels")
    cutoffs = {**CHEN_CUTOFFS, **(cutoffs or {})}
    mm = parse(model)
    moments = group_moments(data, mm.observed, group)
    if len(moments) < 2:
        raise SpecError(f"column {group!r} has only one group ({moments[0].name})", where="group",
                        fix="measurement invariance needs at least two groups")
    rows: dict[str, dict] = {}
    previous: dict | None = None
    released: list[str] = []
    for level in levels:
        mg, theta, row = _fit(mm, moments, LEVELS[level], released)
        row.update(freed="", decision="reference")
        if previous is not None:
            row.update(_compare(row, previous, level, cutoffs))
        rows[level] = row
        if previous is not None and row["decision"] == "fails" and partial and level in RELEASED_CLASS:
            freed_here: list[str] = []
            while row["decision"] == "fails":
                kind = RELEASED_CLASS[level]
                candidates = [e.label for e in mg.table.entries if e.kind == kind]
                candidates = [lab for lab in dict.fromkeys(candidates) if lab in mg.table.constrained_labels()]
                if not candidates:
                    break
                scores = {lab: mg.score_test(theta, lab)[0] for lab in candidates}
                best = max(scores, key=scores.get)
                released.append(best)
                freed_here.append(f"{best} ({scores[best]:.2f})")
                mg, theta, row = _fit(mm, moments, LEVELS[level], released)
                row.update(_compare(row, previous, level, cutoffs))
                row["freed"] = ", ".join(freed_here)
            row["decision"] = "partial" if row["decision"] == "holds" else "fails"
            rows[f"{level}_partial"] = row
        previous = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "level"
    table["estimator"] = ESTIMATOR_NOTE
    columns = INDEX_COLUMNS + ["delta_chisq", "delta_df", "p_delta_chisq", "delta_cfi", "delta_rmsea",
                               "delta_srmr", "decision", "freed", "n", "estimator"]
    return table.reindex(columns=columns)
