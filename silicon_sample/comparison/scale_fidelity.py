"""Scale-level fidelity: scale means, SDs, Cohen's d and reliability, silicon beside human."""

from __future__ import annotations

import pandas as pd

from ..psychometrics import reliability
from ..psychometrics.reliability import READING
from ..psychometrics.scoring import scale_scores
from .frame_memo import memo, ranges_key
from .item_fidelity import comparison_row, weighted_moments
from .structure import scale_estimators


def mean_comparison(human, silicon, human_weights, silicon_weights) -> dict:
    """One outcome of two sources: n (Kish), weighted means with their 95 % t intervals, SDs (N − 1), the mean
    difference and d (silicon − human, pooled SD) with its Hedges–Olkin interval."""
    import numpy as np

    xh, xs = np.asarray(human, dtype=float), np.asarray(silicon, dtype=float)
    return comparison_row(weighted_moments(xh, human_weights), weighted_moments(xs, silicon_weights))


def compare_scales(human: pd.DataFrame, silicon: pd.DataFrame, keys: dict[str, list[str]],
                   item_ranges: dict[str, tuple[int, int]], method: str = "mean",
                   human_weights=None, silicon_weights=None, estimator: str | None = None,
                   n_options: dict[str, int] | None = None) -> pd.DataFrame:
    """Per scale: mean and SD (weighted, N − 1) of the scale scores in each source, d (silicon − human) with
    its 95 % interval (Hedges & Olkin),
    and alpha / omega total of each source (:func:`silicon_sample.psychometrics.reliability`; unweighted),
    with ordinal alpha and omega (polychoric) beside them and ``estimator`` naming the coefficients to read
    (``estimator``, or chosen per scale from the answers of both sources as the structure and invariance
    tables choose it: WLSMV when an item has at most 4 options (``n_options``) or at most 4 distinct
    answers in either). ``alpha_gap`` is silicon − human in the alpha to read (ordinal under WLSMV).

    Scale scores follow the keys (reverse-keyed items mirrored on their scale, mean of answered items).
    """
    import numpy as np

    wh = np.ones(len(human)) if human_weights is None else np.asarray(human_weights, dtype=float)
    ws = np.ones(len(silicon)) if silicon_weights is None else np.asarray(silicon_weights, dtype=float)
    scores_h = scale_scores(human, keys, item_ranges, method)
    scores_s = scale_scores(silicon, keys, item_ranges, method)
    estimators = scale_estimators(human, silicon, keys, estimator, n_options)
    needed = ["alpha", "omega_total", "ordinal_alpha", "ordinal_omega"]   # absent when no scale could be computed

    def coefficients(frame: pd.DataFrame) -> pd.DataFrame:
        return reliability(frame, keys, scale_range=item_ranges)[0].reindex(columns=needed)

    # the baseline's coefficients (polychoric ones included) are the same for every pair compared with it
    rel_h = memo(human, ("reliability", tuple((s, tuple(k)) for s, k in keys.items()), ranges_key(item_ranges)),
                 coefficients, human)
    rel_s = coefficients(silicon)
    read = {scale: "ordinal_alpha" if estimators[scale] == "WLSMV" else "alpha" for scale in keys}
    rows = []
    for scale in keys:
        rows.append({"scale": scale, **mean_comparison(scores_h[scale], scores_s[scale], wh, ws),
                     "alpha_human": rel_h.loc[scale, "alpha"], "alpha_silicon": rel_s.loc[scale, "alpha"],
                     "alpha_gap": rel_s.loc[scale, read[scale]] - rel_h.loc[scale, read[scale]],
                     "omega_human": rel_h.loc[scale, "omega_total"], "omega_silicon": rel_s.loc[scale, "omega_total"],
                     "ordinal_alpha_human": rel_h.loc[scale, "ordinal_alpha"],
                     "ordinal_alpha_silicon": rel_s.loc[scale, "ordinal_alpha"],
                     "ordinal_omega_human": rel_h.loc[scale, "ordinal_omega"],
                     "ordinal_omega_silicon": rel_s.loc[scale, "ordinal_omega"],
                     "estimator": READING[estimators[scale]]})
    return pd.DataFrame(rows).set_index("scale")
