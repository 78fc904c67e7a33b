"""The exact prompt of a cell: the messages a run sent (or would send), with what came back.

A request is rebuilt from the run's own copies of its inputs, the stored persona text and the cell's seed,
by the function the runner sends with (:func:`~silicon_sample.design.cells.build_request`), so it is the
request as sent, not a reconstruction of it. A server receives these messages as they are (with the
options' log-probabilities asked in distribution mode, or the answer tool in sample mode); the embedded
model applies its own chat template to them, then the prefill.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..answers import read_stored_value
from ..design.cells import CELL_COLUMNS, battery_request, build_request, draw_personas, iter_cells, iter_variants
from ..design.study import load_study
from ..errors import RunStoreError
from ..store.run_store import RunStore
from .plan import block_cells, cell_request

SHOW_LIMIT = 50
"""The most cells one ``show`` returns (a persona and item with many models, styles or replicates)."""

FILTERS = {"cell_id": "c.cell_id", "persona": "c.persona_id", "item": "c.item_id", "model": "c.model_id",
           "style": "c.persona_style", "cue": "c.cue_type", "instrument": "c.instrument_id",
           "replicate": "c.replicate"}


def _request_view(request) -> dict:
    return {"messages": [m.model_dump() for m in request.messages], "prefill": request.prefill,
            "options": list(request.options), "mode": request.mode, "temperature": request.temperature,
            "seed": request.seed, "max_tokens": request.max_tokens, "with_reason": request.with_reason,
            "option_labels": list(request.option_labels) if request.option_labels else None,
            "battery": [f.model_dump() for f in request.battery] or None,
            "question": request.question.describe() if request.question else None}


def cell_prompts(run_dir: str | Path, **filters) -> list[dict]:
    """The cells of a run matching ``filters`` (``cell_id``, ``persona``, ``item``, ``model``, ``style``,
    ``cue``, ``instrument``, ``replicate``), at most :data:`SHOW_LIMIT`, each with its coordinates, the
    request as sent (``messages``, ``prefill``, ``options``, ``mode``, ``temperature``, ``seed``,
    ``max_tokens``) and its ``response`` (None while pending)."""
    from .execute import load_run_study

    given = {k: v for k, v in filters.items() if v is not None}
    unknown = set(given) - set(FILTERS)
    if unknown:
        raise RunStoreError(f"unknown filter(s) {', '.join(sorted(unknown))}", where="show",
                            fix=f"use {', '.join(FILTERS)}")
    if not given:
        raise RunStoreError("name a cell: --cell CELL_ID, or --persona and --item", where="show",
                            fix="e.g. silicon-sample show RUN --persona P001 --item A2")
    store = RunStore.open(run_dir)
    study = load_run_study(store)
    where = " AND ".join(f"{FILTERS[k]} = ?" for k in given)
    typed_columns = store.typed_fields() + ","
    cursor = store.db.execute(
        f"SELECT c.*, v.persona_text, r.status, r.value, {typed_columns} r.probabilities, r.option_mass, "
        "r.raw_output, r.reason, "
        "r.latency_s, r.model_version FROM cells c JOIN persona_variants v USING (persona_id, persona_style, "
        f"cue_type) LEFT JOIN responses r USING (cell_id) WHERE {where} ORDER BY c.seq LIMIT ?",
        (*given.values(), SHOW_LIMIT + 1))
    rows, columns = cursor.fetchall(), [d[0] for d in cursor.description]
    if not rows:
        described = ", ".join(f"{k} {v}" for k, v in given.items())
        raise RunStoreError(f"no cell of this run has {described}", where=str(run_dir),
                            fix="see the cell ids with `silicon-sample export RUN -o -` (column cell_id)")
    models = {m.id: m for m in study.models}
    shown = []
    for row in rows[:SHOW_LIMIT]:
        cell = dict(zip(columns, row))
        request = cell_request(study, models[cell["model_id"]], cell, cell["persona_text"], store)
        response = None
        if cell["status"] is not None:
            response = {k: cell[k] for k in ("status", "option_mass", "raw_output", "reason", "latency_s",
                                             "model_version")}
            response["value"] = read_stored_value(cell["value"], cell.get("value_kind"), cell.get("value_data"))
            response["probabilities"] = json.loads(cell["probabilities"]) if cell["probabilities"] else None
        shown.append({"cell_id": cell["cell_id"], "persona_id": cell["persona_id"], "model": cell["model_id"],
                      "persona_style": cell["persona_style"], "cue_type": cell["cue_type"],
                      "instrument": cell["instrument_id"], "item_id": cell["item_id"],
                      "replicate": cell["replicate"], "position": cell["position"], **_request_view(request),
                      "presentation": cell.get("presentation", "independent"),
                      "perturbation": cell.get("perturbation", "original"), "block": cell.get("block"),
                      "block_position": cell.get("block_position"),
                      "response": response, "more": len(rows) > SHOW_LIMIT})
    store.close()
    return shown


def example_prompts(study_path: str | Path, *, n: int | None = None) -> list[dict]:
    """One example request per persona style × cue type of a study (its first persona, the first item it
    would be asked, its first model), made as the run would make it, before anything is sent."""
    study = load_study(study_path, n=n)
    personas, _ = draw_personas(study)
    first = personas.iloc[:1]
    variants = next(iter_variants(study, first))
    texts = variants.set_index(["persona_style", "cue_type"])["persona_text"]
    model = study.models[0]
    examples = {}
    for rows in iter_cells(study, first):
        for row in rows:
            cell = dict(zip(CELL_COLUMNS, row))
            key = (cell["persona_style"], cell["cue_type"])
            if cell["model_id"] != model.id or key in examples:
                continue
            if cell["presentation"] == "battery":     # the first block, as one prompt
                request = battery_request(study, model, block_cells(study, cell), texts[key])
            else:                                     # a conversation's first question has no history yet
                request = build_request(study, model, cell, texts[key])
            examples[key] = {"persona_id": cell["persona_id"], "persona_style": key[0], "cue_type": key[1],
                             "model": model.id, "instrument": cell["instrument_id"], "item_id": cell["item_id"],
                             **_request_view(request)}
    return list(examples.values())


__all__ = ["cell_prompts", "example_prompts"]
