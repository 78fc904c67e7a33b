"""Structural fidelity: do the items hang together in silicon answers as they do in human ones?

- SRMR between the two item correlation matrices:
  √(mean over i < j of (r_ij,human − r_ij,silicon)²), pairwise-complete Pearson correlations.
- Tucker's congruence coefficient per scale, between the standardized loadings of a one-factor ML
  model fitted in each source (reverse-keyed items mirrored first):
  φ = Σ a_i b_i / √(Σ a_i² Σ b_i²). Reading (Lorenzo-Seva & ten Berge, 2006): φ ≥ .95 the factors
  can be considered equal, .85 ≤ φ < .95 fair similarity, φ < .85 not similar (flagged).
  The correlations the model is fitted to follow the scale's estimator (:func:`scale_estimators`):
  polychoric where it is WLSMV (ordinal answers; psych's ``fa.poly`` convention, an ML fit to the
  polychoric matrix), Pearson otherwise (ML and MLR share their point estimates). Both sources of a
  scale use the same kind, named in the ``estimator`` column. By default every respondent with an answer
  counts (a refused, invalid or "Don't know" answer is missing): full-information ML on the covariances,
  pairwise polychorics for ordinal answers; ``missing = "listwise"`` fits the complete respondents.

A one-factor model that cannot be fitted in a source (an item every silicon respondent answered
alike, too few respondents) gives no coefficient and a note saying why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SiliconSampleError
from ..psychometrics import choose_estimator
from ..psychometrics.lavaan_syntax import MeasurementModel
from ..psychometrics.missing_ml import FimlModel, missing_groups
from ..psychometrics.moments import GroupMoments, group_moments
from ..psychometrics.multigroup_ml import MultiGroupModel, ParameterTable
from ..psychometrics.ordinal_statistics import pairwise_polychoric
from ..psychometrics.scoring import Ranges, keyed_items
from .frame_memo import memo, ranges_key
from .item_fidelity import numeric_array

LOADINGS_FROM = {
    "WLSMV": "WLSMV (ordinal): one-factor ML loadings on polychoric correlations",
    "MLR": "MLR: one-factor ML loadings on Pearson correlations",
    "ML": "ML: one-factor ML loadings on Pearson correlations",
}


def correlation_srmr(human: pd.DataFrame, silicon: pd.DataFrame, items: list[str]) -> float:
    """SRMR between the item correlation matrices of two sources (off-diagonal elements)."""
    def correlations(frame: pd.DataFrame) -> np.ndarray:
        x = numeric_array(frame, items)
        return pd.DataFrame(x).corr().to_numpy()

    rh = memo(human, ("correlations", tuple(items)), correlations, human)      # the same baseline each time
    rs = correlations(silicon)
    lower = np.tril_indices(len(items), k=-1)
    return float(np.sqrt(np.nanmean((rh[lower] - rs[lower]) ** 2)))


def scale_estimators(human: pd.DataFrame, silicon: pd.DataFrame, keys: dict[str, list[str]],
                     estimator: str | None = None, n_options: dict[str, int] | None = None) -> dict[str, str]:
    """The estimator of each scale: ``estimator`` for all, or chosen from both sources' answers as
    :func:`silicon_sample.psychometrics.choose_estimator` does (source as the group)."""
    out = {}
    for scale, keyed in keys.items():
        items = [k.lstrip("-") for k in keyed]
        if estimator is not None:
            out[scale] = estimator.upper()
            continue
        both = pd.concat([human[items].assign(source="human"), silicon[items].assign(source="silicon")],
                         ignore_index=True)
        both[items] = both[items].apply(pd.to_numeric, errors="coerce")
        out[scale] = choose_estimator(both, items, "source", n_options)[0]
    return out


def standardized_loadings(items: pd.DataFrame, ordinal: bool = False, missing: str = "listwise") -> np.ndarray:
    """Standardized loadings of a one-factor ML model, fitted to the polychoric correlations when ``ordinal``
    and to the covariances otherwise: on the complete cases (``missing = "listwise"``), or on every respondent
    with an answer (``"auto"``: full-information ML on the answers, polychorics from each pair's answers)."""
    names = list(items.columns)
    model = MeasurementModel(("f",), {"f": tuple(names)})
    complete = items.dropna()
    # with every answer present, full-information ML is ML and pairwise is listwise: the complete-case path
    missing = missing if items.isna().any().any() else "listwise"
    if missing != "listwise" and not ordinal:
        mg = FimlModel(ParameterTable(model, 1, mean_structure=True), missing_groups(items, names))
        theta = mg.fit()
        L, P, _, _, _ = mg.matrices(theta, 0)
        sigma, _ = mg.implied(theta, 0)
        with np.errstate(invalid="ignore"):
            return L[:, 0] * np.sqrt(P[0, 0]) / np.sqrt(np.diag(sigma))
    moments = group_moments(complete, names)   # refuses zero variance, too few cases, a singular matrix
    if ordinal:
        corr = pairwise_polychoric(complete if missing == "listwise" else items.dropna(how="all"))
        if np.linalg.eigvalsh(corr).min() <= 1e-10:
            raise np.linalg.LinAlgError("the polychoric correlation matrix is not positive definite")
        moments = [GroupMoments(moments[0].name, moments[0].n, np.zeros(len(names)), corr)]
    mg = MultiGroupModel(ParameterTable(model, 1, mean_structure=False), moments)
    theta = mg.fit()
    L, P, T, _, _ = mg.matrices(theta, 0)
    sigma, _ = mg.implied(theta, 0)
    with np.errstate(invalid="ignore"):  # a negative variance estimate gives NaN, reported by the caller
        return L[:, 0] * np.sqrt(P[0, 0]) / np.sqrt(np.diag(sigma))


def keyed_loadings(frame: pd.DataFrame, keyed: list[str], ranges: Ranges, ordinal: bool = False,
                   missing: str = "listwise") -> np.ndarray:
    """:func:`standardized_loadings` of a scale's keyed items (:func:`.scoring.keyed_items`), kept while ``frame``
    lives: a baseline's loadings are the same for every pair and anchor compared with it. Raises what
    :func:`standardized_loadings` raises, each time it is asked."""
    def fitted() -> tuple[np.ndarray | None, Exception | None]:
        try:
            return standardized_loadings(keyed_items(frame, keyed, ranges), ordinal, missing), None
        except (SiliconSampleError, np.linalg.LinAlgError) as exc:
            return None, exc

    loadings, error = memo(frame, ("loadings", tuple(keyed), ranges_key(ranges), ordinal, missing), fitted)
    if error is not None:
        raise error
    return loadings


def tucker_congruence(a, b) -> float:
    """φ = Σ a b / √(Σ a² Σ b²)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def congruence_reading(phi: float) -> str:
    if np.isnan(phi):
        return "not computed"
    return "equal" if phi >= 0.95 else ("fair similarity" if phi >= 0.85 else "not similar")


def compare_structure(human: pd.DataFrame, silicon: pd.DataFrame, keys: dict[str, list[str]],
                      ranges: Ranges, estimators: dict[str, str] | None = None, missing: str = "auto"
                      ) -> tuple[float, pd.DataFrame]:
    """(SRMR over all keyed items, per-scale congruence table with loadings, notes and the estimator).

    ``estimators`` maps each scale to ML, MLR or WLSMV (default: :func:`scale_estimators`); ``missing`` as in
    :func:`standardized_loadings` (``auto``: every respondent with an answer, refusals missing)."""
    items = [k.lstrip("-") for keyed in keys.values() for k in keyed]
    srmr = correlation_srmr(human, silicon, items)
    estimators = estimators or scale_estimators(human, silicon, keys)
    rows = []
    for scale, keyed in keys.items():
        ordinal = estimators[scale] == "WLSMV"
        row = {"scale": scale, "congruence": np.nan, "note": "", "estimator": LOADINGS_FROM[estimators[scale]]}
        try:
            a = keyed_loadings(human, keyed, ranges, ordinal, missing)
            b = standardized_loadings(keyed_items(silicon, keyed, ranges), ordinal, missing)
            phi = tucker_congruence(a, b)
            if np.isfinite(phi):
                row["congruence"] = phi
            else:
                row["note"] = ("one-factor model not fitted: improper solution (a negative variance estimate), "
                               "no standardized loadings")
            row.update({f"loading_human_{k.lstrip('-')}": x for k, x in zip(keyed, a)})
            row.update({f"loading_silicon_{k.lstrip('-')}": x for k, x in zip(keyed, b)})
        except SiliconSampleError as exc:
            row["note"] = f"one-factor model not fitted: {exc.message}"
        except np.linalg.LinAlgError as exc:
            row["note"] = f"one-factor model not fitted: {exc}"
        row["reading"] = congruence_reading(row["congruence"])
        rows.append(row)
    return srmr, pd.DataFrame(rows).set_index("scale")
