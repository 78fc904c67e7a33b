"""How an instrument is put to a model: one item per chat, a battery, or a conversation; and in which order.

``independent`` (the default)
    Every item in a fresh chat of its own: no answer can influence another, so the order recorded changes
    nothing.
``battery``
    The items of one block in one prompt, answered as one structured object with one field per item
    (:func:`silicon_sample.answers.battery_model`); a missing or invalid field marks only its own item.
``conversation``
    The items one after another in one chat: each earlier question and the respondent's own answer stay as
    real turns (:func:`conversation_turn`), so context effects can appear.

**Blocks and order.** An instrument (or the study, per instrument) may group items into blocks. Per
respondent, the block order follows ``block_order`` and the item order within each block follows the
study's ``item_order`` (``random``: seeded per persona; ``random_per_replicate``: redrawn for every replicate
after the first; ``fixed``: as written). Every cell records its block, its position in the block and its
overall position. Nothing is randomized without the study's seed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..answers import Answer, written_answer
from ..seeds import rng_for
from ..specs.instruments import Block, Instrument

Mode = Literal["independent", "battery", "conversation"]
Order = Literal["random", "random_per_replicate", "fixed"]
MODES: tuple[str, ...] = ("independent", "battery", "conversation")


class Presentation(BaseModel):
    """One instrument's presentation in a study: the mode, its blocks, and how blocks are ordered."""

    model_config = ConfigDict(frozen=True)
    mode: Mode = "independent"
    blocks: tuple[Block, ...]
    block_order: Order
    declared_blocks: bool = False       # False: one block of every item, named after the instrument


def _permute(ids: list[str], order: str, seed: int, labels: tuple, replicate: int) -> list[str]:
    if order == "fixed":
        return ids
    if order == "random_per_replicate" and replicate > 1:
        labels = (*labels, f"r{replicate}")
    return [ids[i] for i in rng_for(seed, *labels).permutation(len(ids))]


def shown_order(seed: int, item_order: str, instrument: Instrument, presentation: Presentation, persona_id: str,
                replicate: int = 1) -> list[tuple[str, int, str]]:
    """``(block, position in block, item_id)`` in the order a persona sees an instrument's items.

    Without declared blocks this is the order of earlier versions: one seeded permutation of the items per
    persona and instrument (``item_order``)."""
    if not presentation.declared_blocks:
        block = presentation.blocks[0]
        ids = _permute(list(block.items), item_order, seed, ("item_order", persona_id, instrument.id), replicate)
        return [(block.id, n, item) for n, item in enumerate(ids, start=1)]
    blocks = {b.id: b for b in presentation.blocks}
    block_ids = _permute(list(blocks), presentation.block_order, seed, ("block_order", persona_id, instrument.id),
                         replicate)
    shown = []
    for block_id in block_ids:
        ids = _permute(list(blocks[block_id].items), item_order, seed,
                       ("item_order", persona_id, instrument.id, block_id), replicate)
        shown.extend((block_id, n, item) for n, item in enumerate(ids, start=1))
    return shown


def conversation_turn(answer: Answer | dict, prefill: str | None, dont_know: int | None = None) -> str | None:
    """What the respondent said, as the assistant turn kept in a conversation: a distribution-mode answer
    as the prefill followed by the answer drawn (the code, number or list of codes: what the reading amounts
    to); a sample-mode
    answer, a refusal or invalid output as the text the model wrote. ``None`` for a failed call (there is
    no reply to keep: the question is left out of the later turns, and the cell keeps its reason).
    ``answer`` may be an :class:`Answer` or a stored response row; ``dont_know`` is the code of "Don't know"
    when the scale offers it."""
    get = answer.get if isinstance(answer, dict) else lambda key: getattr(answer, key)
    status, value, raw = get("status"), get("value"), get("raw_output")
    if status == "failed":
        return None
    if prefill is not None and value is not None:
        return f"{prefill}{written_answer(value)}"
    if prefill is not None and status == "dont_know" and dont_know is not None:
        return f"{prefill}{dont_know}"
    return raw if raw else (written_answer(value) if value is not None else None)


__all__ = ["MODES", "Presentation", "conversation_turn", "shown_order"]
