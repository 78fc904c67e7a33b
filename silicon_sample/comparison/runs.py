"""Comparing run folders with a human baseline: the one module of :mod:`silicon_sample.comparison` that
reads runs (through :mod:`silicon_sample.tidy.results`, never the store itself).

- :func:`compare_run` — every table of :func:`.tables.compare_answers` for one run, plus ``nonresponse``;
- :func:`ordinal_model_of_run` — the Bayesian ordinal model (:mod:`.ordinal_model`) of one scale or item;
- :func:`rank_runs` — one row per model–persona pair of one or more runs (:mod:`.ranking`);
- :func:`drift_between_runs` — two runs of the same study compared answer by answer (:mod:`.drift`);
- :func:`persona_effects_of_run` — persona effects beyond paraphrase noise in a catalogue run
  (:mod:`.persona_effects`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import SpecError
from ..population import baselines
from ..population.baselines import Baseline
from ..tidy.completeness import mark_pending, require_complete
from ..tidy.results import (
    LONG_CHUNK_PERSONAS,
    PAIR_COLUMNS,
    iter_long_results,
    long_results,
    persona_attribute_columns,
    run_instruments,
    run_manifest,
    wide_results,
)
from .drift import drift_table
from .item_counts import add_counts, count_options, items_from_counts
from .nonresponse import missing_answers, nonresponse_by_attribute
from .presentation_effects import position_terciles, robustness
from .scale_level import NOT_AT_SCALE_LEVEL, compare_scale_scores
from .subgroups import DEFAULT_ATTRIBUTES
from .tables import compare_answers, pair_first, tag_pair

BaselineLike = str | Path | Baseline


def compare_run(run_dir: str | Path, baseline: BaselineLike, *, subgroups: list[str] | None = None,
                invariance: bool = True, tolerance: float = 0.2, anchors: bool = True, bootstrap: int = 200,
                repetitions: int = 10, seed: int = 0, estimator: str | None = None,
                collapse_empty: bool = False, allow_incomplete: bool = False,
                missing: str = "auto") -> dict[str, pd.DataFrame]:
    """All comparison tables of a run against a human baseline, each indexed by model, persona_style,
    cue_type and the table's own keys (see :mod:`.tables`).

    Parameters
    ----------
    run_dir : path
        A run directory.
    baseline : str, path or Baseline
        A shipped baseline name (``psych_bfi``), a baseline file, or a loaded :class:`Baseline`.
    subgroups : list of str, optional
        Attributes for subgroup metrics and patterns; default: gender, sex, age_band, education and
        party_id, those present in both the personas and the baseline.
    invariance : bool
        Fit the measurement-invariance models (the slowest part: seconds to a minute per group).
    tolerance : float
        Largest |d_silicon − d_human| counted as a subgroup difference reproduced in size.
    anchors, bootstrap, repetitions, seed
        The ``anchors`` table: floors, ceiling, intervals and normalized scores (:mod:`.anchors`).
    estimator, collapse_empty
        As in :func:`.tables.compare_answers`: None chooses the estimator per pair.
    allow_incomplete : bool
        Compare a run with pending cells (refused otherwise); every table then has ``cells_pending``.
    missing : {"auto", "listwise"}
        How the invariance models take missing answers (:func:`.tables.compare_answers`); the ``missing``
        table gives each item's refused, invalid, "Don't know" and failed shares beside the humans' blanks.
    """
    pending = require_complete(run_dir, allow_incomplete)
    base = baselines.load(baseline)
    long = long_results(run_dir)
    wide = base.top_code(wide_results(run_dir, long))
    unanswered = [item.id for item in base.instrument.items
                  if not set(baselines.option_columns(item, base.instrument) if item.type in ("multiple", "rank")
                             else [item.id]) <= set(wide.columns)]
    if unanswered:
        raise SpecError(f"the run has no answers to {len(unanswered)} item(s) of {base.instrument.id} "
                        f"(e.g. {unanswered[0]})", where=str(run_dir),
                        fix=f"compare runs of the baseline's instrument ({base.instrument.id})")
    attributes = [a for a in (subgroups or DEFAULT_ATTRIBUTES) if a in wide.columns and a in base.data.columns]
    if subgroups:
        unknown = [a for a in subgroups if a not in attributes]
        if unknown:
            raise SpecError(f"subgroup attribute {unknown[0]!r} is not an attribute of both the personas and the "
                            "baseline", where=str(run_dir), fix="choose from: " + ", ".join(
                                sorted(set(wide.columns) & set(base.attribute_names))))
    categories = {a: list(base.population.attribute(a).categories) for a in attributes}
    persona_attributes = persona_attribute_columns(long)
    nonresponse = [tag_pair(nonresponse_by_attribute(rows, persona_attributes), pair)
                   for pair, rows in long.groupby(list(PAIR_COLUMNS))]
    if base.scale_level:
        tables = compare_scale_scores(base.data, wide, base.instrument, categories, tolerance=tolerance)
        tables["nonresponse"] = pair_first("nonresponse", nonresponse)
        return {name: mark_pending(table, pending) for name, table in {**tables, **_presentation_tables(
            long, base.instrument.id, tables)}.items()}
    cued = sorted({a for text in long["cued_attributes"].dropna() for a in str(text).split(",") if a})
    tables = compare_answers(base.data, wide, base.instrument, categories, invariance=invariance, tolerance=tolerance,
                             anchors=anchors, bootstrap=bootstrap, repetitions=repetitions, seed=seed,
                             cued=cued or None, estimator=estimator, collapse_empty=collapse_empty, missing=missing)
    tables["nonresponse"] = pair_first("nonresponse", nonresponse)
    tables["missing"] = missing_answers(long[long["instrument"] == base.instrument.id], base.data)
    tables.update(_presentation_tables(long, base.instrument.id, tables))
    return {name: mark_pending(table, pending) for name, table in tables.items()}


def compare_items_in_chunks(run_dir: str | Path, baseline: BaselineLike, *, chunk: int = LONG_CHUNK_PERSONAS,
                            allow_incomplete: bool = False) -> dict[str, pd.DataFrame]:
    """The ``items`` table of :func:`compare_run` for a run of any size: the run's answers are read
    ``chunk`` personas at a time and summed up as weighted option counts (:mod:`.item_counts`), so memory
    stays flat (a million answers: see ``silicon-sample bench --million``)."""
    pending = require_complete(run_dir, allow_incomplete)
    base = baselines.load(baseline)
    _need_items(base, "compare --items-only")
    options = {item.id: list(base.instrument.scale_of(item).values) for item in base.instrument.items}
    counts = None
    for long in iter_long_results(run_dir, chunk=chunk):
        mine = long[long["instrument"] == base.instrument.id]
        if len(mine):
            counts = add_counts(counts, count_options(mine))
    if counts is None:
        raise SpecError(f"the run has no answers to {base.instrument.id}", where=str(run_dir),
                        fix=f"compare runs of the baseline's instrument ({base.instrument.id})")
    table = items_from_counts(base.data, counts, options, base.data["weight"].to_numpy(dtype=float))
    return {"items": mark_pending(table, pending)}


def _presentation_tables(long: pd.DataFrame, instrument_id: str, tables: dict) -> dict[str, pd.DataFrame]:
    """``order_effects`` (battery and conversation runs) and ``robustness`` (studies with perturbations), when
    they apply (:mod:`.presentation_effects`)."""
    out = {"order_effects": position_terciles(long[long["instrument"] == instrument_id]),
           "robustness": robustness(tables)}
    return {name: table for name, table in out.items() if len(table)}


def ordinal_model_of_run(run_dir: str | Path, baseline: BaselineLike, outcome: str, attribute: str, *,
                         draws: int = 1000, tune: int = 1000, chains: int = 4, seed: int = 0,
                         max_respondents: int | None = None, allow_incomplete: bool = False,
                         progress: bool = False):
    """The Bayesian ordinal model (:mod:`.ordinal_model`) of one scale or item of a run and its
    baseline: the effect of ``attribute`` in the humans and in each model × persona style × cue type,
    and their differences.

    Each wide row of the run (persona × style × cue type × model × replicate) is one silicon respondent;
    the source of a silicon row is ``"model / persona_style / cue_type"``.
    """
    from .ordinal_model import ordinal_comparison

    pending = require_complete(run_dir, allow_incomplete)
    base = baselines.load(baseline)
    _need_items(base, "bayes")
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
    wide = wide_results(run_dir)
    if attribute not in wide.columns:
        raise SpecError(f"the personas of this run have no attribute {attribute!r}", where=str(run_dir))
    # the source as model / style / cue type, and the perturbation when the study crossed any
    source = wide[list(PAIR_COLUMNS)].astype(str).agg(" / ".join, axis=1).str.replace(" / original$", "",
                                                                                      regex=True)
    silicon = wide.assign(source=source,
                          respondent=wide["persona_id"].astype(str) + "#" + wide["replicate"].astype(str))
    human = base.data.assign(source="human", respondent=base.data["respondent_id"])
    columns = ["source", "respondent", attribute] + items
    answers = pd.concat([human[columns], silicon[columns]], ignore_index=True)
    answers[items] = answers[items].apply(pd.to_numeric, errors="coerce")
    result = ordinal_comparison(answers, items, instrument.scale_of(items[0]).values, attribute,
                                list(base.population.attribute(attribute).categories),
                                reverse=tuple(k.lstrip("-") for k in keyed if k.startswith("-")), draws=draws,
                                tune=tune, chains=chains, seed=seed, max_respondents=max_respondents,
                                progress=progress)
    if pending.sum():
        result.effects = mark_pending(result.effects, pending)
        result.warnings.append(f"{int(pending.sum())} cells of the run were pending (--allow-incomplete)")
    return result


def rank_runs(run_dirs: list[str | Path], baseline: BaselineLike, *, subgroups: list[str] | None = None,
              invariance: bool = True, purpose: str = "all", bootstrap: int = 200, repetitions: int = 10,
              seed: int = 0, estimator: str | None = None, collapse_empty: bool = False,
              allow_incomplete: bool = False, missing: str = "auto") -> pd.DataFrame:
    """Rank every model × persona style × cue type of one or more runs against a baseline
    (:func:`.ranking.rank_pairs`); the ``run`` index level names each run by its folder."""
    from .ranking import rank_pairs

    if not run_dirs:
        raise SpecError("no run given", where="RUN_DIR", fix="name one or more run directories")
    baseline = baselines.load(baseline)       # once for all runs
    _need_items(baseline, "rank")
    names = [Path(r).name for r in run_dirs]
    if len(set(names)) < len(names):
        names = [str(Path(r)) for r in run_dirs]
    pending = pd.concat({name: require_complete(run_dir, allow_incomplete) for name, run_dir in zip(names, run_dirs)},
                        names=["run"])
    combined: dict[str, list[pd.DataFrame]] = {}
    for name, run_dir in zip(names, run_dirs):
        tables = compare_run(run_dir, baseline, subgroups=subgroups, invariance=invariance, bootstrap=bootstrap,
                             repetitions=repetitions, seed=seed, estimator=estimator, collapse_empty=collapse_empty,
                             allow_incomplete=allow_incomplete, missing=missing)
        for table_name, table in tables.items():
            combined.setdefault(table_name, []).append(pd.concat({name: table}, names=["run"]))
    return mark_pending(rank_pairs({k: pd.concat(v) for k, v in combined.items()}, purpose=purpose), pending)


def _need_items(base, command: str) -> None:
    if base.scale_level:
        raise SpecError(f"{command} needs item answers, and baseline {base.id} holds scale scores only",
                        where=f"--baseline {base.id}", fix=f"use `compare` for this baseline ({NOT_AT_SCALE_LEVEL})")


def drift_between_runs(run_a: str | Path, run_b: str | Path, allow_incomplete: bool = False
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the drift table of :mod:`.drift`, the model versions of each run) for two runs of the same study.

    The versions table has one row per run × model: the version in the run's manifest (for the embedded
    model, the GGUF file and its hash) and the versions the server reported with the answers.
    """
    pending = {"a": require_complete(run_a, allow_incomplete), "b": require_complete(run_b, allow_incomplete)}
    manifests = {"a": run_manifest(run_a), "b": run_manifest(run_b)}
    if manifests["a"]["study"]["id"] != manifests["b"]["study"]["id"]:
        raise SpecError(f"the runs are of different studies ({manifests['a']['study']['id']} and "
                        f"{manifests['b']['study']['id']})", where=f"{run_a} --against {run_b}",
                        fix="compare two runs of the same study")
    instruments = run_instruments(run_a)
    wide_a, wide_b = wide_results(run_a), wide_results(run_b)
    options = {it.id: i.scale_of(it).values for i in instruments.values() for it in i.items}
    scales = [s for i in instruments.values() for s in i.scoring.scales]
    outcomes = [c for c in [*options, *scales] if c in wide_a.columns and c in wide_b.columns]
    table = drift_table(wide_a, wide_b, outcomes, options)
    rows = []
    for label, run in (("a", run_a), ("b", run_b)):
        reported = long_results(run).groupby("model")["model_version"].agg(
            lambda v: ", ".join(sorted(set(v.dropna().astype(str)))))
        for model_id, model in manifests[label].get("models", {}).items():
            rows.append({"run": label, "dir": str(run), "model": model_id, "backend": model.get("backend"),
                         "manifest_version": model.get("model_version") or model.get("model"),
                         "reported_versions": reported.get(model_id, "")})
    if pending["a"].sum() or pending["b"].sum():
        table = table.assign(cells_pending_a=int(pending["a"].sum()), cells_pending_b=int(pending["b"].sum()))
    return table, pd.DataFrame(rows).set_index(["run", "model"])


