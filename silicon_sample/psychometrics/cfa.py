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
from .missing_ml import FimlModel, check_missing, missing_groups, missing_label
from .missing_robust import baseline_scaling_fiml, fiml_robust_indices, robust_fiml
from .moments import group_moments
from .multigroup_ml import MultiGroupModel, ParameterTable
from .ordinal_statistics import ordinal_moments
from .robust_ml import SaturatedParts, baseline_scaling, observed_information, robust_ml

FIT_COLUMNS = INDEX_COLUMNS + ROBUST_COLUMNS + BASELINE_COLUMNS + ["n", "n_missing_answers", "n_left_out", "estimator",
                                                                   "missing"]


@dataclass
class CFAResult:
    """``fit``: one row of fit indices; ``loadings``: one row per factor–item pair."""

    fit: pd.DataFrame
    loadings: pd.DataFrame


def cfa(data: pd.DataFrame, model: str, estimator: str | None = None, ordered: list[str] | None = None,
        parameterization: str = "delta", n_options=None, missing: str = "listwise") -> CFAResult:
    """Fit a CFA model by ML, MLR or WLSMV and report lavaan's fit indices and standardized loadings.

    Parameters
    ----------
    data : DataFrame
        Numeric item columns; missing answers are NaN (see ``missing``).
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
    missing : {"listwise", "ml", "pairwise"}
        lavaan's ``missing=``: ``listwise`` leaves out every row with a missing item; ``ml`` (ML and MLR) is
        full-information ML over every row with at least one answer (:mod:`.missing_ml`, :mod:`.missing_robust`:
        χ² against the EM saturated model, observed information, a mean structure); ``pairwise`` (WLSMV)
        takes thresholds and polychorics from the answers each item or pair has.

    Returns
    -------
    CFAResult
        ``fit``: chisq, df, pvalue, cfi, tli, rmsea with its 90% CI, srmr, aic, bic, loglik (NaN for
        WLSMV), lavaan's robust measures (chisq_scaled, df_scaled, pvalue_scaled, scaling_factor,
        shift_parameter, cfi/tli/rmsea ``_scaled`` and ``_robust``; NaN for ML and where lavaan gives
        NA), n (respondents used), n_missing_answers (missing answers among them), n_left_out (rows not
        used), ``estimator`` (the estimator and its conventions) and ``missing`` (the method and its counts).
        ``loadings``: factor, item,
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
    missing = check_missing(missing, estimator)
    if estimator == "WLSMV":
        return _cfa_wlsmv(data, mm, parameterization, missing)
    if missing == "ml":
        return _cfa_fiml(data, mm, estimator)
    (moments,) = group_moments(data, items)
    table = ParameterTable(mm, 1, mean_structure=False)
    mg = MultiGroupModel(table, [moments])
    check_identified(mg.df(), table.n_params, moments.n)
    theta = mg.fit()
    chisq = mg.n_total * mg.objective(theta, gradient=False)
    sigma, _ = mg.implied(theta, 0)
    row = fit_table(chisq, mg.df(), table.n_params, mg.loglik(theta), [moments], [(sigma, moments.mean)],
                    mean_structure=False)
    row.update(_listwise_counts(data, items, moments.n))
    if estimator == "MLR":
        saturated = SaturatedParts([data[items].dropna().to_numpy(float)], mean_structure=False)
        robust = robust_ml(mg, theta, saturated)
        c_base, _ = baseline_scaling(saturated)
        row.update(mlr_indices(chisq, mg.df(), robust["scaling_factor"], row["baseline_chisq"], row["baseline_df"],
                               c_base, moments.n, 1))
        se = np.sqrt(np.diag(robust["vcov"]))
    else:
        se = np.sqrt(np.diag(np.linalg.inv(mg.information(theta))))
    return _result(row, estimator, "listwise", mg, theta, table, se)


def _listwise_counts(data: pd.DataFrame, items: list[str], n: int) -> dict:
    values = data[items]
    return {"n_missing_answers": 0, "n_left_out": int(len(values) - n),
            "missing": missing_label("listwise", n, 0, int(len(values) - n))}


def _cfa_fiml(data: pd.DataFrame, mm, estimator: str) -> CFAResult:
    """ML or MLR on every row with an answer (:mod:`.missing_ml`); standard errors from the observed
    information (ML) or its sandwich (MLR), as lavaan with missing = "ml"."""
    items = mm.observed
    groups = missing_groups(data, items)
    table = ParameterTable(mm, 1, mean_structure=True)
    mg = FimlModel(table, groups)
    check_identified(mg.df(), table.n_params, mg.n_total)
    theta = mg.fit()
    chisq = mg.n_total * mg.objective(theta, gradient=False)
    row = fit_table(chisq, mg.df(), table.n_params, mg.loglik(theta), mg.moments, [mg.implied(theta, 0)],
                    mean_structure=True, baseline=mg.baseline())
    group = groups[0]
    row.update(n_missing_answers=group.missing_answers, n_left_out=group.rows_left_out,
               missing=missing_label("ml", mg.n_total, group.missing_answers, group.rows_left_out))
    if estimator == "MLR":
        robust = robust_fiml(mg, theta)
        c_base, _ = baseline_scaling_fiml(groups, robust["traces_h1"])
        row.update(mlr_indices(chisq, mg.df(), robust["scaling_factor"], row["baseline_chisq"], row["baseline_df"],
                               c_base, mg.n_total, 1))
        row.update(fiml_robust_indices(mg, theta))
        vcov = robust["vcov"]
    else:
        vcov = np.linalg.inv(observed_information(mg, theta)) / mg.n_total
    return _result(row, estimator, "ml", mg, theta, table, np.sqrt(np.diag(vcov)))


def _result(row: dict, estimator: str, missing: str, mg, theta: np.ndarray, table, se: np.ndarray) -> CFAResult:
    """The fit row and the loadings (with their standard errors and standardized values) of an ML or MLR fit."""
    mm, items = table.model, table.model.observed
    fit = pd.DataFrame([row]).reindex(columns=FIT_COLUMNS)
    fit["estimator"] = estimator_label(estimator) + ("; full-information ML over missing answers"
                                                     if missing == "ml" else "")
    sigma, _ = mg.implied(theta, 0)
    L, P, T, _, _ = mg.matrices(theta, 0)
    position = {key: i for i, key in enumerate(table.keys)}
    rows = []
    for f, factor in enumerate(mm.factors):
        for item in mm.indicators[factor]:
            i = items.index(item)
            index = position.get((f"{factor}=~{item}", 0))
            rows.append({"factor": factor, "item": item, "estimate": L[i, f],
                         "se": se[index] if index is not None else 0.0,
                         "std_all": L[i, f] * np.sqrt(P[f, f]) / np.sqrt(sigma[i, i])})
    return CFAResult(fit=fit, loadings=pd.DataFrame(rows))


def _cfa_wlsmv(data: pd.DataFrame, mm, parameterization: str, missing: str = "listwise") -> CFAResult:
    items = mm.observed
    moments = ordinal_moments(data, items, missing=missing)
    table = CategoricalTable(mm, [len(t) for t in moments[0].thresholds], parameterization=parameterization)
    check_identified(moments[0].statistics.size - table.n_params, table.n_structural, moments[0].n)
    fit = dwls.fit_dwls(table, moments)
    row = dwls.fit_row(fit)
    if missing == "pairwise":
        values = data[items]
        kept = values.notna().any(axis=1)
        answers = int(values[kept].isna().sum().sum())
        row.update(n_missing_answers=answers, n_left_out=int((~kept).sum()),
                   missing=missing_label("pairwise", moments[0].n, answers, int((~kept).sum())))
    else:
        row.update(_listwise_counts(data, items, moments[0].n))
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

