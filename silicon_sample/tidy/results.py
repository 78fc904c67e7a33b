"""Tidy results from a run store: long (one row per cell) and wide (one row per respondent).

Long format columns: persona_id, the persona attributes, weight, persona_style,
cue_type, name (first-name cue), cued_attributes, perturbation, model, backend,
model_version, instrument, presentation, block, block_position, item_id,
position (overall, as shown), replicate, answer (the option code), answer_value (only in a run holding
answers that are not one code: every cell's typed value — a number, a text, a tuple of codes),
status (answered / refused / invalid / failed / dont_know / pending), reason, p_<value>
for each response option (distribution mode), option_mass, raw_output,
latency_s, prompt_tokens, completion_tokens, seed, cell_id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ..answers import PENDING, read_stored_value
from ..psychometrics.scoring import scale_scores
from ..specs import instruments as instruments_module
from ..specs.instruments import dont_know_code
from ..store.run_store import RunStore

PAIR_COLUMNS: tuple[str, ...] = ("model", "persona_style", "cue_type", "perturbation")
"""The columns that name one model–persona pair (a silicon source): tables of every stage group by them. A
perturbation (how the instrument was shown, ``original`` unless the study lists perturbations) is part of
the source: answers under a reversed scale are not pooled with answers under the original."""



def with_source_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every :data:`PAIR_COLUMNS` column: a table made by hand (a notebook, an earlier version's
    export) without ``perturbation`` was asked as written, so it gets ``original``."""
    return frame if "perturbation" in frame.columns else frame.assign(perturbation="original")


def _design_defaults(cells: pd.DataFrame) -> pd.DataFrame:
    """Cell columns added with presentations and perturbations, filled for runs made before them (every item
    independent, the instrument one block, as written)."""
    defaults = {"perturbation": "original", "presentation": "independent", "block": cells["instrument_id"],
                "block_position": cells["position"]}
    return cells.assign(**{c: v for c, v in defaults.items() if c not in cells.columns})


def run_instruments(run: RunStore | str | Path) -> dict:
    """The instruments of a run, loaded from the run's own copies."""
    store = run if isinstance(run, RunStore) else RunStore.open(run)
    folder = store.dir / "inputs" / "instruments"
    loaded = [instruments_module.load(path) for path in sorted(folder.glob("*.y*ml"))]
    return {i.id: i for i in loaded}


def run_population(run: RunStore | str | Path):
    """The population a run drew its personas from, read from the run's own copy (None if it has none)."""
    from ..population import populations

    store = run if isinstance(run, RunStore) else RunStore.open(run)
    files = sorted((store.dir / "inputs" / "population").glob("*.y*ml"))
    return populations.load(files[0]) if files else None


def run_attributes(run: RunStore | str | Path) -> dict[str, tuple[str, tuple]]:
    """Each persona attribute of a run's population: (label, categories in the population's order)."""
    population = run_population(run)
    return {a.name: (a.label, tuple(a.categories)) for a in population.attributes} if population else {}


def run_manifest(run: RunStore | str | Path) -> dict:
    """The manifest of a run (how it was made: versions, models, seeds, sessions)."""
    store = run if isinstance(run, RunStore) else RunStore.open(run)
    return store.manifest()


def long_results(run: RunStore | str | Path, with_personas: bool = False) -> pd.DataFrame:
    """One row per persona × item × model × replicate; ``with_personas`` adds ``source_row`` (the
    microdata row a persona was drawn from) and ``persona_text`` (what the model was given)."""
    store = run if isinstance(run, RunStore) else RunStore.open(run)
    return pd.concat(list(iter_long_results(store, with_personas=with_personas, chunk=None)), ignore_index=True)


LONG_CHUNK_PERSONAS = 2000
"""Personas per chunk of :func:`iter_long_results` (about 50,000 rows of a 25-item instrument)."""


