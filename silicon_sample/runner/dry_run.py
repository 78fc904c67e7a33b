"""What a study would cost before any call is made: calls, tokens and money per model.

Tokens are estimated as prompt characters / 4 plus the completion budget
(1 token in distribution mode, ``max_tokens`` in sample mode — more for an item answered with a list of
options or free text, ``completion_by_type`` says how much each item type takes; up to
1 + re-asks calls per cell in sample mode on server backends). Cells whose
identical call is already in the response cache are counted apart: they cost
nothing (unless the model's version has moved since, which only the run itself
can see: see :mod:`silicon_sample.backends.response_cache`). Prices come from
a YAML table the user gives (``--prices FILE``)::

    gpt-4o-mini: {input_per_million: 0.15, output_per_million: 0.60}

Tokens are summed from each persona variant's system message and each item's user message, so the cells
are never built (a study of 100,000 personas is estimated in seconds); cached cells are looked up only
up to :data:`CACHE_CHECK_LIMIT` cells per model. The embedded model costs nothing; a server model without a
price shows no cost. A model sent through
the Batch API (``backend: openai_batch``) is priced at the batch rate: the entry's ``batch_input_per_million``
and ``batch_output_per_million`` when given, else half the synchronous price (OpenAI's batch discount);
it has no re-asks. ``price_basis`` names the rate used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import backends
from ..answers import answer_tokens, estimate_tokens
from ..backends.openai_batch import BATCH_DISCOUNT
from ..backends.response_cache import ResponseCache, answer_shaping, cache_key, default_path
from ..design.cells import build_cells, build_request, draw_personas, iter_variants
from ..design.study import load_study
from ..errors import SpecError
from ..specs.yaml_files import read_yaml
from .execute import create_backend, preflight


def load_prices(path: str | Path | None) -> dict:
    if path is None:
        return {}
    data = read_yaml(Path(path))
    if not isinstance(data, dict) or not all(isinstance(v, dict) and {"input_per_million", "output_per_million"}
                                             <= set(v) for v in data.values()):
        raise SpecError("each entry needs input_per_million and output_per_million", where=str(path),
                        fix="e.g. `my-model: {input_per_million: 0.15, output_per_million: 0.6}`")
    for model, entry in data.items():
        for key, value in entry.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise SpecError(f"price {key} of {model} must be a number of US dollars ≥ 0, got {value!r}",
                                where=f"{path}: {model}.{key}", fix=f"e.g. {key}: 0.15")
    return data


def _rate(price: dict | None, batched: bool) -> tuple[dict | None, str]:
    """The per-million prices that apply, and their name."""
    if not price:
        return None, "no price given"
    if not batched:
        return price, "synchronous"
    if {"batch_input_per_million", "batch_output_per_million"} <= set(price):
        return {"input_per_million": price["batch_input_per_million"],
                "output_per_million": price["batch_output_per_million"]}, "batch (price table)"
    return {k: price[k] * BATCH_DISCOUNT for k in ("input_per_million", "output_per_million")}, \
        f"batch ({BATCH_DISCOUNT:.0%} of synchronous)"


CACHE_CHECK_LIMIT = 200_000
"""Cells of one model up to which a dry run looks each one up in the response cache (each lookup hashes the
whole request); a larger study's ``cached`` is not checked (NaN) and its estimate counts every cell."""


