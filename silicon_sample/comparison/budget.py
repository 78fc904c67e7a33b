"""Planning a mixed study's budget: how many humans and how many silicon answers (ppi_py's power analysis).

With a human answer costing :math:`c_Y` and a silicon answer :math:`c_{\\hat Y}` (a labelled human's twin costs
one too), and ρ the correlation between a human's answer and the twin's, PPI++ with n humans and N silicon
personas has the precision of :math:`n_{\\mathrm{eff}} = n(n+N)/(n+(1-\\rho^2)N)` humans alone. For a budget B,
``ppi_py.ppi_power`` finds the split (n, N) with the largest :math:`n_{\\mathrm{eff}}`; for a target precision
(an effective n), the cheapest split. The optimum with cost ratio :math:`\\gamma = c_{\\hat Y}/c_Y` spends per
classical-equivalent respondent :math:`c_Y(1 - \\rho^2 + \\gamma\\rho^2 + 2\\sqrt{\\gamma\\rho^2(1-\\rho^2)})`, and
uses humans only (N = 0) when that is not below :math:`c_Y` (Broska, Howes & van Loon 2025, the mixed subjects
design; ppi_py ``ppi_power_analysis``). A target interval width W for a mean with human SD σ asks for
:math:`n_{\\mathrm{eff}} = (2 z_{0.975} \\sigma / W)^2`, and a plan's expected width is
:math:`2 z_{0.975}\\sigma/\\sqrt{n_{\\mathrm{eff}}}`.

When silicon answers cost nothing (the embedded model) every dollar goes to humans, and N is as large as
``max_silicon`` allows: ppi_py's optimum is not finite then.

Reference: Broska, D., Howes, M., & van Loon, A. (2025). The mixed subjects design: Treating large language
models as (potentially) informative observations. *Sociological Methods & Research*.

Examples
--------
>>> plan = split_budget(0.6, cost_human=5.0, cost_silicon=0.05, budget=1000)
>>> plan["n_humans"], plan["n_silicon"] > 0, plan["effective_n"] > 1000 / 5.0
(186, True, True)
"""

from __future__ import annotations

import math
import warnings

with warnings.catch_warnings():     # ppi_py sets warnings.simplefilter("ignore") on import: keep it to itself
    import ppi_py

from ..errors import SpecError
from .calibration import effective_n

Z_95 = 1.959963984540054


def split_budget(rho: float, *, cost_human: float, cost_silicon: float, budget: float | None = None,
                 target_n: float | None = None, max_silicon: int = 100_000) -> dict:
    """The split of a ``budget`` (or the cheapest split reaching ``target_n`` effective humans) between humans
    and silicon answers, for correlation ``rho`` (``ppi_py.ppi_power``; ρ < 0 is taken as 0, as PPI++ clips λ)."""
    if not cost_human > 0:
        raise SpecError(f"the cost of a human answer must be above 0, got {cost_human}", where="--cost-human",
                        fix="give what one respondent costs, e.g. --cost-human 5")
    if not cost_silicon >= 0:
        raise SpecError(f"the cost of a silicon answer must be 0 or more, got {cost_silicon}",
                        where="--cost-silicon", fix="give what one persona's answers cost, e.g. --cost-silicon 0.01")
    rho = min(max(float(rho), 0.0), 1 - 1e-9) if math.isfinite(rho) else 0.0
    if cost_silicon == 0:
        n = math.floor(budget / cost_human) if budget is not None else _humans_for(target_n, rho, max_silicon)
        return {"n_humans": n, "n_silicon": max_silicon, "cost": n * cost_human,
                "effective_n": effective_n(n, max_silicon, rho), "rho": rho}
    result = ppi_py.ppi_power(rho, cost_X=0.0, cost_Y=cost_human, cost_Yhat=cost_silicon, budget=budget,
                              effective_n=target_n)
    n, big_n = int(result["n"]), max(int(result["N"]), 0)

    def cost(n: int, big_n: int) -> float:
        twin_cost = cost_silicon if big_n else 0.0       # humans only: no twins to pay for
        return float(n * (cost_human + twin_cost) + big_n * cost_silicon)

    if budget is not None:      # ppi_py rounds n and N to whole respondents: never plan past the budget
        while cost(n, big_n) > budget + 1e-9 and big_n > 0:
            big_n -= max(1, math.ceil((cost(n, big_n) - budget) / cost_silicon))
            big_n = max(big_n, 0)
        while cost(n, big_n) > budget + 1e-9 and n > 0:
            n -= 1
    return {"n_humans": n, "n_silicon": big_n, "cost": cost(n, big_n), "effective_n": effective_n(n, big_n, rho),
            "rho": rho}