def calibrate_run(run_dir: str | Path, baseline: BaselineLike, *, human_n: int | None = None, labelled=None,
                  pilot: str | Path | None = None, seed: int = 0, validate: int = 0, bootstrap: int = 200,
                  subgroups: list[str] | None = None, allow_incomplete: bool = False) -> dict[str, pd.DataFrame]:
    """The calibration tables of a twin run (:func:`.twins.calibration_tables`): the run's personas must have been
    drawn from the baseline's own respondents (population ``method: microdata`` on the baseline's population),
    so each persona's ``source_row`` names its human twin.

    ``labelled``: respondent ids of the baseline (``H00012``) or data rows (0-based ints) to use as the labelled
    sample, instead of ``human_n`` drawn at random with ``seed``. ``pilot``: instead, a data file of one's own
    respondents (:func:`~silicon_sample.population.baselines.pilot_sample`), each matched to the run's personas
    of the same profile (:func:`.twins.profile_split`): then the personas need no source rows.
    """
    from .twins import calibration_tables

    pending = require_complete(run_dir, allow_incomplete)
    base = baselines.load(baseline)
    _need_items(base, "calibrate")
    manifest = run_manifest(run_dir)
    population = manifest.get("population", {})
    if population.get("id") != base.population.id or (
            population.get("sha256") and base.population.sha256 and population["sha256"] != base.population.sha256):
        raise SpecError(f"the run's personas were drawn from population {population.get('id')!r}, and baseline "
                        f"{base.id}'s respondents are population {base.population.id!r}: a calibration pairs each "
                        "human with a persona drawn from that human's own answers' row", where=str(run_dir),
                        fix=f"run a study whose population is {base.population.id} with method: microdata "
                            "(e.g. studies/twins_bfi.yaml)")
    long = long_results(run_dir, with_personas=True)
    long = long[long["instrument"] == base.instrument.id].copy()
    if long.empty:
        raise SpecError(f"the run has no answers to {base.instrument.id}", where=str(run_dir),
                        fix=f"calibrate runs of the baseline's instrument ({base.instrument.id})")
    if pilot is None and long["source_row"].isna().any():
        raise SpecError("the run's personas have no source rows (they were not drawn from the baseline's "
                        "respondents' microdata), so no persona has a human twin", where=str(run_dir),
                        fix=f"run a study with population {{name: {base.population.id}, method: microdata}} "
                            "(e.g. studies/twins_bfi.yaml)")
    for item, top in base.top_coded.items():       # silicon answers read as the data top-code the humans'
        rows = long["item_id"] == item
        answers = pd.to_numeric(long.loc[rows, "answer"], errors="coerce")
        long.loc[rows, "answer"] = answers.where(~(answers >= top), top)
    attributes = [a for a in (subgroups or DEFAULT_ATTRIBUTES) if a in long.columns and a in base.data.columns]
    categories = {a: list(base.population.attribute(a).categories) for a in attributes}
    if labelled is not None:
        labelled = labelled_rows(labelled, len(base.data))
    pilot_frame, profile = None, ()
    if pilot is not None:
        pilot_frame, _ = baselines.pilot_sample(pilot, base)
        profile = tuple(persona_attribute_columns(long))
        categories = {a: c for a, c in categories.items() if a in profile}
    tables = calibration_tables(long, base.data, base.instrument, base.population.profiles, categories,
                                human_n=human_n, labelled=labelled, seed=seed, validate=validate,
                                bootstrap=bootstrap, pair_columns=PAIR_COLUMNS, pilot=pilot_frame,
                                pilot_attributes=profile)
    return {name: mark_pending(table, pending) for name, table in tables.items()}


