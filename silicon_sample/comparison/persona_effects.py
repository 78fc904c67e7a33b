"""Persona effects beyond paraphrase noise: the tests of Araujo & Roth (2025) on a catalogue run.

Araujo & Roth, "Helpful assistant or fruitful facilitator? Investigating how personas affect language model
behavior" (PLoS ONE, 2025; arXiv:2407.02099) asked whether 162 named personas change a model's answers more
than 30 paraphrases of "a helpful assistant" (the *controls*) do. A run of a catalogue population
(:mod:`silicon_sample.population.catalogue`) has both, marked by ``persona_group`` (``persona``, ``control``,
``empty``). For every model–persona pair (model × style × cue type × perturbation) and every outcome — a scale
score, an item's answer, a knowledge scale's proportion correct, or the share of a persona's cells
``refused`` or ``invalid`` — :func:`persona_effects` gives these tables:

``personas``
    Each persona's outcome: the mean over its replicates (an item or scale) or the share of its cells (a
    rate), with a 95 % interval: Student's t over replicates when there are two or more, otherwise (one answer
    per item) t over the scale's keyed items (the items taken as a sample of items) for a scale, Wilson over
    the cells for a rate, and none for a single answer (said in ``interval``).
``categories``
    Each category's mean over its personas with a t interval over personas (SD with N − 1), the controls as
    the category ``control`` and the empty persona as ``empty``, each beside the controls' mean.
``variation``
    Persona variation against paraphrase noise, per category and over all regular personas:

    .. math:: R = \\frac{SD_{personas}}{SD_{controls}}

    the SD (N − 1) of the per-persona outcome across the category's personas over its SD across the control
    paraphrases, with a 95 % percentile bootstrap interval (personas resampled within the category and the
    controls resampled, independently). ``beyond_noise`` is true when the interval lies above 1: the personas
    move answers more than rewording "a helpful assistant" does. Araujo & Roth compared the two groups'
    significance tests (below); the ratio is our addition, so that the size of the effect has an interval.
``within_tests``
    Their within-subject tests, run separately among the regular personas and among the controls (the empty
    persona is in neither; Araujo & Roth's "personas" group held it): Friedman's χ² (scipy
    ``friedmanchisquare``, tie-corrected) for a scale, blocks the scale's items (keyed, each persona's mean
    over replicates, as they averaged over instruction paraphrases) and treatments the personas; Cochran's Q
    (statsmodels ``cochrans_q``) for a rate, blocks the items × replicates and treatments the personas.
    Blocks with a missing answer are left out and counted.
``refusals``
    Refusal (and invalid-answer) disparities: each category's share of cells refused against the controls',
    the difference with a 95 % cluster-bootstrap interval (personas resampled within each group, since a
    persona's cells are not independent), a two-sided permutation test of the difference over personas
    (category and control labels shuffled among their personas; p = (1 + #|Δ*| ≥ |Δ|)/(1 + B)), and Holm's
    adjustment over the categories of a pair and outcome (statsmodels ``multipletests``). Araujo & Roth
    tested refusals across all personas with Cochran's Q (in ``within_tests``); the per-category comparison
    with the controls is ours.
``agreement``
    Agreement across models on which personas matter: Kendall's τ-b (scipy ``kendalltau``) of the
    per-persona outcome between every two pairs, and Kendall's W across three or more,

    .. math:: W = \\frac{\\chi^2_F}{m (n - 1)}

    with χ²_F Friedman's tie-corrected statistic over the m pairs (blocks) ranking the n personas, its
    p-value from χ²(n − 1); 95 % percentile bootstrap intervals over personas. Regular personas only.
``extremes``
    The personas at the top or the bottom (the ``top_share`` of personas, at least one) of the outcome in
    every pair: those the models agree move answers most. Ties count against a persona (its rank is the
    largest of its tie), so a value that many personas share on a short scale puts none of them there.

References
----------
Araujo, P. H. L. & Roth, B. (2025). Helpful assistant or fruitful facilitator? Investigating how personas
affect language model behavior. PLoS ONE. arXiv:2407.02099.
Friedman, M. (1937). JASA 32, 675–701. Cochran, W. G. (1950). Biometrika 37, 256–266.
Kendall, M. G. & Babington Smith, B. (1939). Ann. Math. Stat. 10, 275–287. Holm, S. (1979). Scand. J. Stat. 6,
65–70.

Examples
--------
>>> import silicon_sample as ss                                     # doctest: +SKIP
>>> tables = ss.persona_effects("runs/personas")                     # doctest: +SKIP
>>> tables["variation"].query("category == 'all personas'")          # doctest: +SKIP
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SpecError
from .item_fidelity import mean_interval
from .knowledge import wilson_interval

RATES = {"refused": "refused", "invalid": "invalid"}
"""Outcomes that are the share of a persona's cells with that status."""
ALL_PERSONAS = "all personas"


