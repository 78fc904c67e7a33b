"""The design of a study: personas, their renderings, and the cells to answer.

Personas are drawn from the population with the study seed (and weighted
against a target population when the study asks for it). Each persona is
rendered in every persona style × cue type of the study (a within-persona
factor). Each persona gets its own seeded order of each instrument's items,
the same for every style, cue type, model and replicate, so order is a
persona-level factor (``item_order: random_per_replicate`` draws a new order
for every replicate after the first, for test–retest with the order redrawn);
``position`` (1-based) records where an item was presented, ``block`` and
``block_position`` where within its block (:mod:`.presentation`). A cell is
persona × style × cue type × perturbation × instrument item × model ×
replicate (perturbations, :mod:`.perturbations`, are a within-persona factor
like the styles), and carries its own seed, derived from the study seed and
the cell's coordinates, for the answer it draws.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from ..answers import AnswerRequest, BatteryField, ChatMessage, answer_tokens
from ..population.personas import render_variant
from ..population.weighting import poststratification_weights, raking_weights, weight_summary
from ..seeds import derive_seed
from ..specs.instruments import OPTION_TYPES, Instrument
from .perturbations import ORIGINAL, dont_know_code, perturbed
from .presentation import shown_order
from .study import ModelSpec, Study, cells_in_design

CELL_COLUMNS = ["cell_id", "seq", "persona_id", "persona_style", "cue_type", "model_id", "instrument_id", "item_id",
                "replicate", "position", "seed", "perturbation", "presentation", "block", "block_position"]
"""A cell's columns in the run store: ``position`` is the overall position of the item as shown, ``block`` and
``block_position`` where it was within its block; ``presentation`` how its instrument was put (independent,
battery, conversation); ``perturbation`` how it was shown (:mod:`.perturbations`)."""


def cell_id(model_id: str, persona_id: str, style: str, cue_type: str, instrument_id: str, item_id: str,
            replicate: int, perturbation: str = ORIGINAL) -> str:
    """A cell's id; the perturbation is named only when it is not ``original`` (so ids and seeds of a study
    without perturbations are those of earlier versions)."""
    shown = (perturbation,) if perturbation != ORIGINAL else ()
    return "/".join((model_id, persona_id, style, cue_type, *shown, instrument_id, item_id, f"r{replicate}"))


def cell_seed(study_seed: int, model_id: str, persona_id: str, style: str, cue_type: str, instrument_id: str,
              item_id: str, replicate: int, perturbation: str = ORIGINAL) -> int:
    shown = (perturbation,) if perturbation != ORIGINAL else ()
    return derive_seed(study_seed, "answer", model_id, persona_id, style, cue_type, *shown, instrument_id, item_id,
                       replicate)


def draw_personas(study: Study) -> tuple[pd.DataFrame, dict | None]:
    """Personas (persona_id, attributes, weight[, source_row]) and, if weighted, the weight summary."""
    if study.selection is not None:
        return study.population.select(study.seed, **study.selection), None
    personas = study.population.sample(study.n, seed=study.seed, method=study.sampling_method,
                                       strata=list(study.strata) if study.strata else None)
    if study.weighting is None:
        return personas, None
    w = study.weighting
    variables = list(w.variables)
    if w.method == "rake":
        margins = {v: s for v, s in w.target.marginals().items() if v in variables}
        personas["weight"] = raking_weights(personas, margins, variables).to_numpy()
    else:
        personas["weight"] = poststratification_weights(personas, w.target.joint, variables).to_numpy()
    summary = {"target": w.target.id, "method": w.method, "variables": variables, **weight_summary(personas["weight"])}
    return personas, summary


def sampled_on(study: Study) -> list[str]:
    """The attributes the sample was asked to cover: the strata of stratified sampling, every attribute of a
    quota sample (its quotas are the joint cells), none of a random microdata draw."""
    if study.sampling_method == "stratified":
        return list(study.strata or study.population.stratify_by or study.population.attribute_names[:1])
    if study.sampling_method == "quota":
        return list(study.population.attribute_names)
    return []


def empty_groups(study: Study, personas: pd.DataFrame) -> list[str]:
    """At most one line: the categories of the attributes the sample was asked to cover (:func:`sampled_on`)
    that the population has (share > 0) but no persona drawn, and whether ``n`` could cover them at all. A
    sample smaller than the number of strata leaves whole groups out, and every analysis by that attribute
    then lacks them."""
    gaps = []
    most = 0
    for attribute, shares in study.population.marginals().items():
        if attribute not in sampled_on(study) or attribute not in personas.columns:
            continue
        present = [c for c, share in shares.items() if share > 0]
        most = max(most, len(present))
        drawn = set(personas[attribute].astype(str))
        missing = [(c, shares[c]) for c in present if str(c) not in drawn]
        if missing:
            gaps.append(f"{attribute} = " + ", ".join(f"{c} ({share:.0%})" if share >= 0.005 else f"{c} (<1%)"
                                                      for c, share in missing))
    if not gaps:
        return []
    why = (f"{len(personas)} personas cannot cover the {most} categories of one attribute" if len(personas) < most
           else f"{len(personas)} personas did not reach every category")
    return [f"no persona drawn for {'; '.join(gaps)} (share of the population in brackets): {why}; raise n to "
            "include every group"]


CHUNK = 1000
"""Personas rendered, or cells built, at a time when a run streams its design into the run store: memory
stays proportional to the chunk, not to the study."""


def iter_variants(study: Study, personas: pd.DataFrame, chunk: int = CHUNK) -> Iterator[pd.DataFrame]:
    """The renderings of ``chunk`` personas at a time (see :func:`render_personas`)."""
    for start in range(0, len(personas), chunk):
        rows = []
        for persona in personas.iloc[start:start + chunk].to_dict(orient="records"):
            for template in study.persona_templates:
                for cue_type in study.cue_types:
                    variant = render_variant(template, persona, study.population.attributes, cue_type, study.names,
                                             study.seed)
                    rows.append({"persona_id": persona["persona_id"], **variant})
        yield pd.DataFrame(rows)


def render_personas(study: Study, personas: pd.DataFrame) -> pd.DataFrame:
    """One row per persona × style × cue type: persona_text, name, cued_attributes."""
    return pd.concat(list(iter_variants(study, personas)), ignore_index=True) if len(personas) else pd.DataFrame()


def count_cells(study: Study, n_personas: int) -> int:
    """The number of cells of a study with ``n_personas`` personas, without building them."""
    return cells_in_design(n_personas, study.persona_templates, study.cue_types, study.perturbations,
                           study.instruments, study.models)


def unit_cells(study: Study, model_id: str, persona_id: str, style: str, cue_type: str, perturbation: str,
               instrument_id: str, replicate: int) -> list[dict]:
    """The cells one persona answers of one instrument (in one style, cue type, perturbation, model and
    replicate), in the order shown: what a conversation holds, and the blocks a battery puts in one prompt."""
    index = next(i for i, inst in enumerate(study.instruments) if inst.id == instrument_id)
    instrument = study.instruments[index]
    presentation = study.presentation(instrument)
    order = shown_order(study.seed, study.item_order, instrument, presentation, persona_id, replicate)
    cells = []
    for position, (block, block_position, item_id) in enumerate(order, start=1):
        coordinates = (model_id, persona_id, style, cue_type, instrument_id, item_id, replicate, perturbation)
        cells.append({"cell_id": cell_id(*coordinates), "persona_id": persona_id, "persona_style": style,
                      "cue_type": cue_type, "model_id": model_id, "instrument_id": instrument_id, "item_id": item_id,
                      "replicate": replicate, "position": position, "seed": cell_seed(study.seed, *coordinates),
                      "perturbation": perturbation, "presentation": presentation.mode, "block": block,
                      "block_position": block_position})
    return cells


def iter_cells(study: Study, personas: pd.DataFrame, chunk: int = CHUNK * 25) -> Iterator[list[tuple]]:
    """Every cell, in run order (model, persona, style, cue type, perturbation, instrument, replicate, position),
    as lists of at most ``chunk`` rows (tuples in :data:`CELL_COLUMNS` order)."""
    rows: list[tuple] = []
    seq = 0
    for model in study.models:
        for persona_id in personas["persona_id"]:
            for template in study.persona_templates:
                for cue_type in study.cue_types:
                    for perturbation in study.perturbations:
                        for instrument in study.instruments:
                            for replicate in range(1, model.replicates + 1):
                                for cell in unit_cells(study, model.id, persona_id, template.name, cue_type,
                                                       perturbation, instrument.id, replicate):
                                    rows.append(tuple(seq if c == "seq" else cell[c] for c in CELL_COLUMNS))
                                    seq += 1
                                if len(rows) >= chunk:
                                    yield rows
                                    rows = []
    if rows:
        yield rows


def build_cells(study: Study, personas: pd.DataFrame) -> pd.DataFrame:
    """All cells as one table (:func:`iter_cells`; a run streams them instead)."""
    return pd.DataFrame([row for rows in iter_cells(study, personas) for row in rows], columns=CELL_COLUMNS)


def shown_instrument(study: Study, instrument_id: str, perturbation: str = ORIGINAL) -> Instrument:
    """An instrument of the study as shown under a perturbation."""
    key = (id(study), instrument_id, perturbation)
    if key not in _SHOWN:
        if len(_SHOWN) > 256:
            _SHOWN.clear()
        instrument = next(i for i in study.instruments if i.id == instrument_id)
        _SHOWN[key] = (study, perturbed(instrument, perturbation))   # the study is kept so its id stays its own
    return _SHOWN[key][1]


_SHOWN: dict[tuple, tuple] = {}


def _options(instrument: Instrument, item) -> tuple[tuple[int, ...], tuple[str, ...] | None]:
    if item.type not in OPTION_TYPES:
        return (), None
    scale = instrument.scale_of(item)
    labels = scale.labels if scale.display == "labels_only" and item.coded else None
    return tuple(scale.values), labels


def dont_know_of(study: Study, cell: dict) -> int | None:
    """The "Don't know" code of a cell's scale when its perturbation offers it, else ``None``."""
    if cell.get("perturbation", ORIGINAL) != "dont_know":
        return None
    instrument = next(i for i in study.instruments if i.id == cell["instrument_id"])
    item = instrument.item(cell["item_id"])
    return dont_know_code(instrument.scale_of(item).values) if item.coded else None


