"""A Bayesian hierarchical ordinal model of human and silicon answers (PyMC, diagnostics by ArviZ).

The question it answers: is the effect of a respondent attribute (gender, say)
on a construct (Neuroticism) the same in a silicon sample as in the humans it
stands for? Item answers, not scale scores, are modelled, so the ordinal
scale is respected.

Model (cumulative logit; answers y ∈ {0, …, K − 1} after reverse-keyed items
are mirrored so that higher means more of the construct):

    P(y_ri ≤ k) = logistic(c_k − η_ri)
    η_ri = α_i + γ_s[r] + β_{s[r], a[r]} + σ_{s[r]} z_r

- c: K − 1 ordered cut-points, Normal(0, 2.5) before ordering;
- α_i (``item_effect``): item effects, zero-sum, scale σ_α ~ HalfNormal(1);
- γ_s: source effect (γ_human = 0; each silicon source Normal(0, 2.5)) — the shift of the silicon
  answers against the human ones;
- β_{s,a}: effect of attribute category a against the reference category (the first), in source s,
  Normal(0, 1) each; the source × attribute interaction δ_s,a = β_s,a − β_human,a is the posterior
  difference between the silicon and the human effect (parameterised through the β, which sample
  better than β_human and δ);
- z_r ~ Normal(0, 1), constrained to sum to zero (so the cut-points carry the location), and
  σ_s ~ HalfNormal(2): respondent intercepts with a spread per source (silicon personas are often
  far more alike than people).

Effects are on the log-odds scale. Survey and raking weights are not used (a
model-based analysis). Diagnostics (Vehtari et al., 2021): R-hat ≤ 1.01 and
bulk and tail ESS ≥ 100 per chain, and no divergent transitions; every
failure is listed in ``warnings``. The test setting (few draws, few
respondents) is meant to run fast and will usually warn.

References: Bürkner, P.-C., & Vuorre, M. (2019). Ordinal regression models in
psychology: A tutorial. AMPPS, 2, 77–101. Vehtari, A., Gelman, A., Simpson, D.,
Carpenter, B., & Bürkner, P.-C. (2021). Rank-normalization, folding, and
localization: An improved R-hat. Bayesian Analysis, 16, 667–718.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import SpecError

RHAT_MAX = 1.01
ESS_PER_CHAIN_MIN = 100


@dataclass
class OrdinalComparison:
    """Posterior effects, diagnostics and warnings of :func:`ordinal_comparison`."""

    effects: pd.DataFrame          # one row per source × attribute category (vs the reference)
    diagnostics: pd.DataFrame      # r_hat, ess_bulk, ess_tail per parameter
    warnings: list[str]
    settings: dict
    posterior: object = field(repr=False, default=None)  # the sampler's DataTree / InferenceData


def ordinal_comparison(answers: pd.DataFrame, items: list[str], options: list[int], attribute: str,
                       categories: list, *, reverse: tuple[str, ...] = (), source: str = "source",
                       respondent: str = "respondent", reference_source: str = "human", draws: int = 1000,
                       tune: int = 1000, chains: int = 4, cores: int | None = None, seed: int = 0,
                       max_respondents: int | None = None, hdi_prob: float = 0.94,
                       progress: bool = False) -> OrdinalComparison:
    """Fit the model to human and silicon answers and summarise the attribute effects by source.

    Parameters
    ----------
    answers : DataFrame
        One row per respondent: ``source`` (``reference_source`` for the humans), ``respondent``,
        ``attribute`` and the ``items`` answers (option values; NaN = no answer, left out).
    items : list of str
        The items of one construct.
    options : list of int
        The option values in scale order (K options).
    attribute : str
        Column of the respondent attribute; ``categories`` its categories, the first being the
        reference. Respondents with another or no category are left out (counted in ``settings``).
    reverse : tuple of str
        Reverse-keyed items, mirrored before fitting.
    draws, tune, chains, cores, seed
        NUTS settings (PyMC); ``seed`` makes the draws reproducible.
    max_respondents : int, optional
        Largest number of respondents kept per source, drawn with ``seed`` (to bound run time).
    progress : bool
        Show PyMC's sampling progress (chains, draws, divergences) while it samples.

    Returns
    -------
    OrdinalComparison
        ``effects``: source, category, posterior mean, sd, HDI of β (log-odds) and, for silicon
        sources, of δ = β_silicon − β_human with P(δ > 0).

    Examples
    --------
    >>> result = ordinal_comparison(frame, ["N1", "N2"], [1, 2, 3, 4, 5, 6], "gender",
    ...                             ["male", "female"], draws=200, tune=200, chains=2)  # doctest: +SKIP
    >>> result.effects.loc[("silicon", "female"), ["difference_mean", "p_difference_positive"]]  # doctest: +SKIP
    """
    import pymc as pm

    if len(categories) < 2:
        raise SpecError(f"attribute {attribute!r} needs at least two categories", where=attribute)
    frame = answers[answers[attribute].isin(categories)].copy()
    left_out = int(len(answers) - len(frame))
    sources = [reference_source] + [s for s in dict.fromkeys(frame[source]) if s != reference_source]
    if reference_source not in set(frame[source]) or len(sources) < 2:
        raise SpecError(f"the data need the {reference_source!r} source and at least one other", where=source)
    rng = np.random.default_rng(seed)
    if max_respondents is not None:
        keep = []
        for label in sources:
            rows = np.flatnonzero((frame[source] == label).to_numpy())
            keep.extend(np.sort(rng.choice(rows, size=min(len(rows), max_respondents), replace=False)))
        frame = frame.iloc[np.sort(keep)]
    position = {v: k for k, v in enumerate(options)}
    k_max = len(options) - 1
    long = frame.melt(id_vars=[source, respondent, attribute], value_vars=items, var_name="item",
                      value_name="answer").dropna(subset=["answer"])
    long["y"] = long["answer"].map(position)
    if long["y"].isna().any():
        bad = long.loc[long["y"].isna(), "answer"].iloc[0]
        raise SpecError(f"answer {bad!r} is not one of the options {options}", where="answers")
    long["y"] = long["y"].astype(int)
    mirrored = long["item"].isin(reverse)
    long.loc[mirrored, "y"] = k_max - long.loc[mirrored, "y"]
    person_codes, persons = pd.factorize(long[source].astype(str) + "\x1f" + long[respondent].astype(str))
    s_idx = long[source].map({s: j for j, s in enumerate(sources)}).to_numpy()
    person_source = pd.Series(s_idx).groupby(person_codes).first().to_numpy()   # source of each respondent
    a_idx = long[attribute].map({c: j for j, c in enumerate(categories)}).to_numpy()
    i_idx = long["item"].map({it: j for j, it in enumerate(items)}).to_numpy()
    n_s = len(sources)
    logging.getLogger("pymc").setLevel(logging.ERROR)   # its progress chatter; diagnostics are ours
    coords = {"source": sources, "silicon_source": sources[1:], "category": list(categories[1:]),
              "item": items, "cut": list(range(k_max)), "respondent": list(range(len(persons)))}
    with pm.Model(coords=coords):
        cut = pm.Normal("cutpoints", mu=np.linspace(-2, 2, k_max), sigma=2.5, dims="cut",
                        transform=pm.distributions.transforms.ordered)
        sigma_item = pm.HalfNormal("sigma_item", 1.0)
        item = pm.ZeroSumNormal("item_effect", sigma=sigma_item, dims="item")
        shift = pm.Normal("source_shift", 0.0, 2.5, dims="silicon_source")
        gamma = pm.math.concatenate([np.zeros(1), shift])
        beta = pm.Normal("effect", 0.0, 1.0, dims=("source", "category"))
        pm.Deterministic("difference", beta[1:] - beta[0], dims=("silicon_source", "category"))
        beta_full = pm.math.concatenate([np.zeros((n_s, 1)), beta], axis=1)
        sigma_person = pm.HalfNormal("sigma_respondent", 2.0, dims="source")
        z = pm.ZeroSumNormal("z", sigma=1.0, dims="respondent")
        respondent_effect = (sigma_person[person_source] * z)[person_codes]
        eta = item[i_idx] + gamma[s_idx] + beta_full[s_idx, a_idx] + respondent_effect
        pm.OrderedLogistic("y", eta=eta, cutpoints=cut, observed=long["y"].to_numpy())
        posterior = pm.sample(draws=draws, tune=tune, chains=chains, cores=cores or min(chains, 2),
                              random_seed=seed, progressbar=progress, compute_convergence_checks=False,
                              mp_ctx="forkserver")  # not fork: the caller may hold threads (llama.cpp, dask)
    names = ["cutpoints", "sigma_item", "item_effect", "source_shift", "effect", "difference", "sigma_respondent"]
    diagnostics = _diagnostics(posterior, names)
    effects = _effects(posterior, sources, list(categories[1:]), hdi_prob)
    warnings = _warnings(diagnostics, posterior, chains)
    settings = {"draws": draws, "tune": tune, "chains": chains, "seed": seed, "max_respondents": max_respondents,
                "respondents": {s: int((person_source == j).sum()) for j, s in enumerate(sources)},
                "answers": int(len(long)), "left_out_other_category": left_out, "reference_category": categories[0],
                "scale": "log-odds (cumulative logit)", "weights": "not used"}
    return OrdinalComparison(effects, diagnostics, warnings, settings, posterior)


def _draws(posterior, name: str) -> np.ndarray:
    """(chain × draw, ...) array of a variable."""
    values = posterior.posterior[name].to_numpy()
    return values.reshape(-1, *values.shape[2:])


def _hdi(x: np.ndarray, prob: float) -> tuple[float, float]:
    import arviz as az

    low, high = np.asarray(az.hdi(x, prob=prob)).ravel()[:2]
    return float(low), float(high)


def _effects(posterior, sources, categories, prob) -> pd.DataFrame:
    effect = _draws(posterior, "effect")            # (draws, source, category)
    difference = _draws(posterior, "difference")    # (draws, silicon source, category)
    rows = []
    for j, source in enumerate(sources):
        for c, category in enumerate(categories):
            x = effect[:, j, c]
            low, high = _hdi(x, prob)
            row = {"source": source, "category": category, "effect_mean": float(x.mean()), "effect_sd": float(x.std()),
                   "effect_hdi_low": low, "effect_hdi_high": high}
            if j > 0:
                d = difference[:, j - 1, c]
                low, high = _hdi(d, prob)
                row.update({"difference_mean": float(d.mean()), "difference_sd": float(d.std()),
                            "difference_hdi_low": low, "difference_hdi_high": high,
                            "p_difference_positive": float((d > 0).mean())})
            rows.append(row)
    table = pd.DataFrame(rows).set_index(["source", "category"])
    table["hdi_prob"] = prob
    return table


def _diagnostics(posterior, names) -> pd.DataFrame:
    import arviz as az

    rows = []
    for name in names:
        values = posterior.posterior[name]
        rhat = np.atleast_1d(np.asarray(az.rhat(values))).ravel()
        bulk = np.atleast_1d(np.asarray(az.ess(values, method="bulk"))).ravel()
        tail = np.atleast_1d(np.asarray(az.ess(values, method="tail"))).ravel()
        for k in range(len(rhat)):
            rows.append({"parameter": name if len(rhat) == 1 else f"{name}[{k}]", "r_hat": float(rhat[k]),
                         "ess_bulk": float(bulk[k]), "ess_tail": float(tail[k])})
    return pd.DataFrame(rows).set_index("parameter")


def _warnings(diagnostics: pd.DataFrame, posterior, chains: int) -> list[str]:
    out = []
    bad_rhat = diagnostics[diagnostics["r_hat"] > RHAT_MAX]
    if len(bad_rhat):
        out.append(f"R-hat above {RHAT_MAX} for {len(bad_rhat)} parameter(s) (largest {bad_rhat['r_hat'].max():.3f}, "
                   f"{bad_rhat['r_hat'].idxmax()}): the chains disagree; draw more (tune, draws)")
    need = ESS_PER_CHAIN_MIN * chains
    low = diagnostics[(diagnostics["ess_bulk"] < need) | (diagnostics["ess_tail"] < need)]
    if len(low):
        worst = low[["ess_bulk", "ess_tail"]].min(axis=1)
        out.append(f"ESS below {need} ({ESS_PER_CHAIN_MIN} per chain) for {len(low)} parameter(s) "
                   f"(smallest {worst.min():.0f}, {worst.idxmin()}): intervals are unreliable; draw more")
    if "diverging" in posterior.sample_stats:
        divergent = int(np.asarray(posterior.sample_stats["diverging"]).sum())
        if divergent:
            out.append(f"{divergent} divergent transition(s): the posterior may be biased; raise target_accept "
                       "or reparameterise")
    return out