# -- the tests, on matrices ------------------------------------------------------------------------
def friedman(blocks: pd.DataFrame) -> dict:
    """Friedman's χ² over a blocks × treatments table (rows with a missing value left out): scipy's
    tie-corrected ``friedmanchisquare`` with the treatments as its samples.

    Examples
    --------
    >>> import pandas as pd
    >>> out = friedman(pd.DataFrame({"a": [1, 2, 1, 1], "b": [2, 3, 3, 2], "c": [3, 1, 2, 3]}))
    >>> round(out["statistic"], 3), out["df"], out["n_blocks"]
    (2.0, 2, 4)
    """
    complete = blocks.dropna()
    out = {"test": "Friedman chi2", "n_blocks": len(complete), "n_treatments": blocks.shape[1],
           "blocks_left_out": len(blocks) - len(complete), "statistic": np.nan, "df": blocks.shape[1] - 1,
           "p_value": np.nan, "note": ""}
    if blocks.shape[1] < 3 or len(complete) < 2:
        out["note"] = "needs 3 or more treatments and 2 or more complete blocks"
        return out
    values = complete.to_numpy(dtype=float)
    if np.all(values == values[:, :1]):
        out["note"] = "every treatment has the same value in every block"
        return out
    result = stats.friedmanchisquare(*values.T)
    out.update(statistic=float(result.statistic), p_value=float(result.pvalue))
    return out


def cochran_q(blocks: pd.DataFrame) -> dict:
    """Cochran's Q over a blocks × treatments table of 0/1 (rows with a missing value left out): statsmodels'
    ``cochrans_q`` with blocks as its rows (subjects) and treatments as its columns."""
    from statsmodels.stats.contingency_tables import cochrans_q

    complete = blocks.dropna()
    out = {"test": "Cochran Q", "n_blocks": len(complete), "n_treatments": blocks.shape[1],
           "blocks_left_out": len(blocks) - len(complete), "statistic": np.nan, "df": blocks.shape[1] - 1,
           "p_value": np.nan, "note": ""}
    values = complete.to_numpy(dtype=float)
    if blocks.shape[1] < 2 or len(complete) < 2:
        out["note"] = "needs 2 or more treatments and 2 or more complete blocks"
        return out
    varying = values.sum(axis=1)
    if not ((varying > 0) & (varying < values.shape[1])).any():
        out["note"] = "no block has both outcomes (e.g. no refusal at all): Q is undefined"
        return out
    statistic, p_value, df = cochrans_q(values)
    out.update(statistic=float(statistic), df=int(df), p_value=float(p_value))
    return out


