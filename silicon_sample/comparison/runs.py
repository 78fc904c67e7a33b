"""Comparing a run with a human baseline: ``compare(run_dir, baseline)``.

Takes the run's wide results (one row per persona × style × cue type × model ×
replicate) and the baseline's respondents and returns, per model × persona
style × cue type, these tables (persona weights and survey weights are used
where the statistic allows; the docstring of each module says how):

- ``items`` — per item: distributions, representativeness, JS distance, d (:mod:`comparison.item_fidelity`);
- ``scales`` — per scale: means, SDs, d, alpha and omega side by side (:mod:`comparison.scale_fidelity`);
- ``structure`` — correlation SRMR and Tucker's congruence per scale (:mod:`comparison.structure`);
- ``invariance`` — measurement invariance with group = source, and the highest level reached
  (:mod:`comparison.source_invariance`);
- ``subgroups`` — the same metrics within each category of gender, age band, education, party id
  (whichever the baseline has) (:mod:`comparison.subgroups`);
- ``patterns`` — whether each human subgroup difference is reproduced in sign and size;
- ``nonresponse`` — refusal / invalid / failed rates by persona attribute with a χ² test
  (:mod:`comparison.nonresponse`).

Subgroup metrics cover scales and items; patterns are on the scales when the
instrument scores scales, on its items otherwise.

Also here: :func:`ordinal_model_comparison` (the Bayesian ordinal model of one
scale or item, :mod:`comparison.ordinal_model`) and :func:`rank` (one row per
model–persona pair of one or more runs, :mod:`comparison.ranking`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import baselines as baselines_module
from .comparison import compare_items
from .comparison.nonresponse import nonresponse_by_attribute
from .comparison.scale_fidelity import compare_scales
from .comparison.source_invariance import invariance_between_sources
from .comparison.structure import compare_structure
from .comparison.subgroups import DEFAULT_ATTRIBUTES, pattern_correspondence, subgroup_metrics
from .errors import SpecError
from .instruments import Instrument
from .results import long_results, wide_results
from .run_store import RunStore
from .scoring import scale_scores

GROUP = ["model", "persona_style", "cue_type"]
TABLE_INDEX = {"items": ["item"], "scales": ["scale"], "structure": ["scale"], "invariance": ["level"],
               "subgroups": ["attribute", "category", "outcome"], "patterns": ["attribute", "contrast", "outcome"],
               "nonresponse": ["attribute", "category"]}


def _tag(table: pd.DataFrame, group: tuple) -> pd.DataFrame:
    return table.assign(**dict(zip(GROUP, group))).set_index(GROUP, append=True)


def compare(run_dir: str | Path, baseline: str | Path, *, subgroups: list[str] | None = None,
            invariance: bool = True, tolerance: float = 0.2) -> dict[str, pd.DataFrame]:
    """All comparison tables of a run against a human baseline, each indexed by model, persona_style,
    cue_type and the table's own keys (see the module docstring).

    Parameters
    ----------
    run_dir : path
        A run directory.
    baseline : str or path
        A shipped baseline name (``psych_bfi``) or a baseline file.
    subgroups : list of str, optional
        Attributes for subgroup metrics and patterns; default: gender, sex, age_band, education and
        party_id, those present in both the personas and the baseline.
    invariance : bool
        Fit the measurement-invariance models (the slowest part: seconds to a minute per group).
    tolerance : float
        Largest |d_silicon − d_human| counted as a subgroup difference reproduced in size.
    """
    base = baselines_module.load(baseline)
    store = RunStore.open(run_dir)
    long = long_results(store)
    wide = wide_results(store, long)
    missing = [i for i in base.item_ids if i not in wide.columns]
    if missing:
        raise SpecError(f"the run has no answers to {len(missing)} item(s) of {base.instrument.id} "
                        f"(e.g. {missing[0]})", where=str(run_dir),
                        fix=f"compare runs of the baseline's instrument ({base.instrument.id})")
    attributes = [a for a in (subgroups or DEFAULT_ATTRIBUTES) if a in wide.columns and a in base.data.columns]
    if subgroups:
        unknown = [a for a in subgroups if a not in attributes]
        if unknown:
            raise SpecError(f"subgroup attribute {unknown[0]!r} is not an attribute of both the personas and the "
                            "baseline", where=str(run_dir), fix="choose from: " + ", ".join(
                                sorted(set(wide.columns) & set(base.attribute_names))))
    categories = {a: list(base.population.attribute(a).categories) for a in attributes}
    personas = store.personas()
    wide = wide.assign(weight=wide["persona_id"].map(personas.set_index("persona_id")["weight"]).to_numpy())
    persona_attributes = [c for c in personas.columns if c not in ("persona_id", "weight", "source_row")]
    nonresponse = [_tag(nonresponse_by_attribute(rows, persona_attributes), group)
                   for group, rows in long.groupby(GROUP)]
    tables = compare_answers(base.data, wide, base.instrument, categories, invariance=invariance, tolerance=tolerance)
    tables["nonresponse"] = pd.concat(nonresponse).reorder_levels(GROUP + TABLE_INDEX["nonresponse"])
    return tables


def compare_answers(human: pd.DataFrame, silicon: pd.DataFrame, instrument: Instrument,
                    categories: dict[str, list] | None = None, *, invariance: bool = True,
                    tolerance: float = 0.2) -> dict[str, pd.DataFrame]:
    """The comparison tables (all but ``nonresponse``) from plain DataFrames, for notebooks.

    Parameters
    ----------
    human : DataFrame
        One row per respondent: item columns, a ``weight`` column and attribute columns.
    silicon : DataFrame
        One row per persona × style × cue type × model × replicate (:func:`silicon_sample.results.wide_results`):
        ``model``, ``persona_style``, ``cue_type``, ``weight``, item and attribute columns (scale scores
        are computed when missing).
    instrument : Instrument
        Gives the items, their options and the scoring keys.
    categories : dict, optional
        ``{attribute: [categories in order]}``: the subgroups compared (none when omitted).
    """
    options = {item.id: instrument.scale_of(item).values for item in instrument.items}
    ranges = {item.id: (instrument.scale_of(item).minimum, instrument.scale_of(item).maximum)
              for item in instrument.items}
    keys = {s: k for s, k in instrument.keys().items() if len(k) >= 2}
    scale_range = (instrument.response_scale.minimum, instrument.response_scale.maximum)
    if keys:
        human = pd.concat([human, scale_scores(human, keys, ranges, instrument.scoring.method)[list(keys)]], axis=1)
        if not set(keys) <= set(silicon.columns):
            silicon = pd.concat([silicon.drop(columns=[k for k in keys if k in silicon.columns]),
                                 scale_scores(silicon, keys, ranges, instrument.scoring.method)[list(keys)]], axis=1)
    outcomes = list(keys) if keys else [item.id for item in instrument.items]
    categories = categories or {}
    attributes = list(categories)
    wh = human["weight"].to_numpy(dtype=float)
    tables: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLE_INDEX if name != "nonresponse"}
    for group, rows in silicon.groupby(GROUP):
        w = rows["weight"].to_numpy(dtype=float)
        tables["items"].append(_tag(compare_items(human, rows, options, wh, w), group))
        if keys:
            scale_table = compare_scales(human, rows, keys, ranges, scale_range, instrument.scoring.method, wh, w)
            tables["scales"].append(_tag(scale_table, group))
            srmr, congruence = compare_structure(human, rows, keys, scale_range)
            congruence = congruence[["congruence", "reading", "note"]].assign(correlation_srmr=srmr)
            tables["structure"].append(_tag(congruence, group))
            if invariance:
                table, highest, note = invariance_between_sources(human, rows, keys)
                tables["invariance"].append(_tag(table.assign(highest_level=highest, note=note), group))
        if attributes:
            measured = list(keys) + [item.id for item in instrument.items]   # scales and items
            tables["subgroups"].append(_tag(subgroup_metrics(human, rows, attributes, measured, options, wh, w,
                                                             categories), group))
            tables["patterns"].append(_tag(pattern_correspondence(human, rows, attributes, outcomes, wh, w,
                                                                  tolerance=tolerance, categories=categories),
                                           group))
    return {name: pd.concat(parts).reorder_levels(GROUP + TABLE_INDEX[name])
            for name, parts in tables.items() if parts}


def ordinal_model_comparison(run_dir: str | Path, baseline: str | Path, outcome: str, attribute: str, *,
                             draws: int = 1000, tune: int = 1000, chains: int = 4, seed: int = 0,
                             max_respondents: int | None = None):
    """The Bayesian ordinal model (:mod:`comparison.ordinal_model`) of one scale or item of a run and its
    baseline: the effect of ``attribute`` in the humans and in each model × persona style × cue type,
    and their differences.

    Each wide row of the run (persona × style × cue type × model × replicate) is one silicon respondent;
    the source of a silicon row is ``"model / persona_style / cue_type"``.
    """
    from .comparison.ordinal_model import ordinal_comparison

    base = baselines_module.load(baseline)
    instrument = base.instrument
    keys = instrument.keys()
    if outcome in keys:
        keyed = keys[outcome]
    elif outcome in base.item_ids:
        keyed = [outcome]
    else:
        raise SpecError(f"{outcome!r} is neither a scale nor an item of {instrument.id}", where="outcome",
                        fix="scales: " + (", ".join(keys) or "none") + "; items: " + ", ".join(base.item_ids))
    if attribute not in base.attribute_names:
        raise SpecError(f"{attribute!r} is not an attribute of baseline {base.id}", where="attribute",
                        fix="attributes: " + ", ".join(base.attribute_names))
    items = [k.lstrip("-") for k in keyed]
    if any(instrument.scale_of(item).values != instrument.scale_of(items[0]).values for item in items):
        raise SpecError(f"the items of {outcome!r} do not share one response scale", where="outcome")
    store = RunStore.open(run_dir)
    wide = wide_results(store)
    if attribute not in wide.columns:
        raise SpecError(f"the personas of this run have no attribute {attribute!r}", where=str(run_dir))
    silicon = wide.assign(source=wide[GROUP].astype(str).agg(" / ".join, axis=1),
                          respondent=wide["persona_id"].astype(str) + "#" + wide["replicate"].astype(str))
    human = base.data.assign(source="human", respondent=base.data["respondent_id"])
    columns = ["source", "respondent", attribute] + items
    answers = pd.concat([human[columns], silicon[columns]], ignore_index=True)
    answers[items] = answers[items].apply(pd.to_numeric, errors="coerce")
    return ordinal_comparison(answers, items, instrument.scale_of(items[0]).values, attribute,
                              list(base.population.attribute(attribute).categories),
                              reverse=tuple(k.lstrip("-") for k in keyed if k.startswith("-")), draws=draws,
                              tune=tune, chains=chains, seed=seed, max_respondents=max_respondents)


def rank(run_dirs: list[str | Path], baseline: str | Path, *, subgroups: list[str] | None = None,
         invariance: bool = True, sort_by: str = "representativeness") -> pd.DataFrame:
    """Rank every model × persona style × cue type of one or more runs against a baseline
    (:func:`comparison.ranking.rank_pairs`); the ``run`` index level names each run by its folder."""
    from .comparison.ranking import rank_pairs

    if not run_dirs:
        raise SpecError("no run given", where="RUN_DIR", fix="name one or more run directories")
    baseline = baselines_module.load(baseline)       # once for all runs
    names = [Path(r).name for r in run_dirs]
    if len(set(names)) < len(names):
        names = [str(Path(r)) for r in run_dirs]
    combined: dict[str, list[pd.DataFrame]] = {}
    for name, run_dir in zip(names, run_dirs):
        for table_name, table in compare(run_dir, baseline, subgroups=subgroups, invariance=invariance).items():
            combined.setdefault(table_name, []).append(pd.concat({name: table}, names=["run"]))
    return rank_pairs({k: pd.concat(v) for k, v in combined.items()}, sort_by=sort_by)
