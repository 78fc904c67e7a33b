"""The per-item comparison of a run too large to hold in memory, from weighted option counts read in chunks.

An item's answers are option codes, so its weighted answers are summed up by, per source and item, the
total weight ``W_k`` and the total squared weight ``Q_k`` of each option ``v_k``. From these, exactly as
:func:`.item_fidelity.compare_items` computes them from the rows:

.. math::

   W = \\sum_k W_k,\\quad \\bar x = \\frac{\\sum_k v_k W_k}{W},\\quad
   s^2 = \\frac{\\sum_k W_k (v_k - \\bar x)^2}{W - 1},\\quad n_{Kish} = \\frac{W^2}{\\sum_k Q_k},\\quad
   p_k = W_k / W

(frequency weights, N − 1; Kish, 1965), and from them d with the pooled SD, its Hedges–Olkin interval,
the t intervals of the means, representativeness and the Jensen–Shannon distance. Counts add up over chunks
of personas, so a run of a million answers is compared holding one chunk (:func:`count_options`) and the
counts (pairs × items × options) in memory. Tested equal to :func:`.item_fidelity.compare_items` on a run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..population.weighting import kish_from_totals
from ..tidy.results import PAIR_COLUMNS, with_source_columns
from .item_fidelity import comparison_row, distribution_row, option_distribution, weighted_moments

KEYS = [*PAIR_COLUMNS, "item_id", "answer"]


def count_options(long: pd.DataFrame) -> pd.DataFrame:
    """Per source × item × option of one chunk of long results: ``w`` (Σ weights) and ``w2`` (Σ squared
    weights) of the answered cells."""
    answered = with_source_columns(long)
    answered = answered[answered["status"] == "answered"]
    weights = answered["weight"].astype(float)
    frame = answered[KEYS[:-1]].assign(answer=answered["answer"].astype(int), w=weights, w2=weights ** 2)
    return frame.groupby(KEYS, sort=False)[["w", "w2"]].sum()


def add_counts(total: pd.DataFrame | None, chunk: pd.DataFrame) -> pd.DataFrame:
    """Counts of two chunks together."""
    return chunk if total is None else total.add(chunk, fill_value=0.0)


def _moments(values: np.ndarray, w: np.ndarray, w2: np.ndarray) -> tuple[float, float, float]:
    total = w.sum()
    if total <= 0:
        return np.nan, np.nan, 0.0
    mean = float((values * w).sum() / total)
    sd = float(np.sqrt((w * (values - mean) ** 2).sum() / (total - 1))) if total > 1 else np.nan
    return mean, sd, kish_from_totals(total, w2.sum())


def items_from_counts(human: pd.DataFrame, counts: pd.DataFrame, options: dict[str, list[int]],
                      human_weights=None) -> pd.DataFrame:
    """The ``items`` table of :func:`.item_fidelity.compare_items` for every source, from the silicon's option
    counts (:func:`count_options`, :func:`add_counts`) and the humans' rows."""
    wh = np.ones(len(human)) if human_weights is None else np.asarray(human_weights, dtype=float)
    rows = []
    pairs = counts.index.droplevel(["item_id", "answer"]).unique()
    for pair in pairs:
        block = counts.xs(pair if isinstance(pair, tuple) else (pair,), level=list(PAIR_COLUMNS))
        for item, values in options.items():
            xh = pd.to_numeric(human[item], errors="coerce").to_numpy(dtype=float)
            ph = option_distribution(xh, values, wh)
            mine = block.xs(item, level="item_id") if item in block.index.get_level_values("item_id") else \
                pd.DataFrame({"w": [], "w2": []})
            mine = mine.reindex(values, fill_value=0.0)
            w, w2 = mine["w"].to_numpy(dtype=float), mine["w2"].to_numpy(dtype=float)
            ps = w / w.sum() if w.sum() > 0 else np.full(len(values), np.nan)
            silicon = _moments(np.asarray(values, dtype=float), w, w2)
            rows.append({**dict(zip(PAIR_COLUMNS, pair)), "item": item,
                         **comparison_row(weighted_moments(xh, wh), silicon), **distribution_row(values, ph, ps)})
    return pd.DataFrame(rows).set_index([*PAIR_COLUMNS, "item"])


__all__ = ["add_counts", "count_options", "items_from_counts"]
