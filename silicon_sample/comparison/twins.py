"""The twin design of a calibration: silicon personas drawn from the baseline's own respondents, the humans of
a labelled sample beside their silicon twins, every other persona unlabelled (:mod:`.calibration`).

DataFrames in, DataFrames out:

- :func:`predictions` — one row per persona of a pair: the persona's prediction of each answer (the expected
  answer under the option probabilities in distribution mode, the answer itself in sample mode; the mean over
  replicates), of each option's indicator (its probability) and of each scale score (scored from the predicted
  item answers as the humans' are), with the attributes, ``weight`` and ``source_row``;
- :func:`human_variables` — the same variables of the humans (a 0/1 indicator per option);
- :func:`split` — the labelled humans with their twins and the unlabelled personas, for a set of source rows;
- :func:`calibrate_pair` — the calibration table of one pair (:func:`.calibration.calibrate`);
- :func:`validate_pair` — coverage of the full-population values by the PPI++ and the classical intervals over
  ``K`` labelled samples drawn from the twins;
- :func:`pair_gain` — a pair's effective-sample-size gain with a bootstrap interval over its labelled sample.

A human drawn twice as a persona (microdata draws with replacement) is one labelled respondent; the prediction
beside them is the mean of their twins', and none of their twins is unlabelled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SpecError
from .calibration import (
    ALPHA,
    MIN_HUMANS,
    TARGET_INDEX,
    Target,
    calibrate,
    mean_effective_n,
    population_value,
    targets_for,
)
from .setting import Setting, setting_for, with_scale_scores
from .tables import tag_pair

MEAN_ESTIMANDS = ("mean",)
"""The estimands a pair's gain summarises (item and scale means)."""


def option_variable(item: str, code) -> str:
    return f"{item}={code}"


def predictions(long: pd.DataFrame, setting: Setting, numeric: list[str], attributes: list[str]) -> pd.DataFrame:
    """Per persona of one pair's long results: predicted item answers, option probabilities, scale scores."""
    rows = long[long["item_id"].isin(list(setting.options) + numeric)]
    answered = rows["status"].eq("answered").to_numpy()
    parts = {}
    for item, codes in setting.options.items():
        mine = rows[rows["item_id"] == item]
        ok = answered[rows["item_id"].to_numpy() == item]
        p_columns = [f"p_{c}" for c in codes]
        probabilities = mine[p_columns].to_numpy(dtype=float) if set(p_columns) <= set(mine.columns) else None
        answer = pd.to_numeric(mine["answer"], errors="coerce").to_numpy(dtype=float)
        if probabilities is not None and np.isfinite(probabilities).any():
            mass = np.nansum(probabilities, axis=1)
            shares = np.nan_to_num(probabilities) / np.where(mass > 0, mass, np.nan)[:, None]
            shares = np.where(np.isfinite(mass)[:, None] & (mass > 0)[:, None], shares, np.nan)
        else:
            shares = (answer[:, None] == np.asarray(codes, dtype=float)[None, :]).astype(float)
            shares[~np.isfinite(answer)] = np.nan
        shares[~ok] = np.nan
        expected = shares @ np.asarray(codes, dtype=float)
        frame = pd.DataFrame({"persona_id": mine["persona_id"].to_numpy(), item: expected,
                              **{option_variable(item, code): shares[:, j] for j, code in enumerate(codes)}})
        parts[item] = frame.groupby("persona_id", sort=False).mean()
    for item in numeric:
        mine = rows[rows["item_id"] == item]
        ok = answered[rows["item_id"].to_numpy() == item]
        values = pd.to_numeric(mine["answer"], errors="coerce").to_numpy(dtype=float, copy=True)
        values[~ok] = np.nan
        if item in setting.special:
            values[np.isin(values, setting.special[item])] = np.nan
        parts[item] = pd.DataFrame({"persona_id": mine["persona_id"].to_numpy(), item: values}).groupby(
            "persona_id", sort=False).mean()
    personas = long.drop_duplicates("persona_id").set_index("persona_id")[[*attributes, "weight", "source_row"]]
    out = personas.join(pd.concat(parts.values(), axis=1), how="left") if parts else personas
    out = with_scale_scores(out, setting)
    return out.reset_index()