def rank_calibration(run_dirs: list[str | Path], baseline: BaselineLike, *, human_n: int | None = None,
                     labelled=None, pilot: str | Path | None = None, seed: int = 0, validate: int = 0,
                     bootstrap: int = 200,
                     subgroups: list[str] | None = None, allow_incomplete: bool = False) -> pd.DataFrame:
    """``rank --purpose calibration``: every pair of one or more twin runs ordered by its gain (the humans its
    silicon answers are worth; :func:`.ranking.calibration_ranking`), the ``run`` level naming each run."""
    from .ranking import calibration_ranking

    if not run_dirs:
        raise SpecError("no run given", where="RUN_DIR", fix="name one or more run directories")
    baseline = baselines.load(baseline)
    names = [Path(r).name for r in run_dirs]
    if len(set(names)) < len(names):
        names = [str(Path(r)) for r in run_dirs]
    parts = [pd.concat({name: calibrate_run(run_dir, baseline, human_n=human_n, labelled=labelled, pilot=pilot,
                                            seed=seed,
                                            validate=validate, bootstrap=bootstrap, subgroups=subgroups,
                                            allow_incomplete=allow_incomplete)["calibration_pairs"]}, names=["run"])
             for name, run_dir in zip(names, run_dirs)]
    return calibration_ranking(pd.concat(parts))


