"""Single-group confirmatory factor analysis by ML, MLR or WLSMV, reported on lavaan's conventions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import dwls
from .categorical_model import CategoricalTable
from .estimator_choice import resolve_estimator
from .fit_indices import BASELINE_COLUMNS, ROBUST_COLUMNS, fit_table, mlr_indices
from .invariance import INDEX_COLUMNS, check_identified, estimator_label
from .lavaan_syntax import parse
from .moments import group_moments
from .multigroup_ml import MultiGroupModel, ParameterTable
from .ordinal_statistics import ordinal_moments
from .robust_ml import SaturatedParts, baseline_scaling, robust_ml

FIT_COLUMNS = INDEX_COLUMNS + ROBUST_COLUMNS + BASELINE_COLUMNS + ["n", "estimator"]


@dataclass
class CFAResult:
    """``fit``: one row of fit indices; ``loadings``: one row per factor–item pair."""

    fit: pd.DataFrame
    loadings: pd.DataFrame


def cfa(data: pd.DataFrame, model: str, estimator: str | None = None, ordered: list[str] | None = None,
        parameterization: str = "delta", n_options=None) -> CFAResult:
    """Fit a CFA model by ML, MLR or WLSMV and report lavaan's fit indices and standardized loadings.

    Parameters
    ----------
    data : DataFrame
        Numeric item columns; rows with a missing item are left out (listwise).
    model : str
        lavaan measurement syntax (``f =~ a + b + c``); the first item of each factor is its marker.
    estimator : {"ML", "MLR", "WLSMV"}, optional
        Default: chosen from the data by :func:`~.estimator_choice.choose_estimator` (WLSMV when an item
        has at most 4 options or distinct answers, MLR otherwise).
    ordered : list of str, optional
        The ordinal items (WLSMV; all the model's items when omitted).
    parameterization : {"delta", "theta"}
        WLSMV only: scale of the latent responses (lavaan's ``parameterization``).
    n_options : int or dict, optional
        Response options per item, used by the default choice of estimator.

    Returns
    -------
    CFAResult
        ``fit``: chisq, df, pvalue, cfi, tli, rmsea with its 90% CI, srmr, aic, bic, loglik (NaN for
        WLSMV), lavaan's robust measures (chisq_scaled, df_scaled, pvalue_scaled, scaling_factor,
        shift_parameter, cfi/tli/rmsea ``_scaled`` and ``_robust``; NaN for ML and where lavaan gives
        NA), n and ``estimator`` (the estimator and its conventions). ``loadings``: factor, item,
        estimate, se (standard for ML, Huber–White for MLR, robust for WLSMV), std_all.

    Notes
    -----
    ML and MLR: the package's lavaan-checked ML engine (:mod:`.multigroup_ml`, one group, no mean
    structure; χ² = N·F_ML, S divided by N); MLR adds :mod:`.robust_ml`. WLSMV: :mod:`.ordinal_statistics`
    and :mod:`.dwls`; χ² = (N − 1)·F_DWLS as lavaan. Formulas of the indices: :mod:`.fit_indices`.
    WLSMV's robust CFI/TLI/RMSEA (Savalei 2021, lavaan's catML correction) are not computed yet and are NaN.

    Examples
    --------
    >>> import semopy
    >>> hs = semopy.examples.holzinger39.get_data()
    >>> res = cfa(hs, "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9", estimator="MLR")
    >>> round(res.fit.loc[0, "chisq_scaled"], 2), int(res.fit.loc[0, "df"])   # lavaan: 87.132 on 24 df
    (87.13, 24)
    """
    mm = parse(model)
    items = mm.observed
    estimator, ordered, _ = resolve_estimator(estimator, data, items, None, ordered, n_options)
    if estimator == "WLSMV":
        return _cfa_wlsmv(data, mm, parameterization)
    (moments,) = group_moments(data, items)
    table = ParameterTable(mm, 1, mean_structure=False)
    mg = MultiGroupModel(table, [moments])
    check_identified(mg.df(), table.n_params, moments.n)
    theta = mg.fit()
    chisq = mg.n_total * mg.objective(theta, gradient=False)
    sigma, _ = mg.implied(theta, 0)
    row = fit_table(chisq, mg.df(), table.n_params, mg.loglik(theta), [moments], [(sigma, moments.mean)],
                    mean_structure=False)
    if estimator == "MLR":
        saturated = SaturatedParts([data[items].dropna().to_numpy(float)], mean_structure=False)
        robust = robust_ml(mg, theta, saturated)
        c_base, _ = baseline_scaling(saturated)
        row.update(mlr_indices(chisq, mg.df(), robust["scaling_factor"], row["baseline_chisq"], row["baseline_df"],
                               c_base, moments.n, 1))
        se = np.sqrt(np.diag(robust["vcov"]))
    else:
        se = np.sqrt(np.diag(np.linalg.inv(mg.information(theta))))
    fit = pd.DataFrame([row]).reindex(columns=FIT_COLUMNS)
    fit["estimator"] = estimator_label(estimator)
    L, P, T, _, _ = mg.matrices(theta, 0)
    position = {key: i for i, key in enumerate(table.keys)}
    rows = []
    for f, factor in enumerate(mm.factors):
        for _k, item in enumerate(mm.indicators[factor]):
            i = items.index(item)
            index = position.get((f"{factor}=~{item}", 0))
            rows.append({"factor": factor, "item": item, "estimate": L[i, f],
                         "se": se[index] if index is not None else 0.0,
                         "std_all": L[i, f] * np.sqrt(P[f, f]) / np.sqrt(sigma[i, i])})
    return CFAResult(fit=fit, loadings=pd.DataFrame(rows))


def _cfa_wlsmv(data: pd.DataFrame, mm, parameterization: str) -> CFAResult:
    items = mm.observed
    moments = ordinal_moments(data, items)
    table = CategoricalTable(mm, [len(t) for t in moments[0].thresholds], parameterization=parameterization)
    check_identified(moments[0].statistics.size - table.n_params, table.n_structural, moments[0].n)
    fit = dwls.fit_dwls(table, moments)
    row = dwls.fit_row(fit)
    frame = pd.DataFrame([row]).reindex(columns=FIT_COLUMNS)
    frame["estimator"] = estimator_label("WLSMV", parameterization)
    mats = fit.model.matrices(fit.theta, 0)
    L, P = mats["L"], mats["P"]
    latent_var = np.diag(L @ P @ L.T) + fit.model.residual_variances(fit.theta, 0)
    se = np.sqrt(np.diag(fit.vcov()))
    position = {key: i for i, key in enumerate(table.keys)}
    rows = []
    for f, factor in enumerate(mm.factors):
        for item in mm.indicators[factor]:
            i = items.index(item)
            index = position.get((f"{factor}=~{item}", 0))
            rows.append({"factor": factor, "item": item, "estimate": L[i, f],
                         "se": se[index] if index is not None else 0.0,
                         "std_all": L[i, f] * np.sqrt(P[f, f]) / np.sqrt(latent_var[i])})
    return CFAResult(fit=frame, loadings=pd.DataFrame(rows))