def human_variables(humans: pd.DataFrame, setting: Setting) -> pd.DataFrame:
    """The humans' answers (scale scores already in ``setting.human``) with a 0/1 column per option."""
    columns = {option_variable(item, code): (humans[item] == code).astype(float).where(humans[item].notna())
               for item, codes in setting.options.items() for code in codes}
    return pd.concat([humans, pd.DataFrame(columns, index=humans.index)], axis=1)


def split(twins: pd.DataFrame, humans: pd.DataFrame, labelled_rows) -> tuple[pd.DataFrame, ...]:
    """(humans, their twins' mean predictions, unlabelled personas) for the source rows ``labelled_rows``.
    ``humans`` is indexed by source row."""
    labelled_rows = np.asarray(sorted(set(labelled_rows)))
    is_labelled = twins["source_row"].isin(labelled_rows)
    paired = twins[is_labelled].groupby("source_row").mean(numeric_only=True).reindex(labelled_rows)
    people = humans.loc[labelled_rows].assign(weight=paired["weight"].to_numpy())
    return people.reset_index(drop=True), paired.reset_index(drop=True), twins[~is_labelled].reset_index(drop=True)


def profile_split(twins: pd.DataFrame, pilot: pd.DataFrame, attributes: list[str]
                  ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int]:
    """(the pilot's humans who have a persona of their profile, the mean prediction of those personas, every
    persona) for a pilot sample that is not the baseline's own respondents: a persona described by the same
    attributes is given the same prompt, so the personas of a profile predict its humans' answers (a prediction
    that depends on the attributes alone, as PPI asks). Pilot humans whose profile no persona has are left out
    and counted (``unpaired``)."""
    variables = [c for c in twins.columns if c not in (*attributes, "persona_id", "weight", "source_row")]
    by_profile = twins.groupby(attributes, observed=True, dropna=False)[variables].mean()
    keys = pd.MultiIndex.from_frame(pilot[attributes]) if len(attributes) > 1 else pd.Index(pilot[attributes[0]])
    paired = by_profile.reindex(keys)
    found = paired.notna().any(axis=1).to_numpy()
    people = pilot[found].reset_index(drop=True)
    return people, paired[found].reset_index(drop=True), twins.reset_index(drop=True), int((~found).sum())


def calibrate_pair(twins: pd.DataFrame, humans: pd.DataFrame, labelled_rows, targets: list[Target],
                   alpha: float = ALPHA) -> pd.DataFrame:
    """The calibration table (:func:`.calibration.calibrate`) of one pair for one labelled sample."""
    return calibrate(*split(twins, humans, labelled_rows), targets, alpha=alpha)