def labelled_rows(labelled, respondents: int) -> list[int]:
    """Data rows from respondent ids (``H00012`` is row 11), row numbers, or a file of either (one per line, or
    a CSV with a ``respondent_id`` column)."""
    if isinstance(labelled, (str, Path)):
        path = Path(labelled)
        if not path.is_file():
            raise SpecError("file of labelled respondents not found", where=str(path),
                            fix="give a file with one respondent id per line, or a CSV with a respondent_id column")
        text = path.read_text(encoding="utf-8", errors="replace").split()
        values = pd.read_csv(path)["respondent_id"].tolist() if text and text[0].strip(",") == "respondent_id" \
            and path.suffix == ".csv" else [t for t in text if t and t != "respondent_id"]
        where = str(path)
    else:
        values, where = list(labelled), "labelled"
    rows = []
    for value in values:
        text = str(value).strip()
        number = text[1:] if text[:1] in ("H", "h") else text
        if not number.isdigit():
            raise SpecError(f"{text!r} is not a respondent id (H00012) or a row number", where=where,
                            fix="give ids as the baseline names them (silicon-sample results --with-personas shows "
                                "each persona's source_row)")
        row = int(number) - 1 if text[:1] in ("H", "h") else int(number)
        if not 0 <= row < respondents:
            raise SpecError(f"respondent {text} is not in the baseline ({respondents} respondents)", where=where,
                            fix="name respondents of the baseline")
        rows.append(row)
    if len(set(rows)) < len(rows):
        raise SpecError("a labelled respondent is named twice", where=where, fix="name each respondent once")
    return rows