def _humans_for(target_n: float, rho: float, big_n: int) -> int:
    """Fewest humans n with n(n + N)/(n + (1 − ρ²)N) ≥ ``target_n`` for N = ``big_n`` free silicon answers."""
    n = 1
    while effective_n(n, big_n, rho) < target_n:
        n *= 2
    low, high = n // 2, n
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if effective_n(middle, big_n, rho) < target_n else (low, middle)
    return high


def width_for(sd: float, n: float) -> float:
    """The width 2·z₀.₉₇₅·σ/√n of a 95 % interval of a mean from n respondents."""
    return 2 * Z_95 * sd / math.sqrt(n) if n and n > 0 else float("nan")


def n_for_width(sd: float, width: float) -> float:
    """The respondents whose 95 % interval of a mean is ``width`` wide: (2·z₀.₉₇₅·σ/W)²."""
    if not width > 0:
        raise SpecError(f"the target width must be above 0, got {width}", where="--target-width",
                        fix="give the width of the interval you need, in the answer's units, e.g. 0.2")
    return (2 * Z_95 * sd / width) ** 2


def plan_row(rho: float, sd: float, *, cost_human: float, cost_silicon: float, budget: float | None = None,
             target_width: float | None = None, max_silicon: int = 100_000) -> dict:
    """One plan: the split, its cost and expected interval width, beside the humans-only study (for a budget: as
    many humans as it buys; for a target width: as many as that width needs, and their cost)."""
    if (budget is None) == (target_width is None):
        raise SpecError("give a budget or a target width (not both)", where="calibrate --plan",
                        fix="add --budget DOLLARS or --target-width W")
    if budget is not None and not budget > 0:
        raise SpecError(f"the budget must be above 0, got {budget}", where="--budget", fix="e.g. --budget 2000")
    target_n = n_for_width(sd, target_width) if target_width is not None else None
    plan = split_budget(rho, cost_human=cost_human, cost_silicon=cost_silicon, budget=budget,
                        target_n=target_n, max_silicon=max_silicon)
    classical_n = math.floor(budget / cost_human) if budget is not None else math.ceil(target_n)
    return {**plan, "width": width_for(sd, plan["effective_n"]), "human_sd": sd,
            "humans_only_n": classical_n, "humans_only_cost": classical_n * cost_human,
            "humans_only_width": width_for(sd, classical_n)}


def plan_table(calibration, silicon_costs: dict, *, cost_human: float, budget: float | None = None,
               target_width: float | None = None, max_silicon: int = 100_000):
    """A plan per pair × mean (items and scales) of a calibration table: ρ and the humans' SD from its labelled
    sample (the SD from the classical interval: (high − low)·√n / (2·z), ppi_py's divisor n), the pair's cost of
    a silicon answer from ``silicon_costs`` (keyed by model), and :func:`plan_row`."""
    import pandas as pd

    means = calibration[calibration.index.get_level_values("estimand") == "mean"]
    means = means[means["rho"].notna()]
    rows = []
    for key, row in means.iterrows():
        names = dict(zip(calibration.index.names, key))
        sd = (row["classical_high"] - row["classical_low"]) * math.sqrt(row["n_humans"]) / (2 * Z_95)
        cost = silicon_costs[names["model"]]
        rows.append({**{k: v for k, v in names.items() if k in ("run", "model", "persona_style", "cue_type",
                                                                 "perturbation", "outcome")},
                     "cost_human": cost_human, "cost_silicon": cost,
                     **plan_row(row["rho"], sd, cost_human=cost_human, cost_silicon=cost, budget=budget,
                                target_width=target_width, max_silicon=max_silicon)})
    keys = [k for k in ("run", "model", "persona_style", "cue_type", "perturbation", "outcome")
            if rows and k in rows[0]]
    return pd.DataFrame(rows).set_index(keys) if rows else pd.DataFrame()


__all__ = ["n_for_width", "plan_row", "plan_table", "split_budget", "width_for"]
