"""Tables for papers: each comparison table as great_tables (R's gt) renders it, in LaTeX and in HTML.

Numbers are rounded for reading (2 decimals, counts as integers, a dash for missing), a long text shared by
every row (the estimator's description) moves to a note, and every table carries its conventions as source
notes: the estimator, what n counts, and what its intervals are (:data:`TABLE_NOTES`). The CSV beside each
keeps every column at full precision.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from great_tables import GT

from ..files import write_atomic

TABLE_NOTES = {
    "anchors": ["value with its bootstrap 95 % interval (ci_low, ci_high); floors: uniform, marginal and shuffled "
                "answers; ceiling: n humans drawn from the baseline against the other N − n; normalized = "
                "(value − best floor) / (ceiling − best floor)"],
    "items": ["n_human, n_silicon: respondents who answered the item (Kish effective n when weighted); means "
              "with their 95 % t intervals; d: silicon − human standardised mean "
              "difference (pooled SD, N − 1) with its Hedges–Olkin 95 % interval; representativeness: "
              "1 − W₁ / (K − 1) (Santurkar et al. 2023); js_distance: Jensen–Shannon distance (base 2)"],
    "scales": ["scale scores as each instrument scores them (mean or sum of the answered items, reverse-keyed "
               "items as min + max − answer); d with its 95 % interval; alpha: Cronbach's alpha (n − 1); omega: "
               "omega total of a one-factor model; ordinal: on polychoric correlations; estimator per row"],
    "structure": ["congruence: Tucker's φ of the one-factor loadings, human against silicon; correlation_srmr: "
                  "the root mean squared difference of the item correlations; intervals in `anchors`"],
    "invariance": ["configural → metric → scalar → strict, human against silicon as two groups; a level fails "
                   "when ΔCFI ≤ −.010 and ΔRMSEA ≥ .015 or ΔSRMR ≥ .030 / .010 (Chen 2007); under MLR and WLSMV "
                   "chisq, cfi and rmsea are the scaled ones; RMSEA with its 90 % interval; missing answers "
                   "(refused, invalid, \"Don't know\", the humans' blanks): full-information ML for ML/MLR, pairwise "
                   "for WLSMV (lavaan's missing = \"ml\" / \"pairwise\") unless listwise is named in `missing`; "
                   "missing_share_*: each source's share of missing answers"],
    "missing": ["per pair and item: the silicon cells and the shares refused, invalid, \"Don't know\" and failed "
                "(each missing in the fits), beside the humans' share of blank answers"],
    "subgroups": ["per persona attribute category and outcome: n, means, d (silicon − human) with its 95 % "
                  "interval; representativeness for items"],
    "patterns": ["d of each contrast between categories, in humans and in silicon, with 95 % intervals; sign and "
                 "size reproduced: the same sign / |d_silicon − d_human| ≤ 0.2"],
    "response_styles": ["mean index per respondent; d: silicon − human with the Hedges–Olkin 95 % interval; "
                        "flag: |d| ≥ 0.5"],
    "variance": ["between-person variance of each outcome (N − 1); ratio silicon / human with its F-based 95 % "
                 "interval and p; compressed / inflated: the interval excludes 1"],
    "nonresponse": ["rates of refused, invalid and failed cells per persona category; chi-square test of "
                    "independence with Cramér's V; small_expected: an expected count below 5"],
    "numeric": ["numeric items, special codes (\"Don't know\") missing; n: Kish effective n; means with 95 % t "
                "intervals; medians: lower weighted medians, percentile-bootstrap intervals; sd_ratio: silicon / "
                "human; w1: Wasserstein-1 distance in the item's units (bootstrap interval); ks: largest gap of "
                "the weighted ECDFs; heaping_k: share of answers at multiples of k; w1_normalized = (floor − w1) / "
                "(floor − ceiling), floor: answers uniform over the allowed values, ceiling: n_silicon humans "
                "against the other humans; w1_subgroups: mean W1 within persona categories, its marginal floor "
                "(silicon answers drawn from all humans) and split-half ceiling; top-coded items compared "
                "top-coded"],
    "selections": ["check-all items: each option's selection rate (weighted; Wilson 95 % intervals at Kish's n), "
                   "the difference with Newcombe's interval; per item (option 'number chosen') the mean number "
                   "chosen with d, and the distance (mean |rate difference| over options) between random "
                   "selections (floor) and n_silicon humans against the rest (ceiling)"],
    "ranks": ["rank items: share of answers ranking each option and its mean place where ranked (t interval); per "
              "item (option 'all') the distance (mean |place difference| / places) between random orderings "
              "(floor) and n_silicon humans against the rest (ceiling)"],
    "knowledge": ["proportion correct among those who answered (\"Don't know\" left out), weighted; n: Kish "
                  "effective n; Wilson score 95 % intervals; diff: silicon − human with Newcombe's 95 % interval"],
}


def gt_table(frame: pd.DataFrame, title: str, notes: list[str] | tuple = (), decimals: int = 2) -> GT:
    """A great_tables table of ``frame`` rounded for reading, with ``notes`` under it."""
    frame = frame.reset_index() if not isinstance(frame.index, pd.RangeIndex) else frame.copy()
    notes = list(notes)
    for column in [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]:
        values = frame[column].dropna().unique()
        if len(frame) > 1 and len(values) == 1 and len(str(values[0])) > 40:     # one long text: a note
            notes.append(f"{column}: {values[0]}")
            frame = frame.drop(columns=column)
    for column in frame.columns:
        series = frame[column]
        if (pd.api.types.is_float_dtype(series) and str(column).startswith(("n_", "n", "cells", "df"))
                and series.dropna().apply(float.is_integer).all()):
            frame[column] = series.astype("Int64")          # counts print as integers
    table = GT(frame).tab_header(title=title)
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    if floats:
        table = table.fmt_number(columns=floats, decimals=decimals)
    ints = [c for c in frame.columns if pd.api.types.is_integer_dtype(frame[c])]
    if ints:
        table = table.fmt_integer(columns=ints)
    for note in notes:
        table = table.tab_source_note(note)
    return table.sub_missing(missing_text="—")


def write_paper_tables(tables: dict[str, pd.DataFrame], folder: Path, extra_notes: list[str] = ()) -> list[Path]:
    """``<name>.tex`` and ``<name>.html`` for each table (written whole); returns the files written."""
    written = []
    for name, frame in tables.items():
        if frame.empty:
            continue
        table = gt_table(frame, name.replace("_", " ").capitalize(), [*TABLE_NOTES.get(name, []), *extra_notes])
        for suffix, text in ((".tex", table.as_latex()), (".html", table.as_raw_html())):
            path = folder / f"{name}{suffix}"
            write_atomic(path, text)
            written.append(path)
    return written


__all__ = ["TABLE_NOTES", "gt_table", "write_paper_tables"]