def persona_effects_of_run(run_dir: str | Path, *, outcomes: list[str] | None = None, seed: int = 0,
                           bootstrap: int = 2000, top_share: float = 0.1,
                           allow_incomplete: bool = False) -> dict[str, pd.DataFrame]:
    """The tables of :func:`.persona_effects.persona_effects` for a run of a catalogue population (personas,
    control paraphrases and the empty persona): by default every scale score (a knowledge scale's proportion
    correct), each item of an instrument without scales, and the refusal and invalid rates, per model–persona
    pair; ``outcomes`` names others (any item)."""
    from ..psychometrics.scoring import keyed_items
    from .persona_effects import persona_effects

    pending = require_complete(run_dir, allow_incomplete)
    long = long_results(run_dir)
    wide = wide_results(run_dir, long=long)
    instruments = run_instruments(run_dir)
    scale_items, scales = {}, []
    unscaled = []             # an attitude battery without scales: each of its items is an outcome
    for instrument in instruments.values():
        if not instrument.keys():
            unscaled += [c for c in (it.id if it.id in wide.columns else f"{instrument.id}.{it.id}"
                                     for it in instrument.items) if c in wide.columns]
        ranges = instrument.item_ranges()
        for scale, keys in instrument.keys().items():
            column = scale if scale in wide.columns else f"{instrument.id}.{scale}"
            if column not in wide.columns:
                continue
            named = [("-" if k.startswith("-") else "") + (k.lstrip("-") if k.lstrip("-") in wide.columns
                                                           else f"{instrument.id}.{k.lstrip('-')}") for k in keys]
            item_ranges = {n.lstrip("-"): ranges[k.lstrip("-")] for n, k in zip(named, keys)}
            scale_items[column] = keyed_items(wide, named, item_ranges)
            scales.append(column)
    tables = persona_effects(wide, long, scale_items=scale_items, outcomes=outcomes, scales=scales + unscaled,
                             pair_columns=[c for c in PAIR_COLUMNS if wide[c].nunique() > 1] or ["model"],
                             seed=seed, bootstrap=bootstrap, top_share=top_share)
    return {name: mark_pending(table, pending) for name, table in tables.items()}
