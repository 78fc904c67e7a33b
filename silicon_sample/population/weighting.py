"""Survey weighting with the ``balance`` package: raking, post-stratification, effective sample size.

Raking (iterative proportional fitting) is balance's ``rake``; post-stratification
is balance's ``poststratify``. Nothing here hand-rolls IPF.

Kish's effective sample size and design effect of weights w_1..w_n:

    n_eff = (Σ w)² / Σ w²          deff = n / n_eff = 1 + CV²(w)

References: Kish, L. (1965). Survey Sampling. Wiley. Sarig, Galili & Eilat
(2023), balance — a Python package for balancing biased data samples.
"""

from __future__ import annotations

import contextlib
import logging

import numpy as np
import pandas as pd

from ..errors import SpecError


@contextlib.contextmanager
def _quiet_balance():
    """balance logs a banner and progress (INFO, WARNING); keep them off the user's terminal."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


def _rake():
    with _quiet_balance():
        from balance.weighting_methods.rake import rake
    return rake


def _margins_frame(margins: dict[str, dict[str, float]]) -> tuple[pd.DataFrame, pd.Series]:
    """A target frame whose weighted margins are exactly ``margins`` (their independence product).

    balance can take ``target_margins`` directly, but it realises them as a
    synthetic frame of at most 10,000 rows, which rounds shares to 1e-4.
    """
    frame = pd.MultiIndex.from_product([list(m) for m in margins.values()], names=list(margins)).to_frame(index=False)
    weights = np.ones(len(frame))
    for variable, target in margins.items():
        weights = weights * frame[variable].map(target).to_numpy(dtype=float)
    return frame.astype(str), pd.Series(weights)


def rake_table(seed: pd.DataFrame, seed_weights: pd.Series, margins: dict[str, dict[str, float]],
               max_iteration: int = 1000) -> tuple[pd.Series, dict]:
    """Rake ``seed`` (one row per cell) to ``margins`` ({variable: {category: share}}).

    Returns the raked cell shares (summing to 1) and a convergence report:
    ``converged``, ``iterations``, ``max_margin_error`` (largest absolute gap
    between a raked margin and its target, in proportion points).
    """
    rake = _rake()
    target, target_weights = _margins_frame(margins)
    with _quiet_balance():
        result = rake(seed.astype(str).reset_index(drop=True), seed_weights.reset_index(drop=True), target,
                      target_weights, transformations=None, na_action="drop",
                      max_iteration=max_iteration, convergence_rate=1e-10, rate_tolerance=1e-14)
    shares = pd.Series(np.asarray(result["weight"], dtype=float), index=seed.index)
    shares /= shares.sum()
    error = 0.0
    for variable, target in margins.items():
        achieved = shares.groupby(seed[variable].to_numpy()).sum()
        for category, share in target.items():
            error = max(error, abs(achieved.get(category, 0.0) - share))
    model = result.get("model", {})
    iterations = model.get("iterations")
    report = {"method": "rake (balance)", "converged": bool(model.get("converged", True)) and bool(error < 1e-6),
              "iterations": int(len(iterations)) if iterations is not None else None,
              "max_margin_error": float(error)}
    return shares, report


def kish_effective_n(weights) -> float:
    """Kish's effective sample size (Σw)² / Σw² of weights (NaN weights are left out).

    >>> kish_effective_n([1, 1, 1, 1]), kish_effective_n([2, 1, 1])
    (4.0, 2.6666666666666665)
    """
    w = np.asarray(weights, dtype=float)
    w = w[~np.isnan(w)]
    return kish_from_totals(w.sum(), np.sum(w ** 2))


def kish_from_totals(total: float, total_squared: float) -> float:
    """Kish's effective n from Σw and Σw² (for weights summed in chunks): (Σw)² / Σw²."""
    return float(total ** 2 / total_squared)


def weight_summary(weights) -> dict:
    """Kish effective sample size and design effect (see module docstring)."""
    w = np.asarray(weights, dtype=float)
    ess = kish_effective_n(w)
    return {"n": int(w.size), "kish_ess": float(ess), "design_effect": float(w.size / ess),
            "min": float(w.min()), "max": float(w.max()), "cv": float(w.std() / w.mean())}


def raking_weights(sample: pd.DataFrame, target_margins: dict[str, dict[str, float]],
                   variables: list[str] | None = None) -> pd.Series:
    """Raking weights making ``sample``'s margins equal the target's; they average 1.

    Raises a clear error when the sample lacks a category the target has (it
    cannot be weighted up from nothing).
    """
    variables = variables or list(target_margins)
    margins = {v: target_margins[v] for v in variables}
    for variable, target in margins.items():
        if variable not in sample.columns:
            raise SpecError(f"the sample has no column {variable!r}", where="weighting.variables")
        present = set(sample[variable].astype(str))
        absent = [c for c, share in target.items() if share > 0 and c not in present]
        if absent:
            raise SpecError(f"no persona has {variable} = {', '.join(map(repr, absent))}, which the target has",
                            where="weighting", fix="draw a larger sample, or weight on fewer or coarser variables")
    rake = _rake()
    frame = sample[variables].astype(str).reset_index(drop=True)
    target, target_weights = _margins_frame({v: {c: s for c, s in m.items() if s > 0} for v, m in margins.items()})
    with _quiet_balance():
        result = rake(frame, pd.Series(np.ones(len(frame))), target, target_weights,
                      transformations=None, na_action="drop", max_iteration=1000,
                      convergence_rate=1e-10, rate_tolerance=1e-14)
    weights = np.asarray(result["weight"], dtype=float)
    return pd.Series(weights / weights.mean(), index=sample.index, name="weight")


def poststratification_weights(sample: pd.DataFrame, target_joint: pd.DataFrame, variables: list[str]) -> pd.Series:
    """Post-stratification weights: target share of each cell over its share in the sample (mean 1).

    ``target_joint`` has the ``variables`` and a ``share`` column. Every target
    cell must occur in the sample.
    """
    with _quiet_balance():
        from balance.weighting_methods.poststratify import poststratify
    target = target_joint.groupby(variables, observed=True)["share"].sum().reset_index()
    target = target[target["share"] > 0]
    cells = sample[variables].astype(str).apply(tuple, axis=1)
    missing = set(target[variables].astype(str).apply(tuple, axis=1)) - set(cells)
    if missing:
        raise SpecError(f"{len(missing)} cell(s) of the target have no persona, e.g. {sorted(missing)[0]}",
                        where="weighting", fix="use raking, or post-stratify on fewer variables")
    with _quiet_balance():
        result = poststratify(sample[variables].astype(str).reset_index(drop=True), pd.Series(np.ones(len(sample))),
                              target[variables].astype(str).reset_index(drop=True),
                              target["share"].reset_index(drop=True), transformations=None)
    weights = np.asarray(result["weight"], dtype=float)
    return pd.Series(weights / weights.mean(), index=sample.index, name="weight")
