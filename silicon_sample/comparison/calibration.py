r"""Calibrating silicon answers with a small human sample: prediction-powered inference (PPI++).

The twin design. ``n`` humans answered the questionnaire (the *labelled* sample, answers :math:`Y_i`); their
silicon twins — personas built from the same respondents' attributes — answered it too (the *predictions*
:math:`\hat Y_i`); ``N`` further silicon personas answered without a human beside them (:math:`\hat Y_j`, the
*unlabelled* sample). Prediction-powered inference uses the silicon answers and corrects them with the humans:

.. math::

    \hat\theta_\lambda = \frac1N\sum_j \lambda \hat Y_j + \frac1n\sum_i (Y_i - \lambda \hat Y_i), \qquad
    \widehat{\mathrm{Var}} = \frac{\lambda^2 \hat\sigma^2_{\hat Y}}{N}
    + \frac{\hat\sigma^2_{Y-\lambda\hat Y}}{n}

and the interval :math:`\hat\theta_\lambda \pm z_{1-\alpha/2}\sqrt{\widehat{\mathrm{Var}}}` is valid however bad
the predictions are: a useless model only widens it back to the humans' own (Angelopoulos, Bates, Fannjiang,
Jordan & Zrnic 2023). PPI++ tunes :math:`\lambda` to minimise the variance,
:math:`\lambda = \mathrm{Cov}(Y, \hat Y) / ((1 + n/N)\,\mathrm{Var}(\hat Y))`, clipped to [0, 1]
(Angelopoulos, Duchi & Zrnic 2023). With the tuned :math:`\lambda` the interval is as narrow as the humans' own
interval from

.. math::

    n_{\mathrm{eff}} = \frac{n (n + N)}{n + (1 - \rho^2) N}

humans, :math:`\rho` the correlation between a human's answer and the twin's prediction (for a median or a
regression coefficient: between their influence functions) — the *effective sample size* of the mixed subjects
design (Broska, Howes & van Loon 2025), reported as ``effective_n_optimal``. ppi_py clips :math:`\lambda` to
[0, 1], and silicon answers that vary less than the humans' ask for :math:`\lambda > 1`; the interval then
reaches less than the formula says. So ``effective_n`` is what the interval reached,
:math:`n\,(w_{\mathrm{classical}}/w_{\mathrm{PPI}})^2` — how many humans alone give an interval as narrow — and
``gain`` = ``effective_n`` − n is how many humans the silicon answers are worth. A model unrelated to the
humans has :math:`\rho \approx 0` and is worth about none.

The estimators are ppi_py's (the PyPI package ``ppi-python``, by the authors of PPI):

- means of items and scale scores, and option proportions (the mean of a 0/1 indicator):
  ``ppi_mean_ci`` with the power-tuned :math:`\lambda`; classical: ``classical_mean_ci``;
- medians of numeric items: ``ppi_quantile_ci`` (PPI of the rectified CDF; ppi_py tunes no :math:`\lambda`
  for quantiles, so :math:`\lambda = 1`), on ppi_py's grid of 5,000 points; classical:
  ``classical_quantile_ci`` (unweighted: ppi_py's classical quantile takes no weights);
- subgroup differences: the coefficient of a category's indicator in the OLS of the answer on an intercept and
  the attribute's indicators (the difference of that category's mean from the reference category's), with
  ``ppi_ols_ci`` (power-tuned for that coefficient); classical: ``ppi_ols_ci`` with :math:`\lambda = 0` (the
  humans alone, with the same sandwich estimator, divisor n − 1).

Conventions. Intervals are two-sided 95 % (``alpha`` = 0.05; ppi_py's own default is 0.1) normal intervals;
standard deviations are ppi_py's, with divisor n (numpy's default). Weights (``w``, ``w_unlabeled``) are
rescaled by ppi_py to sum to each sample's size and enter every mean and gradient; they give a weighted
(Hájek-type) estimate under independent sampling only: no strata, clusters or finite-population correction.
A respondent or persona without an answer to an item (missing, refused, invalid) is left out of that item's
figures and counted in ``n_missing`` and ``N_missing``.

References
----------
Angelopoulos, A. N., Bates, S., Fannjiang, C., Jordan, M. I., & Zrnic, T. (2023). Prediction-powered
inference. *Science*, 382(6671), 669–674.

Angelopoulos, A. N., Duchi, J. C., & Zrnic, T. (2023). PPI++: Efficient prediction-powered inference.
arXiv:2311.01453.

Broska, D., Howes, M., & van Loon, A. (2025). The mixed subjects design: Treating large language models as
(potentially) informative observations. *Sociological Methods & Research*.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = rng.normal(size=200); yhat = y + rng.normal(size=200)          # a model with rho = 0.71
>>> row = mean_estimate(y[:50], yhat[:50], yhat[50:])
>>> round(row["rho"], 2), row["effective_n"] > 50
(0.58, True)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

with warnings.catch_warnings():     # ppi_py sets warnings.simplefilter("ignore") on import: keep it to itself
    import ppi_py

from ..errors import SpecError

ALPHA = 0.05
"""Error level of every interval: two-sided 95 % (ppi_py's own default is 0.1)."""

MIN_HUMANS = 10
"""Fewest humans with an answer for an estimate (and per category for a subgroup difference: :data:`MIN_GROUP`)."""

MIN_GROUP = 5
"""Fewest labelled humans in a category (and in the reference category) for its difference to be estimated."""

ESTIMATORS = {
    "mean": "PPI++ mean, power-tuned λ (Angelopoulos, Duchi & Zrnic 2023); classical: CLT interval of the humans",
    "proportion": "PPI++ mean of the option's 0/1 indicator, power-tuned λ; classical: CLT interval of the humans",
    "median": "PPI median, rectified CDF, λ = 1 (Angelopoulos et al. 2023); classical: order-statistic interval",
    "difference": "PPI++ OLS coefficient of the category against the reference, power-tuned λ for it; classical: "
                  "the same sandwich with λ = 0 (the humans alone)",
}
"""The estimator of each kind of estimate, named in every table."""


@dataclass(frozen=True)
class Target:
    """One figure to estimate: the ``estimand`` (mean, proportion, median or difference) of ``variable``
    (an item or scale column; for a proportion ``item=code``), and for a difference the ``attribute``,
    its ``category`` and the ``reference`` category."""

    estimand: str
    outcome: str
    variable: str
    option: object = None
    attribute: str | None = None
    category: object = None
    reference: object = None
    kind: str = "item"          # of the outcome: item, numeric or scale


def effective_n(n: float, big_n: float, rho: float) -> float:
    """The effective sample size n(n + N)/(n + (1 − ρ₊²)N) of PPI++ with ``n`` labelled and ``N`` unlabelled
    (Broska, Howes & van Loon 2025; ppi_py's power analysis): how many humans alone give as narrow an interval.
    ρ₊ = max(ρ, 0): PPI++ clips λ to [0, 1], so predictions that run against the answers earn nothing."""
    if not n:
        return float("nan")
    rho = max(float(rho), 0.0)
    return float(n * (n + big_n) / (n + (1.0 - rho ** 2) * big_n))


def influence_correlation(grads: np.ndarray, grads_hat: np.ndarray, n: int) -> float:
    """ρ: the correlation of an estimand's influence functions evaluated on the humans' answers and on their
    twins' predictions, capped at 1 − 1/n as ppi_py's power analysis caps it (``_get_ppi_corr``)."""
    a, b = grads - grads.mean(), grads_hat - grads_hat.mean()
    denominator = np.sqrt((a @ a) * (b @ b))
    if not denominator > 0:
        return 0.0
    return float(min((a @ b) / denominator, 1.0 - 1.0 / n))


def _weights(w, size: int) -> np.ndarray:
    """Weights as ppi_py uses them: rescaled to sum to the sample size (all ones without weights)."""
    if w is None:
        return np.ones(size)
    w = np.asarray(w, dtype=float)
    return w / w.sum() * size


def _row(estimate, low, high, classical, n, big_n, rho, lam) -> dict:
    width, classical_width = high - low, classical[2] - classical[1]
    ratio = float(classical_width / width) if width > 0 else float("nan")
    realized = n * ratio ** 2
    return {"n_humans": n, "n_silicon": big_n, "estimate": float(estimate), "low": float(low), "high": float(high),
            "lambda": lam, "classical_estimate": float(classical[0]), "classical_low": float(classical[1]),
            "classical_high": float(classical[2]), "rho": rho, "effective_n": realized, "gain": realized - n,
            "effective_n_optimal": effective_n(n, big_n, rho), "width_ratio": ratio}


def mean_estimate(y, yhat, yhat_unlabelled, w=None, w_unlabelled=None, alpha: float = ALPHA) -> dict:
    """The PPI++ estimate and interval of a mean (``ppi_py.ppi_mean_ci`` with the power-tuned λ), the humans'
    classical interval (``ppi_py.classical_mean_ci``), ρ = corr(Y, Ŷ) (weighted as ppi_py weights the
    gradients), the effective sample size and the gain.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.arange(20.0) % 5; row = mean_estimate(y, y, np.tile(np.arange(5.0), 40))
    >>> round(row["estimate"], 3), round(row["lambda"], 2)
    (2.0, 0.9)
    """
    y, yhat, yhat_u = (np.asarray(a, dtype=float) for a in (y, yhat, yhat_unlabelled))
    n, big_n = len(y), len(yhat_u)
    wl, wu = _weights(w, n), _weights(w_unlabelled, big_n)
    low, high = ppi_py.ppi_mean_ci(y, yhat, yhat_u, alpha=alpha, w=w, w_unlabeled=w_unlabelled)
    low, high = float(np.ravel(low)[0]), float(np.ravel(high)[0])
    classical_low, classical_high = ppi_py.classical_mean_ci(y, w=w, alpha=alpha)
    classical = (float(np.average(y, weights=wl)), float(np.ravel(classical_low)[0]),
                 float(np.ravel(classical_high)[0]))
    theta = classical[0]
    rho = influence_correlation(wl * (y - theta), wl * (yhat - theta), n)
    return _row((low + high) / 2, low, high, classical, n, big_n, rho, tuned_lambda(y, yhat, yhat_u, wl, wu))


def tuned_lambda(y, yhat, yhat_u, wl, wu) -> float:
    """PPI++'s power-tuned λ for a mean, as ``ppi_py.ppi_mean_ci`` computes it (reported beside the estimate):
    Cov(g, ĝ) / ((1 + n/N) Var(ĝ over both samples)), g the gradients at the λ = 1 estimate, clipped to [0, 1]."""
    n, big_n = len(y), len(yhat_u)
    theta = (wu * yhat_u).mean() + (wl * (y - yhat)).mean()
    g, gh, gu = wl * (y - theta), wl * (yhat - theta), wu * (yhat_u - theta)
    cov = 2 * ((g - g.mean()) @ (gh - gh.mean())) / n
    var = np.var(np.concatenate([gh, gu]), ddof=1)
    if not var > 0:
        return 0.0
    return float(np.clip(cov / (2 * (1 + n / big_n) * var), 0, 1))


def mean_effective_n(y, yhat, yhat_u, w=None, w_unlabelled=None) -> tuple[float, float]:
    """(effective n, ρ) of a mean's PPI++ interval without computing the interval: n · Var_classical / Var_PPI with
    ppi_py's variances (classical: Var(w·Y)/n; PPI++: Var(w_u·λŶ_u)/N + Var(w·(Y − λŶ))/n, divisor n, λ tuned
    and clipped as ppi_py tunes it) — equal to :func:`mean_estimate`'s ``effective_n``, fast enough for a
    bootstrap."""
    y, yhat, yhat_u = (np.asarray(a, dtype=float) for a in (y, yhat, yhat_u))
    n, big_n = len(y), len(yhat_u)
    wl, wu = _weights(w, n), _weights(w_unlabelled, big_n)
    lam = tuned_lambda(y, yhat, yhat_u, wl, wu)
    ppi = np.var(wu * lam * yhat_u) / big_n + np.var(wl * (y - lam * yhat)) / n
    theta = float(np.average(y, weights=wl))
    rho = influence_correlation(wl * (y - theta), wl * (yhat - theta), n)
    return (float(n * (np.var(wl * y) / n) / ppi) if ppi > 0 else float("nan")), rho


def median_estimate(y, yhat, yhat_unlabelled, w=None, w_unlabelled=None, alpha: float = ALPHA) -> dict:
    """The PPI estimate and interval of a median (``ppi_py.ppi_quantile_ci``, q = 0.5, λ = 1) and the humans'
    classical interval (``ppi_py.classical_quantile_ci``, unweighted); ρ between the indicators 1{Y ≤ m} and
    1{Ŷ ≤ m} at the PPI median m (the quantile's influence functions)."""
    y, yhat, yhat_u = (np.asarray(a, dtype=float) for a in (y, yhat, yhat_unlabelled))
    n, big_n = len(y), len(yhat_u)
    low, high = ppi_py.ppi_quantile_ci(y, yhat, yhat_u, 0.5, alpha=alpha, w=w, w_unlabeled=w_unlabelled)
    estimate = ppi_py.ppi_quantile_pointestimate(y, yhat, yhat_u, 0.5, w=w, w_unlabeled=w_unlabelled)
    classical_low, classical_high = ppi_py.classical_quantile_ci(y, 0.5, alpha=alpha)
    wl = _weights(w, n)
    order = np.argsort(y)
    cumulative = np.cumsum(wl[order]) / wl.sum()
    human_median = float(y[order][np.searchsorted(cumulative, 0.5)])
    rho = influence_correlation(wl * (y <= estimate), wl * (yhat <= estimate), n)
    return _row(estimate, low, high, (human_median, classical_low, classical_high), n, big_n, rho, 1.0)


def difference_estimate(y, yhat, group, yhat_unlabelled, group_unlabelled, w=None, w_unlabelled=None,
                        alpha: float = ALPHA) -> dict:
    """The PPI++ estimate and interval of a subgroup difference: the coefficient of ``group`` (1 in the category,
    0 in the reference) in the OLS of the answer on an intercept and ``group`` (``ppi_py.ppi_ols_ci``,
    λ tuned for that coefficient), the humans' classical interval (``ppi_py.ppi_ols_ci`` with λ = 0: the sandwich
    H⁻¹ Cov(g) H⁻¹ / n of the humans alone, divisor n − 1; ``classical_ols_ci``'s HC0 has divisor n), and ρ
    between the coefficient's influence functions H⁻¹x(xᵀθ − y) on the humans' answers and on the twins'."""
    y, yhat, yhat_u = (np.asarray(a, dtype=float) for a in (y, yhat, yhat_unlabelled))
    x = np.column_stack([np.ones(len(y)), np.asarray(group, dtype=float)])
    x_u = np.column_stack([np.ones(len(yhat_u)), np.asarray(group_unlabelled, dtype=float)])
    n, big_n = len(y), len(yhat_u)
    low, high = ppi_py.ppi_ols_ci(x, y, yhat, x_u, yhat_u, alpha=alpha, coord=1, w=w, w_unlabeled=w_unlabelled)
    # the humans alone as ppi_py computes them with λ = 0 (its "classical CLT interval"): the same sandwich as
    # the PPI++ interval (divisor n − 1), so the two widths differ only by what the silicon answers add
    classical_low, classical_high = ppi_py.ppi_ols_ci(x, y, yhat, x_u, yhat_u, alpha=alpha, lam=0, w=w,
                                                      w_unlabeled=w_unlabelled)
    wl = _weights(w, n)
    xtwx = (x * wl[:, None]).T @ x
    theta = np.linalg.solve(xtwx, (x * wl[:, None]).T @ y)
    inverse = np.linalg.inv(xtwx / n)
    influence = (inverse @ (x * (wl * (x @ theta - y))[:, None]).T)[1]
    influence_hat = (inverse @ (x * (wl * (x @ theta - yhat))[:, None]).T)[1]
    rho = influence_correlation(influence, influence_hat, n)
    return _row((low[1] + high[1]) / 2, low[1], high[1], (theta[1], classical_low[1], classical_high[1]), n, big_n,
                rho, float("nan"))


def targets_for(outcomes: dict[str, str], options: dict[str, list], categories: dict[str, tuple]) -> list[Target]:
    """The figures a calibration estimates: each outcome's mean (``outcomes``: column → ``item``, ``numeric`` or
    ``scale``), each single-choice item's option proportions (``options``), each numeric item's median, and
    each category's difference from its attribute's reference (``categories``: attribute → (reference,
    categories)) on the scales (on the items when there are no scales)."""
    targets = [Target("mean", o, o, kind=kind) for o, kind in outcomes.items()]
    targets += [Target("proportion", item, f"{item}={code}", option=code) for item, codes in options.items()
                for code in codes]
    targets += [Target("median", o, o, kind=kind) for o, kind in outcomes.items() if kind == "numeric"]
    compared = [o for o, kind in outcomes.items() if kind == "scale"] or list(outcomes)
    targets += [Target("difference", o, o, attribute=a, category=c, reference=reference, kind=outcomes[o])
                for a, (reference, cats) in categories.items() for c in cats if c != reference for o in compared]
    return targets


def estimate(target: Target, humans: pd.DataFrame, twins: pd.DataFrame, silicon: pd.DataFrame,
             alpha: float = ALPHA) -> dict:
    """One row of :func:`calibrate`: ``humans`` (the labelled sample's answers, attributes and ``weight``),
    ``twins`` (their twins' predictions, same rows), ``silicon`` (the unlabelled personas' predictions,
    attributes and ``weight``)."""
    y, yhat, yhat_u = (frame[target.variable].to_numpy(dtype=float) for frame in (humans, twins, silicon))
    keep, keep_u = np.isfinite(y) & np.isfinite(yhat), np.isfinite(yhat_u)
    if target.estimand == "difference":
        in_l = humans[target.attribute].isin([target.category, target.reference]).to_numpy()
        in_u = silicon[target.attribute].isin([target.category, target.reference]).to_numpy()
        keep, keep_u = keep & in_l, keep_u & in_u
    counts = {"n_missing": int((~(np.isfinite(y) & np.isfinite(yhat))).sum()),
              "N_missing": int((~np.isfinite(yhat_u)).sum())}
    w, w_u = humans["weight"].to_numpy(dtype=float)[keep], silicon["weight"].to_numpy(dtype=float)[keep_u]
    y, yhat, yhat_u = y[keep], yhat[keep], yhat_u[keep_u]
    blank = {"n_humans": int(keep.sum()), "n_silicon": int(keep_u.sum()), **counts}
    if len(y) < MIN_HUMANS or len(yhat_u) < 2:
        return {**blank, "note": f"fewer than {MIN_HUMANS} humans or 2 silicon personas with an answer"}
    if target.estimand == "difference":
        group = (humans[target.attribute].to_numpy()[keep] == target.category).astype(float)
        group_u = (silicon[target.attribute].to_numpy()[keep_u] == target.category).astype(float)
        if min(group.sum(), (1 - group).sum()) < MIN_GROUP or min(group_u.sum(), (1 - group_u).sum()) < 2:
            return {**blank, "note": f"fewer than {MIN_GROUP} humans in {target.category} or {target.reference}"}
        row = difference_estimate(y, yhat, group, yhat_u, group_u, w, w_u, alpha=alpha)
    elif target.estimand == "median":
        row = median_estimate(y, yhat, yhat_u, w, w_u, alpha=alpha)
    else:
        row = mean_estimate(y, yhat, yhat_u, w, w_u, alpha=alpha)
    return {**row, **counts, "note": ""}


def calibrate(humans: pd.DataFrame, twins: pd.DataFrame, silicon: pd.DataFrame, targets: list[Target],
              alpha: float = ALPHA) -> pd.DataFrame:
    """Every target's PPI++ and classical estimate, indexed by estimand, outcome, option, attribute, category.

    Parameters
    ----------
    humans : DataFrame
        The labelled sample: one row per human, a column per target variable, the attributes and ``weight``.
    twins : DataFrame
        Their silicon twins' predictions, row for row (same columns).
    silicon : DataFrame
        The unlabelled silicon personas: predictions, attributes and ``weight``.
    targets : list of Target
        From :func:`targets_for`.

    Returns
    -------
    DataFrame
        ``n_humans``, ``n_silicon`` (the unlabelled personas), ``estimate``, ``low``, ``high`` (PPI++),
        ``lambda``, ``classical_*`` (the humans alone), ``rho``, ``effective_n`` (n · (classical width / PPI
        width)²: how many humans alone give as narrow an interval as this one), ``gain`` (effective n − n: the
        humans the silicon answers are worth), ``effective_n_optimal`` (n(n+N)/(n+(1−ρ₊²)N): what PPI++ reaches
        at this ρ with λ free; above ``effective_n`` when ppi_py clips λ at 1, which happens when the silicon
        answers vary less than the humans'), ``width_ratio`` (classical width / PPI width), ``n_missing``,
        ``N_missing``, ``estimator`` and ``note`` (why a row has no estimate).
    """
    if len(humans) != len(twins):
        raise SpecError(f"{len(humans)} humans but {len(twins)} twin predictions", where="calibrate",
                        fix="give one twin row per human, in the same order")
    rows = [{"estimand": t.estimand, "outcome": t.outcome, "option": t.option, "attribute": t.attribute,
             "category": t.category, "reference": t.reference, "outcome_kind": t.kind,
             **estimate(t, humans, twins, silicon, alpha),
             "estimator": ESTIMATORS[t.estimand]} for t in targets]
    return pd.DataFrame(rows).set_index(list(TARGET_INDEX))


TARGET_INDEX = ("estimand", "outcome", "option", "attribute", "category")
"""The index of a calibration table's rows (besides the model–persona pair)."""


def population_value(target: Target, population: pd.DataFrame) -> float:
    """The full-population value of a target (the weighted mean, proportion, lower weighted median, or
    difference of weighted category means) from every respondent of ``population`` who answered: the value a
    validation's intervals should cover."""
    y = population[target.variable].to_numpy(dtype=float)
    w = population["weight"].to_numpy(dtype=float)
    keep = np.isfinite(y)
    if target.estimand == "difference":
        values = population[target.attribute].to_numpy()
        means = []
        for category in (target.category, target.reference):
            inside = keep & (values == category)
            means.append(np.average(y[inside], weights=w[inside]) if inside.any() else np.nan)
        return float(means[0] - means[1])
    y, w = y[keep], w[keep]
    if not len(y):
        return float("nan")
    if target.estimand == "median":
        order = np.argsort(y)
        return float(y[order][np.searchsorted(np.cumsum(w[order]) / w.sum(), 0.5)])
    return float(np.average(y, weights=w))


__all__ = ["ALPHA", "ESTIMATORS", "TARGET_INDEX", "Target", "calibrate", "difference_estimate", "effective_n",
           "influence_correlation", "mean_estimate", "median_estimate", "population_value", "targets_for"]