def _prompt_tokens(study, variants: pd.DataFrame) -> int:
    """Σ over the cells of one replicate of these persona variants of the prompt-token estimate of
    :func:`~silicon_sample.answers.estimate_tokens` (characters / 4 + 4 per message), computed from the system
    message of each persona variant × instrument and the user message of each item, so a study of any size is
    estimated without building its cells."""
    layout, total = study.prompt_layout, 0
    for instrument in study.instruments:
        system = np.array([len(layout.system_message(text, instrument).content) for text in variants["persona_text"]],
                          dtype=np.int64)
        user = np.array([len(layout.user_message(instrument, item).content) for item in instrument.items],
                        dtype=np.int64)
        mode = study.presentation(instrument).mode
        if mode == "battery":          # one call per block: the system message and every item once
            blocks = len(study.presentation(instrument).blocks)
            total += int(((system * blocks + user.sum()) // 4 + 4 * 2 * blocks).sum())
        elif mode == "conversation":   # item k carries the k - 1 questions before it and a short answer to each
            earlier = np.concatenate([[0], np.cumsum(user + ANSWER_CHARACTERS)[:-1]])
            per_item = user + earlier
            turns = 4 * (2 + 2 * np.arange(len(user)))
            total += int(((system[:, None] + per_item[None, :]) // 4 + turns[None, :]).sum())
        else:
            total += int(((system[:, None] + user[None, :]) // 4 + 4 * 2).sum())
    return total * len(study.perturbations)


def completion_by_type(study, model) -> dict[str, int]:
    """Completion tokens one persona variant's cells may use, by item type: 1 per item in distribution mode;
    in sample mode each item's budget (:func:`~silicon_sample.answers.answer_tokens`: the model's
    ``max_tokens``, more for a list of options or free text)."""
    out: dict[str, int] = {}
    for instrument in study.instruments:
        for item in instrument.items:
            budget = 1 if model.answer_mode == "distribution" else answer_tokens(instrument.question_of(item),
                                                                                 model.max_tokens)
            out[item.type] = out.get(item.type, 0) + budget
    return out


ANSWER_CHARACTERS = 12
"""Characters of an answer kept as a turn of a conversation, for the estimate (``Answer: 4``, ``{"answer": 4}``)."""


def _variant_tokens(study, personas: pd.DataFrame, keep_texts: bool) -> tuple[int, int, pd.Series | None]:
    """Prompt tokens of one replicate, the number of persona variants and (when ``keep_texts``) their texts,
    rendering a chunk of personas at a time (memory stays flat however many personas the study has)."""
    tokens, count, texts = 0, 0, []
    for chunk in iter_variants(study, personas):
        tokens += _prompt_tokens(study, chunk)
        count += len(chunk)
        if keep_texts:
            texts.append(chunk.set_index(["persona_id", "persona_style", "cue_type"])["persona_text"])
    return tokens, count, (pd.concat(texts) if keep_texts and texts else None)


def estimate(study_path: str | Path, *, n: int | None = None, prices: str | Path | None = None) -> pd.DataFrame:
    """One row per model: cells, calls (min–max), cached cells, estimated tokens and cost (USD)."""
    study = load_study(study_path, n=n)
    preflight(study)          # what would stop the run: options out of range, a scale the model cannot read
    table = load_prices(prices)
    personas, _ = draw_personas(study)
    items_per_variant = sum(len(i.items) for i in study.instruments) * len(study.perturbations)
    calls_per_variant = len(study.perturbations) * sum(
        len(study.presentation(i).blocks) if study.presentation(i).mode == "battery" else len(i.items)
        for i in study.instruments)
    cache = ResponseCache(default_path()) if default_path().exists() else None
    n_variants = len(personas) * len(study.persona_templates) * len(study.cue_types)
    checked = cache is not None and any(n_variants * items_per_variant * m.replicates <= CACHE_CHECK_LIMIT
                                        for m in study.models if backends.backend_class(m.backend).cacheable)
    tokens_per_replicate, n_variants, texts = _variant_tokens(study, personas, keep_texts=checked)
    cells = None
    rows = []
    for model in study.models:
        n_cells = n_variants * items_per_variant * model.replicates
        entry = backends.entry(model.backend)
        calls_server = entry.load().cacheable
        batched = entry.batch_priced
        asks = 1 + int(model.options.get("max_reasks", 2)) if entry.reasks and model.answer_mode == "sample" else 1
        completion_budget = 1 if model.answer_mode == "distribution" else model.max_tokens
        prompt_tokens = tokens_per_replicate * model.replicates
        by_type = completion_by_type(study, model)
        per_cells = n_variants * len(study.perturbations) * model.replicates
        completion_tokens = per_cells * sum(by_type.values())
        n_calls = n_variants * calls_per_variant * model.replicates
        cached: float = 0
        if calls_server and cache is not None and n_cells <= CACHE_CHECK_LIMIT:
            with create_backend(model) as backend:      # no call is made: only its description is read
                identity = answer_shaping(backend.describe())
            cells = build_cells(study, personas) if cells is None else cells
            independent = (cells["model_id"] == model.id) & (cells["presentation"] == "independent")
            for cell in cells[independent].to_dict(orient="records"):   # batteries and conversations: not looked up
                request = build_request(study, model, cell, texts[(cell["persona_id"], cell["persona_style"],
                                                                  cell["cue_type"])])
                if cache.get(cache_key(identity, request)):
                    cached += 1
                    prompt_tokens -= estimate_tokens(request, 0)
                    completion_tokens -= completion_budget
        elif calls_server and cache is not None:
            cached = float("nan")
        price, basis = _rate(table.get(model.model or ""), batched)
        if not calls_server:
            cost, basis = 0.0, "free (in-process)"
        elif price:
            cost = (prompt_tokens * price["input_per_million"] + completion_tokens * price["output_per_million"]) / 1e6
        else:
            cost = float("nan")
        sent = n_calls - (cached if cached == cached else 0)
        rows.append({"model": model.id, "backend": model.backend, "cells": n_cells, "cached": cached,
                     "calls_min": sent, "calls_max": sent * asks, "prompt_tokens_est": prompt_tokens,
                     "completion_tokens_est": completion_tokens,
                     "completion_by_type": "; ".join(f"{t} {per_cells * v:,}" for t, v in by_type.items()),
                     "cost_usd_est": cost, "price_basis": basis})
    if cache is not None:
        cache.close()
    return pd.DataFrame(rows).set_index("model")
