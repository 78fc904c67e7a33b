"""Comparison with a baseline that holds scale scores only (no item answers), such as heplots::TIPI.

Per model × persona style × cue type × perturbation, the silicon scale scores (scored from the items by the
instrument's keys and method, :func:`silicon_sample.psychometrics.scoring.scale_scores`) against the humans' scores:

- ``scales`` — n, weighted mean with its 95 % t interval (Kish effective n), SD with N − 1, d (silicon −
  human, pooled SD) with its Hedges–Olkin interval; the silicon alpha (the human one cannot be computed from
  scale scores, and says so);
- ``variance`` — silicon / human variance ratio per scale with its F interval (:mod:`.response_styles`);
- ``subgroups`` and ``patterns`` — the scale means within each category of the shared attributes, and
  whether each human difference between categories is reproduced in sign and size (:mod:`.subgroups`).

What item answers would be needed for — item distributions, structure, invariance, the floors and ceiling of
``anchors`` and so ``rank`` — is not computed, and :data:`NOT_AT_SCALE_LEVEL` says why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..psychometrics import reliability
from ..specs.instruments import Instrument
from ..tidy.results import PAIR_COLUMNS, with_source_columns
from .response_styles import variance_table
from .scale_fidelity import mean_comparison
from .subgroups import pattern_correspondence, subgroup_metrics

NOT_AT_SCALE_LEVEL = ("the baseline holds scale scores, not item answers: item distributions, structure, "
                      "measurement invariance, the anchored figures and the ranking need item answers")


def _scale_rows(human: pd.DataFrame, silicon: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    keys = {s: k for s, k in instrument.keys().items() if s in human.columns}
    wh = human["weight"].to_numpy(dtype=float)
    ws = silicon["weight"].to_numpy(dtype=float)
    alphas = reliability(silicon, {s: k for s, k in keys.items() if len(k) >= 2},
                         scale_range=instrument.item_ranges())[0] \
        if any(len(k) >= 2 for k in keys.values()) else pd.DataFrame()
    rows = []
    for scale in keys:
        alpha = alphas.loc[scale, "alpha"] if scale in alphas.index else np.nan
        rows.append({"scale": scale, **mean_comparison(human[scale], silicon[scale], wh, ws),
                     "alpha_human": np.nan, "alpha_silicon": alpha,
                     "note": "human alpha: not computable from scale scores",
                     "convention": "weighted means (persona and survey weights), SD with N - 1, 95% t interval on "
                                   "Kish's effective n; d with pooled SD, Hedges-Olkin interval; alpha: raw "
                                   "(unweighted, items as continuous)"})
    return pd.DataFrame(rows).set_index("scale")


def compare_scale_scores(human: pd.DataFrame, silicon: pd.DataFrame, instrument: Instrument,
                         categories: dict[str, list] | None = None, *, tolerance: float = 0.2
                         ) -> dict[str, pd.DataFrame]:
    """The scale-level tables (module docstring) for every source of ``silicon``.

    Parameters
    ----------
    human : DataFrame
        One row per respondent: a column of scores per scale (named by scale id), ``weight``, attributes.
    silicon : DataFrame
        Wide results (:func:`silicon_sample.tidy.results.wide_results`), with the scale scores.
    instrument : Instrument
        The instrument, for its keys (alpha of the silicon scores) and options.
    categories : dict, optional
        ``{attribute: [categories in order]}`` of the subgroups compared.
    tolerance : float
        Largest |d_silicon − d_human| counted as a subgroup difference reproduced in size.

    Returns
    -------
    dict of DataFrame
        ``scales``, ``variance`` and, with categories, ``subgroups`` and ``patterns``, each indexed by the
        source columns (:data:`~silicon_sample.tidy.results.PAIR_COLUMNS`) then the table's keys.

    Examples
    --------
    >>> from silicon_sample.population import baselines                                  # doctest: +SKIP
    >>> base = baselines.load("tipi_openpsychometrics")                                  # doctest: +SKIP
    >>> tables = compare_scale_scores(base.data, ss.results("runs/tipi", wide=True), base.instrument)  # doctest: +SKIP
    """
    silicon = with_source_columns(silicon)
    scales = [s for s in instrument.scoring.scales if s in human.columns and s in silicon.columns]
    attributes = [a for a in (categories or {}) if a in human.columns and a in silicon.columns]
    wh = human["weight"].to_numpy(dtype=float)
    parts: dict[str, list[pd.DataFrame]] = {"scales": [], "variance": [], "subgroups": [], "patterns": []}

    def tag(table: pd.DataFrame, pair: tuple) -> pd.DataFrame:
        return table.assign(**dict(zip(PAIR_COLUMNS, pair))).set_index(list(PAIR_COLUMNS), append=True)

    for pair, rows in silicon.groupby(list(PAIR_COLUMNS)):
        w = rows["weight"].to_numpy(dtype=float)
        parts["scales"].append(tag(_scale_rows(human, rows, instrument), pair))
        parts["variance"].append(tag(variance_table(human, rows, scales), pair))
        if attributes:
            parts["subgroups"].append(tag(subgroup_metrics(human, rows, attributes, scales, {}, wh, w, categories),
                                          pair))
            parts["patterns"].append(tag(pattern_correspondence(human, rows, attributes, scales, wh, w,
                                                                tolerance=tolerance, categories=categories), pair))
    index = {"scales": ["scale"], "variance": ["outcome"], "subgroups": ["attribute", "category", "outcome"],
             "patterns": ["attribute", "contrast", "outcome"]}
    return {name: pd.concat(tables).reorder_levels(list(PAIR_COLUMNS) + index[name])
            for name, tables in parts.items() if tables}


__all__ = ["NOT_AT_SCALE_LEVEL", "compare_scale_scores"]
