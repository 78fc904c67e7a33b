"""Single-group confirmatory factor analysis on semopy, reported on lavaan's conventions."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ConvergenceError
from .fit_indices import fit_table
from .invariance import ESTIMATOR_NOTE, INDEX_COLUMNS, check_identified
from .lavaan_syntax import parse
from .moments import group_moments


@dataclass
class CFAResult:
    """``fit``: one row of fit indices; ``loadings``: one row per factor–item pair."""

    fit: pd.DataFrame
    loadings: pd.DataFrame


def cfa(data: pd.DataFrame, model: str) -> CFAResult:
    """Fit a CFA model with semopy and report lavaan's fit indices and standardized loadings.

    Parameters
    ----------
    data : DataFrame
        Numeric item columns; rows with a missing item are left out (listwise).
    model : str
        lavaan measurement syntax (``f =~ a + b + c``); the first item of each
        factor is its marker.

    Returns
    -------
    CFAResult
        ``fit``: chisq, df, pvalue, cfi, tli, rmsea with its 90% CI, srmr, aic,
        bic, loglik, n, estimator. ``loadings``: factor, item, estimate
        (unstandardized), std_all (standardized on factor and item variances).

    Notes
    -----
    Estimation: semopy's ``MLW`` objective, solved with L-BFGS-B, which reaches
    lavaan's ML solution. Conventions follow lavaan rather than semopy:
    χ² = N·F_ML (S divided by N); RMSEA with N (not N − 1); SRMR (semopy has
    none) as lavaan's Bentler SRMR; AIC, BIC and log-likelihood on lavaan's
    scale (semopy ≤ 2.3.11 reports them on another scale). No mean structure
    (means saturated). Likert items are treated as continuous. See
    :mod:`.fit_indices` for the formulas.

    Examples
    --------
    >>> import semopy
    >>> hs = semopy.examples.holzinger39.get_data()
    >>> res = cfa(hs, "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9")
    >>> round(res.fit.loc[0, "chisq"], 3), int(res.fit.loc[0, "df"])   # lavaan: 85.306 on 24 df
    (85.306, 24)
    """
    import semopy

    mm = parse(model)
    items = mm.observed
    (moments,) = group_moments(data, items)
    frame = data[items].dropna().astype(float)
    p = len(items)
    n_free = sum(len(v) - 1 for v in mm.indicators.values()) + len(mm.factors) * (len(mm.factors) + 1) // 2 + p
    check_identified(p * (p + 1) // 2 - n_free, n_free, moments.n)
    sem = semopy.Model(mm.syntax())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sem.fit(frame, obj="MLW", solver="L-BFGS-B")
    if not result.success:
        raise ConvergenceError(f"semopy did not converge ({result.message})", where="cfa",
                               fix="check the model and the data")
    order = [sem.vars["observed"].index(i) for i in items]
    sigma = sem.calc_sigma()[0][np.ix_(order, order)]
    W = np.linalg.inv(sigma)
    sign, logdet = np.linalg.slogdet(sigma)
    f_ml = logdet + np.trace(moments.cov @ W) - np.linalg.slogdet(moments.cov)[1] - p
    chisq = moments.n * f_ml
    n_params = len(sem.param_vals)
    df = p * (p + 1) // 2 - n_params
    loglik = -0.5 * moments.n * (p * np.log(2 * np.pi) + logdet + np.trace(moments.cov @ W))
    row = fit_table(chisq, df, n_params, loglik, [moments], [(sigma, moments.mean)], mean_structure=False)
    fit = pd.DataFrame([row]).reindex(columns=INDEX_COLUMNS + ["n"])
    fit["estimator"] = ESTIMATOR_NOTE

    estimates = sem.inspect()
    variances = {r.lval: r.Estimate for r in estimates.itertuples() if r.op == "~~" and r.lval == r.rval}
    rows = []
    for factor in mm.factors:
        for item in mm.indicators[factor]:
            match = estimates[(estimates.op == "~") & (estimates.lval == item) & (estimates.rval == factor)]
            estimate = float(match.Estimate.iloc[0])
            std = estimate * np.sqrt(variances[factor]) / np.sqrt(sigma[items.index(item), items.index(item)])
            rows.append({"factor": factor, "item": item, "estimate": estimate, "std_all": std})
    return CFAResult(fit=fit, loadings=pd.DataFrame(rows))
