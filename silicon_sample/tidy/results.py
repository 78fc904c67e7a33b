"""Tidy results from a run store: long (one row per cell) and wide (one row per respondent).

Long format columns: persona_id, the persona attributes, weight, persona_style,
cue_type, name (first-name cue), cued_attributes, perturbation, model, backend,
model_version, instrument, presentation, block, block_position, item_id,
position (overall, as shown), replicate, answer (the option code; in a run with numeric items also the
number answered, as a float column), answer_text (only in a run with open-ended items: the text, kept to the
item's max_length), selected (only in a run with check-all or rank items: the option codes chosen, or
ranked in order, joined by ";"), answer_value (only in a run holding answers that are not one code: every
cell's typed value — a number, a text, a tuple of codes),
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
from ..specs import instruments as instruments_module
from ..specs.instruments import CODED_TYPES, dont_know_code
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
    item_types = {t for i in instruments.values() for t in i.item_types.values()}
    for cells in store.iter_responses(chunk):
        frame = _long_frame(_design_defaults(cells), personas, variants, models, option_values, item_types)
        if with_personas:
            frame = frame.merge(sources, on="persona_id", how="left").merge(
                texts, on=["persona_id", "persona_style", "cue_type"], how="left")
            frame["source_row"] = frame["source_row"].astype("Int64")
        yield frame


def run_option_values(store: RunStore, instruments: dict) -> list[int]:
    """Every option code a run's cells could be answered with: the instruments' and, when the run crossed the
    ``dont_know`` perturbation, the "Don't know" code of each scale (its probability is a ``p_`` column too)."""
    values = {v for i in instruments.values() for it in i.coded_items for v in i.scale_of(it).values}
    if store.has_perturbation("dont_know"):
        values |= {dont_know_code(i.scale_of(it).values) for i in instruments.values() for it in i.coded_items}
    return sorted(values)


def _long_frame(cells: pd.DataFrame, personas: pd.DataFrame, variants: pd.DataFrame, models: dict,
                option_values: list[int], item_types: set[str] = frozenset()) -> pd.DataFrame:
    frame = personas.merge(cells, on="persona_id", how="right")
    frame = frame.merge(variants, on=["persona_id", "persona_style", "cue_type"], how="left")
    frame["model"] = frame["model_id"]
    frame["backend"] = frame["model_id"].map(lambda m: models.get(m, {}).get("backend"))
    frame["instrument"] = frame["instrument_id"]
    frame["answer"] = frame["value"].astype("Int64")
    typed = frame["value_kind"].notna() & frame["value_kind"].ne("code") if "value_kind" in frame else None
    if item_types - set(CODED_TYPES) or (typed is not None and typed.any()):   # their typed value beside
        frame["answer_value"] = [read_stored_value(None if pd.isna(v) else v, k if t else None,
                                                   None if pd.isna(d) else d)
                                 for v, k, d, t in zip(frame["value"], frame["value_kind"], frame["value_data"],
                                                       typed)]
        _typed_columns(frame, item_types)
    frame["status"] = frame["status"].fillna(PENDING)
    parsed = frame["probabilities"].map(lambda p: json.loads(p) if isinstance(p, str) else {})
    for value in option_values:
        frame[f"p_{value}"] = parsed.map(lambda d, v=value: d.get(str(v), np.nan)).astype(float)
    attribute_columns = [c for c in personas.columns if c not in ("persona_id", "weight")]
    columns = (["persona_id", *attribute_columns, "weight", "persona_style", "cue_type", "name", "cued_attributes",
                "perturbation", "model", "backend", "model_version", "instrument", "presentation", "block",
                "block_position", "item_id", "position", "replicate", "answer",
                *[c for c in TYPED_COLUMNS if c in frame], "status", "reason"]
               + [f"p_{v}" for v in option_values]
               + ["option_mass", "raw_output", "latency_s", "prompt_tokens", "completion_tokens", "seed", "cell_id"])
    return frame[columns].reset_index(drop=True)


TYPED_COLUMNS = ("answer_text", "selected", "answer_value")
"""Columns of long results present only in a run holding answers that are not one code."""


def _typed_columns(frame: pd.DataFrame, item_types: set[str]) -> None:
    """``answer`` takes the numbers of numeric items (a float column then), ``answer_text`` the texts,
    ``selected`` the chosen or ranked codes joined by ";" (in rank order for a ranking); which columns a run
    has follows from its item types, so every chunk has the same."""
    kinds = frame["value_kind"]
    if "numeric" in item_types:
        numbers = pd.Series([v if k == "number" else None for v, k in zip(frame["answer_value"], kinds)],
                            index=frame.index, dtype="Float64")
        frame["answer"] = frame["answer"].astype("Float64").where(kinds.ne("number"), numbers)
    if "text" in item_types:
        frame["answer_text"] = pd.Series([v if k == "text" else None for v, k in zip(frame["answer_value"], kinds)],
                                         index=frame.index, dtype="string")
    if item_types & {"multiple", "rank"}:
        frame["selected"] = pd.Series([";".join(map(str, v)) if k in ("selection", "ranking") and v is not None
                                       else None for v, k in zip(frame["answer_value"], kinds)],
                                      index=frame.index, dtype="string")


def iter_wide_results(run: RunStore | str | Path, with_personas: bool = False,
                      chunk: int = LONG_CHUNK_PERSONAS) -> Iterator[pd.DataFrame]:
    """:func:`wide_results` in chunks of ``chunk`` personas (every respondent whole in one chunk)."""
    store = run if isinstance(run, RunStore) else RunStore.open(run)
    for long in iter_long_results(store, with_personas=with_personas, chunk=chunk):
        yield wide_results(store, long, with_personas=with_personas)


def scored_answers(answers: pd.DataFrame, instrument, columns: dict[str, str]) -> pd.DataFrame:
    """The item columns a scale score takes, as floats: codes and numbers as answered (a numeric item's
    special codes, e.g. 998 "Don't know", are missing), a knowledge item 1 when its answer is the correct
    one and 0 otherwise (missing when not answered)."""
    frame = answers.astype("Float64").astype(float)
    for item in instrument.items:
        column = columns.get(item.id)
        if column is None or column not in frame:        # an item not scored (check-all, rank, text)
            continue
        if item.type == "knowledge":
            frame[column] = (frame[column] == item.correct).astype(float).where(frame[column].notna())
        elif item.type == "numeric" and item.special:
            frame[column] = frame[column].where(~frame[column].isin([o.value for o in item.special]))
    return frame


def typed_item_columns(long: pd.DataFrame, instruments: dict, index: list[str], item_column) -> pd.DataFrame | None:
    """Wide columns of the items not answered with one code or number: a text item's answer (``answer_text``),
    a check-all item's ``{item}_{code}`` (1 chosen, 0 not, missing when not answered: SPSS's multiple
    dichotomy set), a rank item's ``{item}_rank_{code}`` (the option's place, 1 = first; missing when not
    ranked in a top-k ranking or not answered)."""
    items = [(i, it) for i in instruments.values() for it in i.items if it.type in ("text", "multiple", "rank")]
    if not items:
        return None
    rows = long.set_index(index)
    columns = {}
    for instrument, item in items:
        mine = rows[(rows["instrument"] == instrument.id) & (rows["item_id"] == item.id)]
        name = item_column(instrument.id, item.id)
        if item.type == "text":
            columns[name] = mine["answer_text"]
            continue
        values = mine["answer_value"]
        answered = mine["status"].eq("answered")
        for code in instrument.scale_of(item).values:
            if item.type == "multiple":
                chosen = [float(code in v) if ok and v is not None else np.nan for v, ok in zip(values, answered)]
                columns[f"{name}_{code}"] = pd.Series(chosen, index=mine.index, dtype=float)
            else:
                place = [float(v.index(code) + 1) if ok and v is not None and code in v else np.nan
                         for v, ok in zip(values, answered)]
                columns[f"{name}_rank_{code}"] = pd.Series(place, index=mine.index, dtype=float)
    return pd.DataFrame(columns)


def _column_order(instruments: dict, item_column, present: list[str]) -> list[str]:
    """Item columns in the instruments' order (each item's own columns together), then scale scores."""
    order = []
    for instrument in instruments.values():
        for item in instrument.items:
            name = item_column(instrument.id, item.id)
            order += [c for c in present if c == name or c.startswith(f"{name}_") and c not in order
                      and _belongs(c, name, item)]
    return order + [c for c in present if c not in order]


def _belongs(column: str, name: str, item) -> bool:
    rest = column[len(name) + 1:]
    return item.type == "multiple" and rest.isdigit() or item.type == "rank" and rest.startswith("rank_")


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
    from ..psychometrics.scoring import scale_scores

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
    scored = [item_column(i.id, it.id) for i in instruments.values() for it in i.items
              if it.type in ("single", "knowledge", "numeric")]
    numeric = any(it.type == "numeric" for i in instruments.values() for it in i.items)
    answers = answers.reindex(columns=scored).astype("Float64" if numeric else "Int64")
    parts = [answers]
    for instrument in instruments.values():
        columns = {it.id: item_column(instrument.id, it.id) for it in instrument.items}
        keys = {scale: [("-" if k.startswith("-") else "") + columns[k.lstrip("-")] for k in keyed]
                for scale, keyed in instrument.keys().items()}
        ranges = {columns[item]: bounds for item, bounds in instrument.item_ranges().items()}
        scores = scale_scores(scored_answers(answers, instrument, columns), keys, ranges,
                              instrument.scoring.method)
        if prefix_scales:
            scores = scores.add_prefix(f"{instrument.id}.")
        parts.append(scores)
    typed = typed_item_columns(long, instruments, index, item_column)
    if typed is not None:
        parts.insert(1, typed)
    ordered = _column_order(instruments, item_column, [c for p in parts for c in p.columns])
    wide = pd.concat(parts, axis=1)[ordered].reset_index()
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
