"""Drift: two runs of the same study (another model version, another date) compared answer by answer.

The runs share their personas, styles, cue types and seeds, so each silicon respondent (persona × style
× cue type × model × replicate) answers in both, and the comparison is paired. Per model × style × cue
type and per item and scale:

- ``mean_a``, ``mean_b`` and ``difference`` = mean_b − mean_a over the respondents answering in both;
- ``sd_difference`` — the SD (N − 1) of the respondents' own differences, and the 95 % interval
  difference ± t₀.₉₇₅,n−1 · sd / √n: the noise of asking the same personas again (test–retest noise,
  with the temperature's sampling and nothing else changed);
- ``drifted`` — the interval excludes 0: the runs differ by more than asking again explains;
- ``representativeness`` — OpinionQA's R between the two runs' answer distributions of an item.

The model versions each run recorded (its manifest, and the versions its server reported with the
answers) are returned beside the table by :func:`silicon_sample.comparison.runs.drift_between_runs`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..tidy.results import PAIR_COLUMNS, with_source_columns
from .item_fidelity import option_distribution, representativeness

RESPONDENT = ["persona_id", *PAIR_COLUMNS, "replicate"]


def drift_table(wide_a: pd.DataFrame, wide_b: pd.DataFrame, outcomes: list[str],
                options: dict[str, list[int]] | None = None) -> pd.DataFrame:
    """Per pair × outcome: paired means, difference with its interval, ``drifted``; see the module docstring."""
    options = options or {}
    wide_a, wide_b = with_source_columns(wide_a), with_source_columns(wide_b)
    joined = wide_a[RESPONDENT + outcomes].merge(wide_b[RESPONDENT + outcomes], on=RESPONDENT, suffixes=("_a", "_b"))
    rows = []
    for pair, block in joined.groupby(list(PAIR_COLUMNS), sort=False):
        for outcome in outcomes:
            a = pd.to_numeric(block[f"{outcome}_a"], errors="coerce").to_numpy(dtype=float)
            b = pd.to_numeric(block[f"{outcome}_b"], errors="coerce").to_numpy(dtype=float)
            both = np.isfinite(a) & np.isfinite(b)
            n = int(both.sum())
            row = {**dict(zip(PAIR_COLUMNS, pair)), "outcome": outcome, "n": n, "mean_a": np.nan, "mean_b": np.nan,
                   "difference": np.nan, "sd_difference": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                   "drifted": False, "representativeness": np.nan}
            if n >= 2:
                diff = b[both] - a[both]
                sd = float(diff.std(ddof=1))
                half = stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
                row.update(mean_a=float(a[both].mean()), mean_b=float(b[both].mean()), difference=float(diff.mean()),
                           sd_difference=sd, ci_low=float(diff.mean() - half), ci_high=float(diff.mean() + half))
                row["drifted"] = bool(row["ci_low"] > 0 or row["ci_high"] < 0)
                if outcome in options:
                    row["representativeness"] = representativeness(option_distribution(a[both], options[outcome]),
                                                                   option_distribution(b[both], options[outcome]))
            rows.append(row)
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).set_index([*PAIR_COLUMNS, "outcome"])
