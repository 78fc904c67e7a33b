"""Drawing personas from a population's joint distribution or its real respondents.

Three methods, each reproducible from its numpy Generator:

``quota``
    Exact largest-remainder allocation of n over the strata (cells) of the
    joint table: every cell gets floor(n·share) or one more.
``stratified``
    Proportional (largest-remainder) allocation of n over strata formed by a
    few attributes, then random draws of cells within each stratum with
    probability proportional to their share (the other attributes follow the
    population's conditional distribution).
``microdata``
    Weighted resampling (with replacement, probability ∝ survey weight) of
    whole real respondents, so every association among their attributes is
    kept as it is in the data; ``source_row`` names the respondent drawn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .quota_allocation import largest_remainder


def quota(joint: pd.DataFrame, attributes: list[str], n: int, rng: np.random.Generator) -> pd.DataFrame:
    counts = largest_remainder(joint["share"].to_numpy(), n, rng)
    return joint.loc[joint.index.repeat(counts), attributes].reset_index(drop=True)


def stratified(joint: pd.DataFrame, attributes: list[str], strata: list[str], n: int,
               rng: np.random.Generator) -> pd.DataFrame:
    groups = joint.groupby(strata, sort=False, observed=True)
    stratum_shares = groups["share"].sum()
    counts = largest_remainder(stratum_shares.to_numpy(), n, rng)
    parts = []
    for (_, cells), count in zip(groups, counts):
        if count == 0:
            continue
        p = cells["share"].to_numpy() / cells["share"].sum()
        picks = rng.choice(len(cells), size=count, p=p)
        parts.append(cells.iloc[picks][attributes])
    return pd.concat(parts, ignore_index=True)


def microdata(profiles: pd.DataFrame, attributes: list[str], n: int, rng: np.random.Generator) -> pd.DataFrame:
    p = profiles["weight"].to_numpy() / profiles["weight"].sum()
    picks = rng.choice(len(profiles), size=n, p=p, replace=True)
    return profiles.iloc[picks][attributes + ["source_row"]].reset_index(drop=True)
