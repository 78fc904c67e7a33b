"""Order effects and robustness: what changes when the same items are put another way.

``position_terciles``
    For instruments presented as a battery or a conversation (where an earlier item can influence a later
    one), the mean answer to each item when it was shown in the first, second or last third of the
    instrument (tercile of its overall position *p* among *K* items: ⌈3p / K⌉), with its 95 % t interval
    (persona weights, Kish effective n, SD with N − 1: :func:`.item_fidelity.weighted_moments`), and the
    difference last − first third with a Welch interval. A row ``(all items)`` does the same for item-centred
    answers (each answer minus its item's mean over all positions), so a general drift over the
    questionnaire shows once. Item order must vary between personas (``item_order: random``) for the
    terciles to be compared on the same items; with a fixed order each item sits in one tercile only.
    Reference: Schuman & Presser (1981), ch. 2, on question-order effects.

``robustness``
    For studies that cross perturbations (:mod:`silicon_sample.design.perturbations`), per model × persona
    style × cue type and per outcome (item mean, scale mean, normalized fidelity score): the value under each
    perturbation, their range (max − min, the *spread*) and SD (N − 1 over perturbations), and which
    perturbation lies furthest from ``original``. A model–persona pair whose spread is large next to the
    differences a study hopes to find is not robust to how the questions are shown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .item_fidelity import mean_interval, weighted_moments

TERCILES = ("first third", "second third", "last third")
ALL_ITEMS = "(all items)"
SOURCE = ["model", "persona_style", "cue_type", "perturbation"]


def _tercile(position: pd.Series, size: pd.Series) -> pd.Series:
    return np.ceil(3 * position / size).clip(1, 3).astype(int)


def _welch(a: tuple[float, float, float], b: tuple[float, float, float]) -> tuple[float, float]:
    from scipy import stats

    (m1, s1, n1), (m2, s2, n2) = a, b
    if not (n1 > 1 and n2 > 1 and np.isfinite(s1) and np.isfinite(s2)):
        return np.nan, np.nan
    v1, v2 = s1 ** 2 / n1, s2 ** 2 / n2
    se = np.sqrt(v1 + v2)
    if se == 0:
        return float(m2 - m1), float(m2 - m1)
    df = (v1 + v2) ** 2 / (v1 ** 2 / (n1 - 1) + v2 ** 2 / (n2 - 1))
    half = float(stats.t.ppf(0.975, df)) * se
    return float(m2 - m1 - half), float(m2 - m1 + half)


def position_terciles(long: pd.DataFrame) -> pd.DataFrame:
    """Item means by position tercile for battery and conversation cells (see the module docstring).

    Parameters
    ----------
    long : DataFrame
        Long results (:func:`silicon_sample.tidy.results.long_results`): ``model``, ``persona_style``,
        ``cue_type``, ``perturbation``, ``instrument``, ``presentation``, ``item_id``, ``position``,
        ``answer``, ``status``, ``weight``.

    Returns
    -------
    DataFrame
        Indexed by the source, ``instrument`` and ``item``; per tercile ``n_<t>``, ``mean_<t>``, ``mean_<t>_low``,
        ``mean_<t>_high`` (t = 1, 2, 3), and ``last_minus_first`` with ``_low`` / ``_high``. Empty when no
        instrument was presented as a battery or a conversation.

    Examples
    --------
    >>> import silicon_sample as ss
    >>> table = position_terciles(ss.results("runs/conversation"))                # doctest: +SKIP
    >>> table.loc[(slice(None),) * 5 + ("(all items)",), "last_minus_first"]       # doctest: +SKIP
    """
    frame = long[long["presentation"].isin(["battery", "conversation"]) & (long["status"] == "answered")].copy()
    if frame.empty:
        return pd.DataFrame()
    frame["answer"] = frame["answer"].astype(float)
    size = frame.groupby([*SOURCE, "instrument", "persona_id", "replicate"])["position"].transform("max")
    frame["tercile"] = _tercile(frame["position"], size)
    frame["centred"] = frame["answer"] - frame.groupby([*SOURCE, "instrument", "item_id"])["answer"].transform("mean")
    rows = []
    for key, block in frame.groupby([*SOURCE, "instrument"], sort=False):
        items = [(item, part, "answer") for item, part in block.groupby("item_id", sort=False)]
        items.append((ALL_ITEMS, block, "centred"))
        for item, part, column in items:
            row = dict(zip([*SOURCE, "instrument"], key), item=item)
            moments = {}
            for t in (1, 2, 3):
                cell = part[part["tercile"] == t]
                if len(cell):
                    moments[t] = weighted_moments(cell[column].to_numpy(), cell["weight"].to_numpy(dtype=float))
                else:
                    moments[t] = (np.nan, np.nan, 0.0)
                mean, sd, n = moments[t]
                low, high = mean_interval(mean, sd, n)
                row.update({f"n_{t}": len(cell), f"mean_{t}": mean, f"mean_{t}_low": low, f"mean_{t}_high": high})
            row["last_minus_first"] = moments[3][0] - moments[1][0]
            row["last_minus_first_low"], row["last_minus_first_high"] = _welch(moments[1], moments[3])
            row["convention"] = ("weighted mean by persona weight, SD with N − 1, 95 % t interval on Kish's "
                                 "effective n; difference: Welch interval" + (
                                     "; answers centred on each item's mean" if item == ALL_ITEMS else ""))
            rows.append(row)
    return pd.DataFrame(rows).set_index([*SOURCE, "instrument", "item"])


def robustness(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The spread across perturbations of item means, scale means and normalized scores (module docstring).

    Parameters
    ----------
    tables : dict of DataFrame
        Comparison tables (:func:`.tables.compare_answers` or one run's): ``items`` and ``scales``
        (``mean_silicon``) and ``anchors`` (``normalized``), indexed by the source columns first.

    Returns
    -------
    DataFrame
        Indexed by ``model``, ``persona_style``, ``cue_type``, ``kind`` (item mean, scale mean, normalized
        score) and ``outcome``: ``n_perturbations``, ``value_<perturbation>`` for each, ``spread``, ``sd``,
        ``furthest_from_original``. Empty when fewer than two perturbations were crossed.
    """
    sources = [("item mean", "items", "mean_silicon"), ("scale mean", "scales", "mean_silicon"),
               ("normalized score", "anchors", "normalized")]
    rows = []
    for kind, name, column in sources:
        table = tables.get(name)
        if table is None or column not in table.columns or "perturbation" not in table.index.names:
            continue
        flat = table[column].reset_index()
        outcome = [n for n in table.index.names if n not in SOURCE][0]
        if flat["perturbation"].nunique() < 2:
            continue
        pair = [c for c in SOURCE if c != "perturbation"]
        for key, part in flat.groupby([*pair, outcome], sort=False):
            values = part.set_index("perturbation")[column].astype(float)
            finite = values[np.isfinite(values)]
            row = dict(zip(pair, key[:-1]), kind=kind, outcome=key[-1], n_perturbations=len(finite))
            row.update({f"value_{p}": v for p, v in values.items()})
            row["spread"] = float(finite.max() - finite.min()) if len(finite) else np.nan
            row["sd"] = float(finite.std(ddof=1)) if len(finite) > 1 else np.nan
            if "original" in finite.index and len(finite) > 1:
                away = (finite.drop("original") - finite["original"]).abs()
                row["furthest_from_original"] = away.idxmax()
            else:
                row["furthest_from_original"] = ""
            rows.append(row)
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows).set_index(["model", "persona_style", "cue_type", "kind", "outcome"])
    values = sorted(c for c in frame.columns if c.startswith("value_"))
    return frame[["n_perturbations", *values, "spread", "sd", "furthest_from_original"]].assign(
        convention="spread = max − min over perturbations; sd with N − 1 over perturbations")


__all__ = ["position_terciles", "robustness"]