def kendall_w(ratings: pd.DataFrame) -> dict:
    """Kendall's coefficient of concordance of an objects × raters table (rows with a missing value left out),
    tie-corrected, from Friedman's statistic with the raters as blocks: W = χ²_F / (m (n − 1)), p from
    χ²(n − 1).

    Examples
    --------
    >>> import pandas as pd
    >>> same = pd.DataFrame({"m1": [1, 2, 3, 4], "m2": [2, 4, 6, 8], "m3": [10, 20, 30, 40]})
    >>> round(kendall_w(same)["w"], 6)
    1.0
    """
    complete = ratings.dropna()
    n, m = complete.shape
    out = {"w": np.nan, "chi2": np.nan, "df": n - 1, "p_value": np.nan, "n_objects": n, "n_raters": m}
    if m < 2 or n < 3:
        return out
    values = complete.to_numpy(dtype=float)
    if np.any(np.all(values == values[:1], axis=0)):
        return out                        # a rater who gives every object the same value ranks nothing
    result = stats.friedmanchisquare(*values)          # blocks = raters, treatments = objects
    out.update(w=float(result.statistic / (m * (n - 1))), chi2=float(result.statistic),
               p_value=float(result.pvalue))
    return out


def spread_ratio(personas: np.ndarray, controls: np.ndarray, rng: np.random.Generator,
                 bootstrap: int = 2000) -> dict:
    """SD(personas) / SD(controls) (N − 1) with its 95 % percentile bootstrap interval (each group resampled on
    its own)."""
    personas = personas[np.isfinite(personas)]
    controls = controls[np.isfinite(controls)]
    out = {"sd_personas": np.nan, "sd_controls": np.nan, "ratio": np.nan, "ci_low": np.nan, "ci_high": np.nan,
           "n_personas": len(personas), "n_controls": len(controls)}
    if len(personas) < 2 or len(controls) < 2:
        return out
    sd_p, sd_c = float(np.std(personas, ddof=1)), float(np.std(controls, ddof=1))
    out.update(sd_personas=sd_p, sd_controls=sd_c)
    if sd_c == 0:
        return out
    out["ratio"] = sd_p / sd_c
    boot_p = np.std(personas[rng.integers(0, len(personas), (bootstrap, len(personas)))], axis=1, ddof=1)
    boot_c = np.std(controls[rng.integers(0, len(controls), (bootstrap, len(controls)))], axis=1, ddof=1)
    keep = boot_c > 0
    if keep.sum() >= bootstrap // 2:
        out["ci_low"], out["ci_high"] = (float(q) for q in np.percentile(boot_p[keep] / boot_c[keep], [2.5, 97.5]))
    return out


def rate_difference(category: pd.DataFrame, controls: pd.DataFrame, rng: np.random.Generator,
                    bootstrap: int = 2000) -> dict:
    """A category's pooled rate minus the controls', from per-persona ``count`` and ``cells``: the cluster
    bootstrap interval (personas resampled within each group) and the two-sided permutation p over personas."""
    def pooled(frame):
        return float(frame["count"].sum() / frame["cells"].sum()) if frame["cells"].sum() else np.nan

    rate, control_rate = pooled(category), pooled(controls)
    out = {"rate": rate, "control_rate": control_rate, "difference": rate - control_rate, "diff_ci_low": np.nan,
           "diff_ci_high": np.nan, "p_value": np.nan}
    if len(category) < 1 or len(controls) < 2:
        return out
    counts = np.concatenate([category["count"].to_numpy(float), controls["count"].to_numpy(float)])
    cells = np.concatenate([category["cells"].to_numpy(float), controls["cells"].to_numpy(float)])
    k = len(category)
    pick_a = rng.integers(0, k, (bootstrap, k))
    pick_b = k + rng.integers(0, len(controls), (bootstrap, len(controls)))
    boot = (counts[pick_a].sum(1) / cells[pick_a].sum(1)) - (counts[pick_b].sum(1) / cells[pick_b].sum(1))
    out["diff_ci_low"], out["diff_ci_high"] = (float(q) for q in np.percentile(boot, [2.5, 97.5]))
    observed = abs(out["difference"])
    order = np.argsort(rng.random((bootstrap, len(counts))), axis=1)
    a, b = order[:, :k], order[:, k:]
    permuted = np.abs(counts[a].sum(1) / cells[a].sum(1) - counts[b].sum(1) / cells[b].sum(1))
    out["p_value"] = float((1 + np.sum(permuted >= observed - 1e-12)) / (1 + bootstrap))
    return out