def draw_labelled(pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct source rows of ``pool`` drawn at random without replacement."""
    return rng.choice(pool, size=n, replace=False)


def twin_pool(twins: pd.DataFrame) -> np.ndarray:
    """The distinct source rows of a pair's personas (the humans who have a twin)."""
    return np.asarray(sorted(twins["source_row"].dropna().astype(int).unique()))


def validate_pair(twins: pd.DataFrame, humans: pd.DataFrame, population: pd.DataFrame, human_n: int,
                  targets: list[Target], draws: int, rng: np.random.Generator, alpha: float = ALPHA
                  ) -> pd.DataFrame:
    """Coverage of each target's full-population value (:func:`.calibration.population_value` over
    ``population``, every respondent the personas were drawn from) by the PPI++ and the classical intervals
    over ``draws`` labelled samples of ``human_n`` twins' humans, and their mean width ratio (classical / PPI).

    The draws share the pair's silicon personas, so the coverage is conditional on them; its Monte Carlo error
    ``mc_error`` is 1.96·√(p(1 − p)/K) for each coverage p over K draws."""
    truth = {t: population_value(t, population) for t in targets}
    pool = twin_pool(twins)
    hits = []
    for draw in range(draws):
        table = calibrate_pair(twins, humans, draw_labelled(pool, human_n, rng), targets, alpha=alpha)
        for t, (_, row) in zip(targets, table.iterrows()):
            value = truth[t]
            hits.append({"estimand": t.estimand, "outcome": t.outcome, "option": t.option, "attribute": t.attribute,
                         "category": t.category, "reference": t.reference, "draw": draw, "population_value": value,
                         "covered_ppi": float(row.get("low", np.nan) <= value <= row.get("high", np.nan))
                         if np.isfinite(row.get("low", np.nan)) else np.nan,
                         "covered_classical": float(row.get("classical_low", np.nan) <= value
                                                    <= row.get("classical_high", np.nan))
                         if np.isfinite(row.get("classical_low", np.nan)) else np.nan,
                         "width_ratio": row.get("width_ratio", np.nan)})
    frame = pd.DataFrame(hits)
    table = frame.groupby(list(TARGET_INDEX), dropna=False, sort=False).agg(
        reference=("reference", "first"), population_value=("population_value", "first"),
        draws=("covered_ppi", "count"),
        coverage_ppi=("covered_ppi", "mean"), coverage_classical=("covered_classical", "mean"),
        width_ratio=("width_ratio", "mean"))
    for side in ("ppi", "classical"):
        p = table[f"coverage_{side}"]
        table[f"mc_error_{side}"] = 1.96 * np.sqrt(p * (1 - p) / table["draws"].where(table["draws"] > 0))
    return table


def validation_summary(validation: pd.DataFrame, draws: int, alpha: float = ALPHA) -> dict:
    """A pair's coverage over all its targets and draws, the Monte Carlo error of the difference between the
    PPI++ and the classical coverage (1.96·√((p₁(1 − p₁) + p₂(1 − p₂))/K), K the draws: the targets of one draw
    are not independent, so the draws are the count), and ``flagged`` when the PPI++ coverage falls below the
    classical coverage by more than that error."""
    ppi = float(validation["coverage_ppi"].mean())
    classical = float(validation["coverage_classical"].mean())
    error = 1.96 * np.sqrt((ppi * (1 - ppi) + classical * (1 - classical)) / max(draws, 1))
    return {"validation_draws": draws, "coverage_ppi": ppi, "coverage_classical": classical,
            "coverage_nominal": 1 - alpha, "coverage_mc_error": float(error),
            "mean_width_ratio": float(validation["width_ratio"].mean()),
            "flagged": bool(ppi < classical - error)}


def pair_gain(people: pd.DataFrame, paired: pd.DataFrame, silicon: pd.DataFrame, targets: list[Target],
              bootstrap: int, rng: np.random.Generator) -> dict:
    """A pair's gain: the median over its mean targets (items and scales) of effective n − n
    (:func:`.calibration.mean_effective_n`: what the PPI++ interval reaches), with a 95 % percentile interval
    from ``bootstrap`` resamples of the labelled humans (with their twins; the unlabelled personas kept), and the
    median ρ. ``people``, ``paired``, ``silicon``: a labelled sample as :func:`split` or :func:`profile_split`
    give it."""
    means = [t for t in targets if t.estimand in MEAN_ESTIMANDS]
    if not means:
        return {"gain": np.nan, "gain_low": np.nan, "gain_high": np.nan, "median_rho": np.nan}
    y = people[[t.variable for t in means]].to_numpy(dtype=float)
    yhat = paired[[t.variable for t in means]].to_numpy(dtype=float)
    yhat_u = silicon[[t.variable for t in means]].to_numpy(dtype=float)
    w, w_u = people["weight"].to_numpy(dtype=float), silicon["weight"].to_numpy(dtype=float)

    def gain(index: np.ndarray) -> tuple[float, float]:
        gains, rhos = [], []
        for j in range(y.shape[1]):
            keep = index[np.isfinite(y[index, j]) & np.isfinite(yhat[index, j])]
            unlabelled = np.isfinite(yhat_u[:, j])
            if len(keep) < MIN_HUMANS or unlabelled.sum() < 2:
                continue
            eff, rho = mean_effective_n(y[keep, j], yhat[keep, j], yhat_u[unlabelled, j], w[keep], w_u[unlabelled])
            if np.isfinite(eff):
                gains.append(eff - len(keep))
                rhos.append(rho)
        return (float(np.median(gains)), float(np.median(rhos))) if gains else (np.nan, np.nan)

    everyone = np.arange(len(y))
    point, rho = gain(everyone)
    resampled = [gain(rng.choice(everyone, size=len(everyone), replace=True))[0] for _ in range(bootstrap)]
    resampled = np.asarray([g for g in resampled if np.isfinite(g)])
    low, high = (np.percentile(resampled, [2.5, 97.5]) if len(resampled) else (np.nan, np.nan))
    return {"gain": point, "gain_low": float(low), "gain_high": float(high), "median_rho": rho}


def check_weights(frame: pd.DataFrame, where: str) -> None:
    """Refuse weights that are missing, zero or negative: PPI rescales weights, and cannot use these."""
    bad = frame["weight"].isna() | ~(frame["weight"] > 0)
    if bad.any():
        first = frame.loc[bad].iloc[0]
        who = first.get("persona_id", first.get("respondent_id", ""))
        raise SpecError(f"{int(bad.sum())} weight(s) are not positive (e.g. {who} weight {first['weight']})",
                        where=where,
                        fix="give every persona and respondent a weight above 0, or leave weights out")


def reference_categories(profiles: pd.DataFrame, attributes: list[str], categories: dict[str, list]) -> dict:
    """attribute → (reference, categories): the reference is the population's most common category (by weight),
    fixed before any sample is drawn so every draw estimates the same differences."""
    out = {}
    for attribute in attributes:
        shares = profiles.groupby(attribute, observed=True)["weight"].sum()
        present = [c for c in categories[attribute] if c in shares.index]
        if len(present) >= 2:
            out[attribute] = (shares.idxmax(), present)
    return out


def calibration_tables(long: pd.DataFrame, human: pd.DataFrame, instrument, profiles: pd.DataFrame,
                       categories: dict[str, list], *, human_n: int | None, labelled=None, seed: int = 0,
                       validate: int = 0, bootstrap: int = 200, alpha: float = ALPHA,
                       pair_columns: tuple[str, ...] = (), pilot: pd.DataFrame | None = None,
                       pilot_attributes: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
    """The calibration of every pair of a run's long results (with ``source_row``) against the baseline's humans.

    ``human``: the baseline's respondents, row i the data's row i (the personas' ``source_row``); ``profiles``:
    the population's respondents the personas were drawn from (``source_row``, ``weight``). ``labelled``: the
    source rows of the humans to use (else ``human_n`` drawn at random with ``seed``, the same draw for every
    pair when they share their personas). ``pilot``: instead, humans of one's own (answers, ``weight`` and the
    ``pilot_attributes``) matched to personas by profile (:func:`profile_split`; no validation). Returns
    ``calibration`` (a row per pair × target), ``calibration_pairs``
    (a row per pair: n, N, the median gain with its bootstrap interval, and with ``validate`` draws the
    coverage) and, with ``validate``, ``calibration_validation`` (coverage per pair × target).
    """
    setting = setting_for(human, instrument, categories)
    numeric = [item.id for item in instrument.items if item.type == "numeric"]
    humans = human_variables(setting.human, setting).reset_index(drop=True)
    scales = list(setting.keys)
    outcomes = {**{i.id: "item" for i in instrument.items if i.type == "single"},
                **dict.fromkeys(numeric, "numeric"), **dict.fromkeys(scales, "scale")}
    options = {i.id: setting.options[i.id] for i in instrument.items if i.type in ("single", "knowledge")}
    targets = targets_for(outcomes, options, reference_categories(profiles, list(categories), categories))
    population = humans.loc[profiles["source_row"].to_numpy()].assign(
        weight=profiles["weight"].to_numpy(), **{a: profiles[a].to_numpy() for a in categories})
    if pilot is not None:
        if validate:
            raise SpecError("--validate draws labelled samples from the baseline's own respondents, and a pilot's "
                            "humans are not among them", where="--pilot",
                            fix="leave out --validate (or validate with --human-n on a twin run)")
        check_weights(pilot, "--pilot (its weight column)")
        pilot_humans = human_variables(with_scale_scores(pilot.reset_index(drop=True), setting), setting)
    tables, pairs, validations = [], [], []
    for pair, rows in long.groupby(list(pair_columns), sort=False, dropna=False):
        twins = predictions(rows, setting, numeric, list(categories) if pilot is None else list(pilot_attributes))
        check_weights(twins, "the run's personas")
        rng = np.random.default_rng(seed)
        if pilot is not None:
            people, paired, silicon, unpaired = profile_split(twins, pilot_humans, list(pilot_attributes))
            if len(people) < MIN_LABELLED:
                raise SpecError(f"only {len(people)} of the {len(pilot_humans)} pilot respondents have a persona of "
                                f"their profile ({', '.join(pilot_attributes)}) in the run", where="--pilot",
                                fix=f"calibration needs at least {MIN_LABELLED}: run personas of the pilot's profiles "
                                    "(a larger population n, or quota sampling)")
            summary = {"n_humans": len(people), "n_silicon": len(silicon), "unpaired_pilot": unpaired}
        else:
            pool = twin_pool(twins)
            chosen = _labelled_sample(pool, labelled, human_n, rng)
            people, paired, silicon = split(twins, humans, chosen)
            summary = {"n_humans": len(chosen), "n_silicon": len(silicon), "n_twin_pool": len(pool)}
        tables.append(tag_pair(calibrate(people, paired, silicon, targets, alpha=alpha), pair))
        summary.update(pair_gain(people, paired, silicon, targets, bootstrap, rng))
        if validate:
            checked = validate_pair(twins, humans, population, len(chosen), targets, validate, rng, alpha=alpha)
            validations.append(tag_pair(checked, pair))
            summary.update(validation_summary(checked, validate, alpha))
        pairs.append(pd.DataFrame([summary], index=pd.MultiIndex.from_tuples([pair], names=list(pair_columns))))
    pair_table = pd.concat(pairs)
    pair_table["reading"] = [gain_reading(row) for _, row in pair_table.iterrows()]
    out = {"calibration": pd.concat(tables), "calibration_pairs": pair_table}
    if validations:
        out["calibration_validation"] = pd.concat(validations)
    return out


MIN_LABELLED = 10
"""Fewest labelled humans a calibration takes (each estimate also needs :data:`.calibration.MIN_HUMANS`)."""


def _labelled_sample(pool: np.ndarray, labelled, human_n: int | None, rng: np.random.Generator) -> np.ndarray:
    """The labelled source rows: those named (each must have a twin), or ``human_n`` drawn from the pool."""
    if labelled is not None:
        chosen = np.asarray(sorted(set(labelled)))
        outside = np.setdiff1d(chosen, pool)
        if len(outside):
            raise SpecError(f"{len(outside)} of the {len(chosen)} labelled respondents have no silicon twin in "
                            f"the run (e.g. row {outside[0]}, respondent H{outside[0] + 1:05d})",
                            where="--labelled", fix="name respondents the run's personas were drawn from")
        if len(chosen) < MIN_LABELLED or len(chosen) >= len(pool):
            raise SpecError(f"{len(chosen)} labelled respondents do not fit: calibration needs at least "
                            f"{MIN_LABELLED} labelled and some of the run's {len(pool)} twins unlabelled",
                            where="--labelled", fix="name more respondents, or run more personas")
        return chosen
    if human_n is None or human_n < MIN_LABELLED or human_n >= len(pool):
        raise SpecError(f"--human-n {human_n} does not fit: the run has {len(pool)} distinct respondents "
                        f"with a silicon twin, and calibration needs at least {MIN_LABELLED} labelled and "
                        "some unlabelled", where="--human-n",
                        fix=f"give --human-n between {MIN_LABELLED} and {len(pool) - 1}, or run more "
                            "personas (population n)")
    return draw_labelled(pool, human_n, rng)


def gain_reading(row: pd.Series) -> str:
    """One line: what the pair's silicon answers are worth, honestly (about none when the gain's interval
    reaches 0), and whether the validation flagged it."""
    if row.get("flagged") is True:
        return (f"not ranked: the PPI intervals covered the full-population values less often "
                f"({row['coverage_ppi']:.0%}) than the humans' own ({row['coverage_classical']:.0%})")
    gain, low = row.get("gain"), row.get("gain_low")
    if not np.isfinite(gain):
        return "no estimate of the gain (too few humans with answers)"
    if not (low > 0.5):
        return (f"worth about 0 humans (median ρ {row['median_rho']:.2f}): the silicon answers barely narrow the "
                f"{int(row['n_humans'])} humans' intervals; use the humans' own")
    return (f"worth about {gain:.0f} more humans (median ρ {row['median_rho']:.2f}; {low:.0f} to "
            f"{row['gain_high']:.0f}) beside the {int(row['n_humans'])} humans")


__all__ = ["MIN_LABELLED", "calibrate_pair", "calibration_tables", "check_weights", "draw_labelled", "gain_reading",
           "human_variables", "option_variable", "pair_gain", "predictions", "profile_split", "reference_categories",
           "split", "twin_pool", "validate_pair", "validation_summary"]
