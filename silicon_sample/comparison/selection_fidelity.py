"""Check-all-that-apply and rank items compared with humans, between a floor and a human ceiling.

Wide answers hold a check-all item as one 0/1 column per option (``{item}_{code}``: 1 chosen, 0 not, missing
when the item was not answered) and a rank item as one place column per option (``{item}_rank_{code}``: 1 =
ranked first, missing when not ranked), in both sources (:func:`silicon_sample.tidy.results.wide_results`
and the baseline files).

- :func:`compare_selections` — per check-all item and option: the selection rate of each source (weighted;
  Wilson 95 % intervals at Kish's n) and the difference with Newcombe's interval (:mod:`.knowledge`); per
  item: the mean number of options chosen with its t interval (``option = "number chosen"``).
- :func:`compare_ranks` — per rank item and option: the share of answers ranking it and its mean place where
  ranked (t interval).
- The distance of each item is the mean absolute difference over its options (of the selection rates, or of
  the mean places divided by the number of places, so both lie in [0, 1]), against its **floor** — answers
  drawn at random (each allowed selection equally likely; each ordering equally likely) — and its
  **ceiling** — ``n_silicon`` humans drawn at random against the other humans —, each averaged over
  ``repetitions``; ``normalized`` = (floor − distance) / (floor − ceiling), on the item's summary row.

Examples
--------
>>> import pandas as pd
>>> human = pd.DataFrame({"m_1": [1, 1, 0, 1], "m_2": [0, 1, 1, 0], "weight": 1.0})
>>> silicon = pd.DataFrame({"m_1": [1, 0], "m_2": [1, 1], "weight": 1.0})
>>> table = compare_selections(human, silicon, {"m": (1, 2)}, repetitions=2)
>>> float(table.loc[("m", "1"), "rate_human"]), float(table.loc[("m", "1"), "rate_silicon"])
(0.75, 0.5)
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from ..population.weighting import kish_effective_n
from .item_fidelity import comparison_row, mean_interval, weighted_moments
from .knowledge import newcombe_interval, wilson_interval


def _weights(frame: pd.DataFrame, given) -> np.ndarray:
    if given is not None:
        return np.asarray(given, dtype=float)
    return frame["weight"].to_numpy(dtype=float) if "weight" in frame else np.ones(len(frame))


def _matrix(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    present = [c for c in columns if c in frame]
    if len(present) != len(columns):
        return np.full((len(frame), len(columns)), np.nan)
    return frame[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)


def _rates(matrix: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    answered = ~np.isnan(matrix).all(axis=1)
    if not answered.any():
        return np.full(matrix.shape[1], np.nan), 0.0
    m, ww = np.nan_to_num(matrix[answered]), w[answered]
    return (ww[:, None] * m).sum(axis=0) / ww.sum(), kish_effective_n(ww)


def _split_ceiling(distance, human: np.ndarray, w: np.ndarray, n: int, rng, repetitions: int) -> float:
    values = []
    answered = np.flatnonzero(~np.isnan(human).all(axis=1))
    for _ in range(repetitions if len(answered) > n > 0 else 0):
        picked = np.zeros(len(human), dtype=bool)
        picked[rng.choice(answered, n, replace=False)] = True
        rest = ~picked
        values.append(distance(human[picked], w[picked], human[rest], w[rest]))
    return float(np.mean(values)) if values else np.nan


def _normalized(distance: float, floor: float, ceiling: float) -> float:
    span = floor - ceiling
    return (floor - distance) / span if np.isfinite(span) and span > 0 else np.nan


def compare_selections(human: pd.DataFrame, silicon: pd.DataFrame, items: dict[str, tuple[int, ...]],
                       human_weights=None, silicon_weights=None, *, exclusive: dict[str, tuple[int, ...]] | None = None,
                       limits: dict[str, tuple[int, int]] | None = None, repetitions: int = 10, seed: int = 0
                       ) -> pd.DataFrame:
    """The check-all comparison of one silicon source (module docstring); index (item, option), the item's
    summary on ``option = "number chosen"``."""
    rng = np.random.default_rng(seed)
    wh, ws = _weights(human, human_weights), _weights(silicon, silicon_weights)
    rows = {}
    for item, codes in items.items():
        columns = [f"{item}_{c}" for c in codes]
        xh, xs = _matrix(human, columns), _matrix(silicon, columns)
        rh, nh = _rates(xh, wh)
        rs, ns = _rates(xs, ws)
        for code, ph, ps in zip(codes, rh, rs):
            low_h, high_h = wilson_interval(ph, nh)
            low_s, high_s = wilson_interval(ps, ns)
            low_d, high_d = newcombe_interval(ps, ns, ph, nh)
            rows[(item, str(code))] = {"n_human": nh, "n_silicon": ns, "rate_human": ph, "rate_human_low": low_h,
                                       "rate_human_high": high_h, "rate_silicon": ps, "rate_silicon_low": low_s,
                                       "rate_silicon_high": high_s, "diff": ps - ph, "diff_low": low_d,
                                       "diff_high": high_d}

        def distance(a, wa, b, wb):
            return float(np.nanmean(np.abs(_rates(a, wa)[0] - _rates(b, wb)[0])))

        counts_h = np.where(np.isnan(xh).all(axis=1), np.nan, np.nansum(xh, axis=1))
        counts_s = np.where(np.isnan(xs).all(axis=1), np.nan, np.nansum(xs, axis=1))
        summary = comparison_row(weighted_moments(counts_h, wh), weighted_moments(counts_s, ws))
        selections = _selections(codes, (exclusive or {}).get(item, ()), (limits or {}).get(item))
        n_s = int(round(ns)) if ns else int((~np.isnan(counts_s)).sum())
        floors = []
        for _ in range(repetitions if n_s else 0):
            drawn = np.array([[float(c in selections[k]) for c in codes]
                              for k in rng.integers(0, len(selections), n_s)])
            floors.append(float(np.nanmean(np.abs(_rates(drawn, np.ones(n_s))[0] - rh))))   # rh: the humans' rates
        floor = float(np.mean(floors)) if floors else np.nan
        ceiling = _split_ceiling(distance, xh, wh, int((~np.isnan(counts_s)).sum()), rng, repetitions)
        value = distance(xs, ws, xh, wh) if ns else np.nan
        rows[(item, "number chosen")] = {**summary, "distance": value, "floor_random": floor, "ceiling": ceiling,
                                         "normalized": _normalized(value, floor, ceiling)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.names = ["item", "option"]
    return table


def _selections(codes: tuple[int, ...], exclusive: tuple[int, ...], limits: tuple[int, int] | None) -> list[set]:
    low, high = limits or (0, len(codes))
    return [set(c) for k in range(low, high + 1) for c in combinations(codes, k)
            if not (len(c) > 1 and set(c) & set(exclusive))] or [set()]


def compare_ranks(human: pd.DataFrame, silicon: pd.DataFrame, items: dict[str, tuple[int, ...]],
                  human_weights=None, silicon_weights=None, *, top: dict[str, int] | None = None,
                  repetitions: int = 10, seed: int = 0) -> pd.DataFrame:
    """The rank comparison of one silicon source (module docstring); index (item, option), the item's summary
    on ``option = "all"``."""
    rng = np.random.default_rng(seed)
    wh, ws = _weights(human, human_weights), _weights(silicon, silicon_weights)
    rows = {}
    for item, codes in items.items():
        places = (top or {}).get(item) or len(codes)
        columns = [f"{item}_rank_{c}" for c in codes]
        xh, xs = _matrix(human, columns), _matrix(silicon, columns)

        def mean_places(x, w, places=places):
            answered = ~np.isnan(x).all(axis=1)
            out = []
            for j in range(x.shape[1]):
                ranked = answered & ~np.isnan(x[:, j])
                out.append(np.average(x[ranked, j], weights=w[ranked]) if ranked.any() else places + 1.0)
            return np.array(out)

        def distance(a, wa, b, wb, places=places, mean_places=mean_places):
            return float(np.mean(np.abs(mean_places(a, wa) - mean_places(b, wb))) / places)

        for j, code in enumerate(codes):
            row = {}
            for source, x, w in (("human", xh, wh), ("silicon", xs, ws)):
                answered = ~np.isnan(x).all(axis=1)
                ranked = answered & ~np.isnan(x[:, j])
                share = float(w[ranked].sum() / w[answered].sum()) if answered.any() else np.nan
                mean, sd, n = weighted_moments(np.where(ranked, x[:, j], np.nan), w)
                low, high = mean_interval(mean, sd, n)
                row.update({f"n_{source}": kish_effective_n(w[answered]) if answered.any() else 0.0,
                            f"ranked_{source}": share, f"mean_place_{source}": mean,
                            f"mean_place_{source}_low": low, f"mean_place_{source}_high": high})
            rows[(item, str(code))] = row
        answered_s = int((~np.isnan(xs).all(axis=1)).sum())
        human_places = mean_places(xh, wh)          # the floor's draws are compared with these, every time
        floors = []
        for _ in range(repetitions if answered_s else 0):
            drawn = np.full((answered_s, len(codes)), np.nan)
            for r in range(answered_s):
                order = rng.permutation(len(codes))[:places]
                drawn[r, order] = np.arange(1, places + 1)
            floors.append(float(np.mean(np.abs(mean_places(drawn, np.ones(answered_s)) - human_places)) / places))
        floor = float(np.mean(floors)) if floors else np.nan
        ceiling = _split_ceiling(distance, xh, wh, answered_s, rng, repetitions)
        value = distance(xs, ws, xh, wh) if answered_s else np.nan
        rows[(item, "all")] = {"distance": value, "floor_random": floor, "ceiling": ceiling,
                               "normalized": _normalized(value, floor, ceiling)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.names = ["item", "option"]
    return table


__all__ = ["compare_ranks", "compare_selections"]