def build_request(study: Study, model: ModelSpec, cell: dict, persona_text: str,
                  history: list[tuple[dict, str | None]] = ()) -> AnswerRequest:
    """The request for one cell: messages, options, mode, seed. In a conversation, ``history`` holds the
    earlier cells of the chat with the respondent's turn for each (``None``: the call failed, and that
    question is left out)."""
    instrument = shown_instrument(study, cell["instrument_id"], cell.get("perturbation", ORIGINAL))
    item = instrument.item(cell["item_id"])
    layout = study.prompt_layout
    if study.presentation(instrument.id).mode != "conversation":
        messages = list(layout.messages(persona_text, instrument, item))     # the item's own instructions and scale
    else:               # one system turn for the whole chat: an item on another scale says so in its turn
        messages = [layout.system_message(persona_text, instrument)]
        for earlier, turn in history:
            if turn is not None:
                messages += [layout.user_message(instrument, instrument.item(earlier["item_id"])),
                             ChatMessage(role="assistant", content=turn)]
        messages.append(layout.user_message(instrument, item))
    options, labels = _options(instrument, item)
    request_question = instrument.question_of(item)
    return AnswerRequest(
        request_id=cell["cell_id"],
        messages=tuple(messages),
        options=options,
        option_labels=labels,
        question=request_question,
        mode=model.answer_mode,
        temperature=model.temperature,
        seed=int(cell["seed"]),
        prefill=layout.distribution_prefill if model.answer_mode == "distribution" else None,
        max_tokens=answer_tokens(request_question, model.max_tokens) if not labels else max(model.max_tokens, 48),
        with_reason=model.free_text_reason and model.answer_mode == "sample",
    )