def iter_long_results(run: RunStore | str | Path, with_personas: bool = False,
                      chunk: int | None = LONG_CHUNK_PERSONAS) -> Iterator[pd.DataFrame]:
    """:func:`long_results` in chunks of ``chunk`` personas of one model (each respondent's rows in one chunk,
    the same columns in every chunk; ``None``: one chunk), read from the run store a chunk at a time, so a run
    of a million answers is exported or compared in flat memory."""
    store = run if isinstance(run, RunStore) else RunStore.open(run)
    personas = store.personas()
    sources = personas[["persona_id", "source_row"]]
    personas = personas.drop(columns=["source_row"])
    variants = store.variants()
    texts = variants[["persona_id", "persona_style", "cue_type", "persona_text"]] if with_personas else None
    variants = variants.drop(columns=["persona_text"])
    models = store.manifest().get("models", {})
    instruments = run_instruments(store)
    option_values = run_option_values(store, instruments)
    for cells in store.iter_responses(chunk):
        frame = _long_frame(_design_defaults(cells), personas, variants, models, option_values)
        if with_personas:
            frame = frame.merge(sources, on="persona_id", how="left").merge(
                texts, on=["persona_id", "persona_style", "cue_type"], how="left")
            frame["source_row"] = frame["source_row"].astype("Int64")
        yield frame


def run_option_values(store: RunStore, instruments: dict) -> list[int]:
    """Every option code a run's cells could be answered with: the instruments' and, when the run crossed the
    ``dont_know`` perturbation, the "Don't know" code of each scale (its probability is a ``p_`` column too)."""
    values = {v for i in instruments.values() for it in i.items for v in i.scale_of(it).values}
    if store.has_perturbation("dont_know"):
        values |= {dont_know_code(i.scale_of(it).values) for i in instruments.values() for it in i.items}
    return sorted(values)


def _long_frame(cells: pd.DataFrame, personas: pd.DataFrame, variants: pd.DataFrame, models: dict,
                option_values: list[int]) -> pd.DataFrame:
    frame = personas.merge(cells, on="persona_id", how="right")
    frame = frame.merge(variants, on=["persona_id", "persona_style", "cue_type"], how="left")
    frame["model"] = frame["model_id"]
    frame["backend"] = frame["model_id"].map(lambda m: models.get(m, {}).get("backend"))
    frame["instrument"] = frame["instrument_id"]
    frame["answer"] = frame["value"].astype("Int64")
    typed = frame["value_kind"].notna() & frame["value_kind"].ne("code") if "value_kind" in frame else None
    if typed is not None and typed.any():      # answers that are not one code: their typed value beside
        frame["answer_value"] = [read_stored_value(None if pd.isna(v) else v, k if t else None, d)
                                 for v, k, d, t in zip(frame["value"], frame["value_kind"], frame["value_data"],
                                                       typed)]
    frame["status"] = frame["status"].fillna(PENDING)
    parsed = frame["probabilities"].map(lambda p: json.loads(p) if isinstance(p, str) else {})
    for value in option_values:
        frame[f"p_{value}"] = parsed.map(lambda d, v=value: d.get(str(v), np.nan)).astype(float)
    attribute_columns = [c for c in personas.columns if c not in ("persona_id", "weight")]
    columns = (["persona_id", *attribute_columns, "weight", "persona_style", "cue_type", "name", "cued_attributes",
                "perturbation", "model", "backend", "model_version", "instrument", "presentation", "block",
                "block_position", "item_id", "position", "replicate", "answer",
                *(["answer_value"] if "answer_value" in frame else []), "status", "reason"]
               + [f"p_{v}" for v in option_values]
               + ["option_mass", "raw_output", "latency_s", "prompt_tokens", "completion_tokens", "seed", "cell_id"])
    return frame[columns].reset_index(drop=True)