# -- the tables ------------------------------------------------------------------------------------
def _ratings(personas: pd.DataFrame, pair_columns: list[str]):
    """Per outcome: its regular personas' rows and their values as a persona × pair table (complete rows)."""
    regular = personas[personas["persona_group"] == "persona"]
    for outcome, block in regular.groupby("outcome", sort=False):
        labels = block[pair_columns].astype(str).agg(" / ".join, axis=1)
        yield outcome, block, block.assign(pair=labels).pivot_table(index="persona_id", columns="pair",
                                                                    values="value", aggfunc="first").dropna()


def per_persona(wide: pd.DataFrame, long: pd.DataFrame, outcomes: list[str], pair_columns: list[str],
                scale_items: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The ``personas`` table (see the module docstring). ``scale_items`` maps a scale outcome to its keyed
    item answers (same rows as ``wide``), for the item-sampling interval of a single answer per item."""
    rows = []
    meta = ["category", "persona_group"]
    for outcome in (o for o in outcomes if o in RATES):
        counted = long.assign(hit=(long["status"] == RATES[outcome]).astype(int))
        for key, own in counted.groupby([*pair_columns, "persona_id"], sort=False):
            count, n = int(own["hit"].sum()), len(own)
            low, high = wilson_interval(count / n, n)
            rows.append({**dict(zip([*pair_columns, "persona_id"], key)), **{m: own[m].iloc[0] for m in meta},
                         "outcome": outcome, "value": count / n, "n": n, "count": count, "ci_low": low,
                         "ci_high": high, "interval": "Wilson over the persona's cells"})
    for key, block in wide.groupby(pair_columns, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        for outcome in (o for o in outcomes if o not in RATES):
            for persona_id, own in block.groupby("persona_id", sort=False):
                values = pd.to_numeric(own[outcome], errors="coerce").dropna().to_numpy(float)
                base = {**dict(zip(pair_columns, key)), "persona_id": persona_id,
                        **{m: own[m].iloc[0] for m in meta}, "outcome": outcome, "n": len(values), "count": np.nan}
                if not len(values):
                    rows.append({**base, "value": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                                 "interval": "no answer"})
                    continue
                value = float(values.mean())
                if len(values) >= 2:
                    low, high = mean_interval(value, float(np.std(values, ddof=1)), len(values))
                    how = "t over replicates"
                elif outcome in scale_items:
                    items = scale_items[outcome].loc[own.index].mean(axis=0).dropna().to_numpy(float)
                    low, high = (mean_interval(float(items.mean()), float(np.std(items, ddof=1)), len(items))
                                 if len(items) >= 2 else (np.nan, np.nan))
                    # the item-sampling interval is of the item mean; a scale scored as a sum is k times it
                    factor = value / items.mean() if len(items) and items.mean() else 1.0
                    low, high = low * factor, high * factor
                    how = "t over the scale's keyed items (one answer each)"
                else:
                    low, high, how = np.nan, np.nan, "none: one answer (add replicates for an interval)"
                rows.append({**base, "value": value, "ci_low": low, "ci_high": high, "interval": how})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    order = {o: i for i, o in enumerate(outcomes)}
    return out.sort_values("outcome", key=lambda c: c.map(order), kind="stable").reset_index(drop=True)


def category_table(personas: pd.DataFrame, pair_columns: list[str]) -> pd.DataFrame:
    """The ``categories`` table: each category's mean over its personas with a t interval over personas."""
    rows = []
    for key, block in personas.groupby([*pair_columns, "outcome"], sort=False):
        controls = block.loc[block["persona_group"] == "control", "value"].dropna()
        empty = block.loc[block["persona_group"] == "empty", "value"].dropna()
        for category, own in block.groupby("category", sort=False):
            values = own["value"].dropna().to_numpy(float)
            mean = float(values.mean()) if len(values) else np.nan
            sd = float(np.std(values, ddof=1)) if len(values) >= 2 else np.nan
            low, high = mean_interval(mean, sd, len(values)) if len(values) >= 2 else (np.nan, np.nan)
            rows.append({**dict(zip([*pair_columns, "outcome"], key)), "category": category,
                         "persona_group": own["persona_group"].iloc[0], "n_personas": len(values), "mean": mean,
                         "sd": sd, "ci_low": low, "ci_high": high,
                         "controls_mean": float(controls.mean()) if len(controls) else np.nan,
                         "empty_value": float(empty.iloc[0]) if len(empty) else np.nan,
                         "difference_from_controls": mean - float(controls.mean()) if len(controls) else np.nan})
    return pd.DataFrame(rows)


def variation_table(personas: pd.DataFrame, pair_columns: list[str], seed: int, bootstrap: int) -> pd.DataFrame:
    """The ``variation`` table: SD across personas over SD across controls, per category and over all."""
    rows = []
    for key, block in personas.groupby([*pair_columns, "outcome"], sort=False):
        controls = block.loc[block["persona_group"] == "control", "value"].to_numpy(float)
        regular = block[block["persona_group"] == "persona"]
        groups = [(ALL_PERSONAS, regular)] + list(regular.groupby("category", sort=False))
        for category, own in groups:
            rng = np.random.default_rng([seed, len(rows)])
            result = spread_ratio(own["value"].to_numpy(float), controls, rng, bootstrap)
            rows.append({**dict(zip([*pair_columns, "outcome"], key)), "category": category, **result,
                         "beyond_noise": bool(result["ci_low"] > 1) if np.isfinite(result["ci_low"]) else False,
                         "convention": f"SD with N - 1; 95 % percentile bootstrap, {bootstrap} resamples of "
                                       "personas and of controls"})
    return pd.DataFrame(rows)


def within_tests(wide: pd.DataFrame, long: pd.DataFrame, outcomes: list[str], pair_columns: list[str],
                 scale_items: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The ``within_tests`` table: Friedman (scales, items) or Cochran's Q (rates), among personas and among
    controls separately."""
    rows = []
    cells_of = {(k if isinstance(k, tuple) else (k,)): v for k, v in long.groupby(pair_columns, sort=False)}
    for key, block in wide.groupby(pair_columns, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        cells = cells_of.get(key, long.iloc[:0])
        for outcome in outcomes:
            for group in ("persona", "control"):
                label = {"persona": "personas", "control": "controls"}[group]
                if outcome in RATES:
                    own = cells[cells["persona_group"] == group]
                    table = (own.assign(hit=(own["status"] == RATES[outcome]).astype(float),
                                        block=own["instrument"] + "." + own["item_id"] + "#"
                                        + own["replicate"].astype(str))
                             .pivot_table(index="block", columns="persona_id", values="hit", aggfunc="first"))
                    result, blocks = cochran_q(table), "items x replicates"
                elif outcome in scale_items:
                    own = block["persona_group"] == group
                    items = scale_items[outcome].loc[block.index[own.to_numpy()]]
                    items = items.groupby(block.loc[own, "persona_id"].to_numpy()).mean()
                    result, blocks = friedman(items.T), "the scale's keyed items (mean over replicates)"
                else:
                    own = block[block["persona_group"] == group]
                    table = own.pivot_table(index="replicate", columns="persona_id", values=outcome, aggfunc="first")
                    result, blocks = friedman(table), "replicates"
                rows.append({**dict(zip(pair_columns, key)), "outcome": outcome, "group": label,
                             "blocks": blocks, **result})
    return pd.DataFrame(rows)


def refusal_table(personas: pd.DataFrame, pair_columns: list[str], seed: int, bootstrap: int) -> pd.DataFrame:
    """The ``refusals`` table: each category's refusal (invalid) rate against the controls'."""
    from statsmodels.stats.multitest import multipletests

    rows = []
    rates = personas[personas["outcome"].isin(list(RATES))].rename(columns={"n": "cells"})
    for key, block in rates.groupby([*pair_columns, "outcome"], sort=False):
        controls = block[block["persona_group"] == "control"]
        start = len(rows)
        for category, own in block[block["persona_group"] != "control"].groupby("category", sort=False):
            rng = np.random.default_rng([seed, 7, len(rows)])
            result = rate_difference(own, controls, rng, bootstrap)
            low, high = wilson_interval(result["rate"], float(own["cells"].sum()))
            rows.append({**dict(zip([*pair_columns, "outcome"], key)), "category": category,
                         "n_personas": len(own), "cells": int(own["cells"].sum()), "count": int(own["count"].sum()),
                         "ci_low": low, "ci_high": high, **result})
        tested = [i for i in range(start, len(rows)) if np.isfinite(rows[i]["p_value"])]
        adjusted = multipletests([rows[i]["p_value"] for i in tested], method="holm")[1] if tested else []
        for i in range(start, len(rows)):
            rows[i]["p_holm"] = np.nan
        for i, p in zip(tested, adjusted):
            rows[i]["p_holm"] = float(p)
    out = pd.DataFrame(rows)
    if len(out):
        out["convention"] = (f"rate interval: Wilson over cells; difference: cluster bootstrap over personas "
                             f"({bootstrap}); p: permutation over personas ({bootstrap}), Holm over categories")
    return out


def agreement_table(personas: pd.DataFrame, pair_columns: list[str], seed: int, bootstrap: int) -> pd.DataFrame:
    """The ``agreement`` table: Kendall's τ-b between every two pairs, Kendall's W across three or more."""
    rows = []
    for outcome, _, ratings in _ratings(personas, pair_columns):
        pairs = list(ratings.columns)
        rng = np.random.default_rng([seed, 11, len(rows)])
        picks = rng.integers(0, len(ratings), (bootstrap, len(ratings)))
        for a, b in itertools.combinations(pairs, 2):
            x, y = ratings[a].to_numpy(float), ratings[b].to_numpy(float)
            tau, p = stats.kendalltau(x, y) if len(x) >= 3 else (np.nan, np.nan)
            boot = [stats.kendalltau(x[i], y[i])[0] for i in picks] if len(x) >= 3 else []
            boot = np.array([t for t in boot if np.isfinite(t)])
            low, high = np.percentile(boot, [2.5, 97.5]) if len(boot) >= bootstrap // 2 else (np.nan, np.nan)
            rows.append({"outcome": outcome, "statistic": "Kendall tau-b", "pairs": f"{a} vs {b}",
                         "value": float(tau), "ci_low": float(low), "ci_high": float(high), "p_value": float(p),
                         "n_personas": len(x), "n_pairs": 2})
        if len(pairs) >= 3:
            result = kendall_w(ratings)
            boot = np.array([kendall_w(pd.DataFrame(ratings.to_numpy()[i]))["w"] for i in picks])
            boot = boot[np.isfinite(boot)]
            low, high = np.percentile(boot, [2.5, 97.5]) if len(boot) >= bootstrap // 2 else (np.nan, np.nan)
            rows.append({"outcome": outcome, "statistic": "Kendall W", "pairs": ", ".join(pairs),
                         "value": result["w"], "ci_low": float(low), "ci_high": float(high),
                         "p_value": result["p_value"], "n_personas": result["n_objects"], "n_pairs": len(pairs)})
    out = pd.DataFrame(rows)
    if len(out):
        out["convention"] = f"regular personas only; 95 % percentile bootstrap over personas ({bootstrap})"
    return out


def extremes_table(personas: pd.DataFrame, pair_columns: list[str], top_share: float = 0.1) -> pd.DataFrame:
    """The ``extremes`` table: regular personas in the top (bottom) ``top_share`` of an outcome in every pair."""
    rows = []
    for outcome, block, values in _ratings(personas, pair_columns):
        if values.empty or values.nunique().max() < 2:
            continue
        k = max(1, int(round(top_share * len(values))))
        categories = block.drop_duplicates("persona_id").set_index("persona_id")["category"]
        for position, ascending in (("top", False), ("bottom", True)):
            ranks = values.rank(ascending=ascending, method="max")     # a tie counts against: discrete items
            everywhere = ranks.index[(ranks <= k).all(axis=1)]
            for persona_id in everywhere:
                rows.append({"outcome": outcome, "position": position, "persona_id": persona_id,
                             "category": categories[persona_id], "k": k, "n_personas": len(values),
                             **{f"value {pair}": float(values.loc[persona_id, pair]) for pair in values.columns},
                             **{f"rank {pair}": int(ranks.loc[persona_id, pair]) for pair in values.columns}})
    return pd.DataFrame(rows)


def default_outcomes(wide: pd.DataFrame, scales: list[str]) -> list[str]:
    """The given scale scores (and items) the run has, then the refusal and invalid rates."""
    return [s for s in scales if s in wide.columns] + list(RATES)


def persona_effects(wide: pd.DataFrame, long: pd.DataFrame, *, scale_items: dict[str, pd.DataFrame],
                    outcomes: list[str] | None = None, scales: list[str] = (), pair_columns=("model",),
                    seed: int = 0, bootstrap: int = 2000, top_share: float = 0.1) -> dict[str, pd.DataFrame]:
    """The tables of Araujo & Roth's design on one run (see the module docstring).

    Parameters
    ----------
    wide : DataFrame
        One row per persona × pair × replicate: ``persona_id``, ``category``, ``persona_group``, the pair
        columns, ``replicate`` and the outcome columns (item answers and scale scores).
    long : DataFrame
        One row per cell: the same persona and pair columns, ``instrument``, ``item_id``, ``replicate`` and
        ``status``.
    scale_items : dict
        Each scale outcome's keyed item answers (a DataFrame on ``wide``'s index, one column per item).
    outcomes : list of str, optional
        Scale or item ids of ``wide`` and ``refused`` / ``invalid``; default ``scales`` and both rates.
    scales : list of str
        The default outcomes of ``wide``: scale scores (and the items of instruments without scales).
    seed, bootstrap : int
        The bootstrap's and permutations' seed and number of resamples.

    Returns
    -------
    dict of DataFrame
        ``personas``, ``categories``, ``variation``, ``within_tests``, ``refusals``, ``agreement``,
        ``extremes``.
    """
    for column in ("persona_group", "category"):
        if column not in wide.columns:
            raise SpecError("the run's personas have no persona groups: persona effects need a catalogue "
                            "population with control personas", where="run",
                            fix="run a study whose population is a catalogue (kind: catalogue) with controls, "
                                "e.g. studies/persona_behavior.yaml")
    if not (wide["persona_group"] == "control").any():
        raise SpecError("the run has no control personas to measure paraphrase noise against", where="run",
                        fix="select controls from the catalogue (population.controls: all, or a number of at "
                            "least 2)")
    pair_columns = [c for c in pair_columns if c in wide.columns]
    outcomes = list(outcomes) if outcomes else default_outcomes(wide, list(scales))
    unknown = [o for o in outcomes if o not in RATES and o not in wide.columns]
    if unknown:
        choices = [c for c in wide.columns if c in scale_items or c in set(long["item_id"])]
        raise SpecError(f"outcome {unknown[0]!r} is not in the run", where="--outcome",
                        fix=f"use a scale or item id ({', '.join(choices[:12])}{', ...' if len(choices) > 12 else ''})"
                            " or refused / invalid")
    personas = per_persona(wide, long, outcomes, pair_columns, scale_items)
    return {"personas": personas,
            "categories": category_table(personas, pair_columns),
            "variation": variation_table(personas, pair_columns, seed, bootstrap),
            "within_tests": within_tests(wide, long, outcomes, pair_columns, scale_items),
            "refusals": refusal_table(personas, pair_columns, seed, bootstrap),
            "agreement": agreement_table(personas, pair_columns, seed, min(bootstrap, 1000)),
            "extremes": extremes_table(personas, pair_columns, top_share)}


__all__ = ["ALL_PERSONAS", "RATES", "agreement_table", "category_table", "cochran_q", "default_outcomes",
           "extremes_table", "friedman", "kendall_w", "per_persona", "persona_effects", "rate_difference",
           "refusal_table", "spread_ratio", "variation_table", "within_tests"]