BATTERY_SUFFIX = "#battery"


def battery_request(study: Study, model: ModelSpec, block: list[dict], persona_text: str) -> AnswerRequest:
    """One request for the cells of one block (in the order shown): the items numbered in one user turn, the
    answer one object with a field ``q<number>`` per item. Its seed is the first cell's; its id the first
    cell's with :data:`BATTERY_SUFFIX`. Distribution mode has no prefill here: the backend reads each field's
    distribution inside the object (:mod:`silicon_sample.backends.embedded`)."""
    first = block[0]
    instrument = shown_instrument(study, first["instrument_id"], first.get("perturbation", ORIGINAL))
    items = [instrument.item(c["item_id"]) for c in block]
    keys = [f"q{n}" for n in range(1, len(block) + 1)]
    fields = []
    for cell, item, key in zip(block, items, keys):
        options, labels = _options(instrument, item)
        fields.append(BatteryField(request_id=cell["cell_id"], key=key, options=options, option_labels=labels,
                                   seed=int(cell["seed"]), question=instrument.question_of(item)))
    layout = study.prompt_layout
    budget = sum(20 if f.option_labels else answer_tokens(f.question, 8) for f in fields)
    return AnswerRequest(
        request_id=first["cell_id"] + BATTERY_SUFFIX,
        messages=(layout.system_message(persona_text, instrument), layout.battery_message(instrument, items, keys)),
        options=fields[0].options,
        mode=model.answer_mode,
        temperature=model.temperature,
        seed=int(first["seed"]),
        max_tokens=max(model.max_tokens, 16 + budget),
        battery=tuple(fields),
    )