def iter_wide_results(run: RunStore | str | Path, with_personas: bool = False,
                      chunk: int = LONG_CHUNK_PERSONAS) -> Iterator[pd.DataFrame]:
    """:func:`wide_results` in chunks of ``chunk`` personas (every respondent whole in one chunk)."""
    store = run if isinstance(run, RunStore) else RunStore.open(run)
    for long in iter_long_results(store, with_personas=with_personas, chunk=chunk):
        yield wide_results(store, long, with_personas=with_personas)


def persona_attribute_columns(long: pd.DataFrame) -> list[str]:
    """The persona attribute columns of long results (those between ``persona_id`` and ``weight``)."""
    columns = list(long.columns)
    return columns[columns.index("persona_id") + 1: columns.index("weight")]


def wide_results(run: RunStore | str | Path, long: pd.DataFrame | None = None,
                 with_personas: bool = False) -> pd.DataFrame:
    """One row per persona × style × cue type × model × replicate: item answers and scale scores.

    Item columns are named by item id and scale columns by scale id (prefixed
    ``instrument.`` only where two instruments share an id). Scale scores
    follow each instrument's keys and method (see :func:`scale_scores`).
    """
    store = run if isinstance(run, RunStore) else RunStore.open(run)
    long = long_results(store) if long is None else long
    instruments = run_instruments(store)
    index = ["persona_id", "persona_style", "cue_type", "perturbation", "model", "replicate"]
    item_ids = [it.id for i in instruments.values() for it in i.items]
    scale_ids = [s for i in instruments.values() for s in i.scoring.scales]
    prefix_items = len(set(item_ids)) != len(item_ids)
    prefix_scales = len(set(scale_ids)) != len(scale_ids)

    def item_column(instrument_id: str, item_id: str) -> str:
        return f"{instrument_id}.{item_id}" if prefix_items else item_id

    long = long.assign(column=[item_column(i, it) for i, it in zip(long["instrument"], long["item_id"])])
    answers = long.pivot_table(index=index, columns="column", values="answer", aggfunc="first", dropna=False)
    ordered = [item_column(i.id, it.id) for i in instruments.values() for it in i.items]
    answers = answers.reindex(columns=ordered).astype("Int64")
    parts = [answers]
    for instrument in instruments.values():
        columns = {it.id: item_column(instrument.id, it.id) for it in instrument.items}
        keys = {scale: [("-" if k.startswith("-") else "") + columns[k.lstrip("-")] for k in keyed]
                for scale, keyed in instrument.keys().items()}
        ranges = {columns[item]: bounds for item, bounds in instrument.item_ranges().items()}
        scores = scale_scores(answers.astype("Float64").astype(float), keys, ranges, instrument.scoring.method)
        if prefix_scales:
            scores = scores.add_prefix(f"{instrument.id}.")
        parts.append(scores)
    wide = pd.concat(parts, axis=1).reset_index()
    wide.columns.name = None
    attributes = long.drop_duplicates("persona_id").set_index("persona_id")
    attribute_columns = [c for c in long.columns[: long.columns.get_loc("persona_style")] if c != "persona_id"]
    wide = wide.merge(attributes[attribute_columns].reset_index(), on="persona_id", how="left")
    names = long.drop_duplicates(["persona_id", "persona_style", "cue_type"])[
        ["persona_id", "persona_style", "cue_type", "name"]]
    wide = wide.merge(names, on=["persona_id", "persona_style", "cue_type"], how="left")
    front = ["persona_id", *attribute_columns, "persona_style", "cue_type", "name", "perturbation", "model",
             "replicate"]
    wide = wide[front + [c for c in wide.columns if c not in front]]
    if with_personas:
        extra = long if "persona_text" in long.columns else long_results(store, with_personas=True)
        extra = extra.drop_duplicates(["persona_id", "persona_style", "cue_type"])
        wide = wide.merge(extra[["persona_id", "persona_style", "cue_type", "source_row", "persona_text"]],
                          on=["persona_id", "persona_style", "cue_type"], how="left")
    return wide
