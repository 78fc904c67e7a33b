"""The design of a study: personas, their renderings, and the cells to answer.

Personas are drawn from the population with the study seed (and weighted
against a target population when the study asks for it). Each persona is
rendered in every persona style × cue type of the study (a within-persona
factor). Each persona gets its own seeded order of each instrument's items,
the same for every style, cue type, model and replicate, so order is a
persona-level factor (``item_order: random_per_replicate`` draws a new order
for every replicate after the first, for test–retest with the order redrawn);
``position`` (1-based) records where an item was presented. A cell is
persona × style × cue type × instrument item × model × replicate, and carries
its own seed, derived from the study seed and the cell's coordinates, for the
answer it draws.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from ..answers import AnswerRequest
from ..population.personas import render_variant
from ..population.weighting import poststratification_weights, raking_weights, weight_summary
from ..seeds import derive_seed, rng_for
from .study import ModelSpec, Study

CELL_COLUMNS = ["cell_id", "seq", "persona_id", "persona_style", "cue_type", "model_id", "instrument_id", "item_id",
                "replicate", "position", "seed"]


def cell_id(model_id: str, persona_id: str, style: str, cue_type: str, instrument_id: str, item_id: str,
            replicate: int) -> str:
    return f"{model_id}/{persona_id}/{style}/{cue_type}/{instrument_id}/{item_id}/r{replicate}"


def draw_personas(study: Study) -> tuple[pd.DataFrame, dict | None]:
    """Personas (persona_id, attributes, weight[, source_row]) and, if weighted, the weight summary."""
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


def empty_groups(study: Study, personas: pd.DataFrame) -> list[str]:
    """Attribute categories the population has (share > 0) but no persona drawn: a sample smaller than the
    number of strata leaves whole groups out, and every analysis by that attribute then lacks them."""
    warnings = []
    for attribute, shares in study.population.marginals().items():
        if attribute not in personas.columns:
            continue
        drawn = set(personas[attribute].astype(str))
        missing = [(c, share) for c, share in shares.items() if share > 0 and str(c) not in drawn]
        if missing:
            listed = ", ".join(f"{c} ({share:.0%} of the population)" for c, share in missing)
            warnings.append(f"no persona drawn for {attribute} = {listed}: {len(personas)} personas over "
                            f"{len(shares)} categories; raise n to include every group")
    return warnings


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


def item_order(study: Study, persona_id: str, instrument_index: int, replicate: int = 1) -> list[str]:
    """The order a persona sees an instrument's items in: fixed, one seeded order per persona (``random``),
    or a seeded order per persona and replicate (``random_per_replicate``; replicate 1 keeps the
    ``random`` order)."""
    instrument = study.instruments[instrument_index]
    ids = [item.id for item in instrument.items]
    if study.item_order == "fixed":
        return ids
    labels = ("item_order", persona_id, instrument.id)
    if study.item_order == "random_per_replicate" and replicate > 1:
        labels = (*labels, f"r{replicate}")
    order = rng_for(study.seed, *labels).permutation(len(ids))
    return [ids[i] for i in order]


def count_cells(study: Study, n_personas: int) -> int:
    """The number of cells of a study with ``n_personas`` personas, without building them."""
    return (n_personas * len(study.persona_templates) * len(study.cue_types)
            * sum(len(i.items) for i in study.instruments) * sum(m.replicates for m in study.models))


def iter_cells(study: Study, personas: pd.DataFrame, chunk: int = CHUNK * 25) -> Iterator[list[tuple]]:
    """Every cell, in run order (model, persona, style, cue type, instrument, replicate, position), as lists
    of at most ``chunk`` rows (tuples in :data:`CELL_COLUMNS` order)."""
    rows: list[tuple] = []
    seq = 0
    for model in study.models:
        for persona_id in personas["persona_id"]:
            for template in study.persona_templates:
                for cue_type in study.cue_types:
                    for index, instrument in enumerate(study.instruments):
                        for replicate in range(1, model.replicates + 1):
                            order = item_order(study, persona_id, index, replicate)
                            for position, item_id in enumerate(order, start=1):
                                coordinates = (model.id, persona_id, template.name, cue_type, instrument.id, item_id,
                                               replicate)
                                rows.append((cell_id(*coordinates), seq, persona_id, template.name, cue_type,
                                             model.id, instrument.id, item_id, replicate, position,
                                             derive_seed(study.seed, "answer", *coordinates)))
                                seq += 1
                            if len(rows) >= chunk:
                                yield rows
                                rows = []
    if rows:
        yield rows


def build_cells(study: Study, personas: pd.DataFrame) -> pd.DataFrame:
    """All cells as one table (:func:`iter_cells`; a run streams them instead)."""
    return pd.DataFrame([row for rows in iter_cells(study, personas) for row in rows], columns=CELL_COLUMNS)


def build_request(study: Study, model: ModelSpec, cell: dict, persona_text: str) -> AnswerRequest:
    """The request for one cell: messages, options, mode, seed."""
    instrument = next(i for i in study.instruments if i.id == cell["instrument_id"])
    item = instrument.item(cell["item_id"])
    layout = study.prompt_layout
    return AnswerRequest(
        request_id=cell["cell_id"],
        messages=layout.messages(persona_text, instrument, item),
        options=tuple(instrument.scale_of(item).values),
        mode=model.answer_mode,
        temperature=model.temperature,
        seed=int(cell["seed"]),
        prefill=layout.distribution_prefill if model.answer_mode == "distribution" else None,
        max_tokens=model.max_tokens,
        with_reason=model.free_text_reason and model.answer_mode == "sample",
    )
