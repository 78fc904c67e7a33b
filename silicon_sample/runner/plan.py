"""The requests of one model's pending cells, in each instrument's presentation.

The runner hands a backend streams of requests and gets one answer per cell back
(:mod:`silicon_sample.backends.base`). How the pending cells become requests depends on how their
instrument is presented (:mod:`silicon_sample.design.presentation`):

- ``independent`` cells are one request each, streamed as they are read from the run store;
- ``battery`` cells are one request per block (:func:`~silicon_sample.design.cells.battery_request`),
  holding every item of the block as shown, in the same stream;
- ``conversation`` cells go in rounds: a group of conversations (one per persona, style, cue type,
  perturbation, instrument and replicate) sends the next question of each at once, and the round's answers
  become the turns of the next round. Conversations begun in an earlier session take their turns from
  the stored answers, so ``resume`` continues a chat exactly where it stopped. A group holds one
  conversation for an in-process model (its items then follow each other, reusing the KV cache) and
  twice the backend's concurrency for a server.

Answers pass through :meth:`ModelPlan.deliver` before they are stored: a "Don't know" code becomes the
status ``dont_know``, and the answer of a battery item that an earlier session already stored is not
stored twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator

from ..answers import Answer, AnswerRequest
from ..backends.base import Backend
from ..design.cells import battery_request, build_request, dont_know_of, unit_cells
from ..design.perturbations import dont_know_answer
from ..design.presentation import conversation_turn
from ..design.study import ModelSpec, Study
from ..store.run_store import RunStore

UNIT = ("model_id", "persona_id", "persona_style", "cue_type", "perturbation", "instrument_id", "replicate")
"""The coordinates a conversation shares (a battery adds its block)."""


def unit_of(cell: dict) -> tuple:
    return tuple(cell.get(c, "original") if c == "perturbation" else cell[c] for c in UNIT)


def presentation_of(cell: dict) -> str:
    return cell.get("presentation") or "independent"       # runs made before presentations: independent


def block_cells(study: Study, cell: dict) -> list[dict]:
    """Every cell of a cell's block, in the order shown."""
    return [c for c in unit_cells(study, *unit_of(cell)) if c["block"] == cell["block"]]


def history_of(cells: list[dict], turns: dict[str, str | None]) -> list[tuple[dict, str | None]]:
    """``(cell, turn)`` for each earlier cell of a conversation (``None``: no turn to keep)."""
    return [(c, turns.get(c["cell_id"])) for c in cells]


StoredReader = Callable[[list[str]], dict[str, dict]]
"""The stored responses (status, value, raw_output) of the given cell ids: :meth:`RunStore.read_responses`, or
what the driver sent a Dask worker with its shard."""


def stored_turns(study: Study, model: ModelSpec, read: StoredReader, cells: list[dict]) -> dict[str, str | None]:
    """The respondent's turn for each of ``cells`` that has a stored answer."""
    prefill = study.prompt_layout.distribution_prefill if model.answer_mode == "distribution" else None
    stored = read([c["cell_id"] for c in cells])
    return {c["cell_id"]: conversation_turn(stored[c["cell_id"]], prefill, dont_know_of(study, c))
            for c in cells if c["cell_id"] in stored}


def cell_request(study: Study, model: ModelSpec, cell: dict, persona_text: str, store: RunStore) -> AnswerRequest:
    """The request that answers ``cell`` as the runner sends it: its own, its block's battery, or the next
    question of its conversation with the stored answers before it as turns (used by ``show``)."""
    mode = presentation_of(cell)
    if mode == "battery":
        return battery_request(study, model, block_cells(study, cell), persona_text)
    if mode == "conversation":
        cells = unit_cells(study, *unit_of(cell))
        earlier = cells[:next(i for i, c in enumerate(cells) if c["cell_id"] == cell["cell_id"])]
        return build_request(study, model, cell, persona_text,
                             history_of(earlier, stored_turns(study, model, store.read_responses, earlier)))
    return build_request(study, model, cell, persona_text)


class ModelPlan:
    """One model's pending cells as streams of requests (see the module docstring). ``pending`` gives the
    model's pending cells in run order, each with its ``persona_text`` (it is called once per pass: the
    independent and battery cells, then the conversations); ``read`` the stored responses of cells."""

    def __init__(self, study: Study, model: ModelSpec, backend: Backend, stop: threading.Event,
                 pending: Callable[[], Iterable[dict]], read: StoredReader):
        self.study, self.model, self.backend, self.stop = study, model, backend, stop
        self.pending, self.read = pending, read
        self.prefill = study.prompt_layout.distribution_prefill if model.answer_mode == "distribution" else None
        self._dont_know: dict[str, int] = {}
        self._already: set[str] = set()
        self._turns: dict[str, str | None] = {}      # of the conversations of the group under way
        self._awaiting_turn: set[str] = set()
        inner = getattr(backend, "backend", backend)
        self.group = 2 * getattr(inner, "concurrency", 0) if backend.cacheable else 1
        self.group = max(self.group, 1)

    # -- streams ----------------------------------------------------------------------------------
    def streams(self) -> Iterator[Iterable[AnswerRequest]]:
        """The streams to answer one after another: independent and battery cells, then conversation rounds."""
        yield self._flat()
        yield from self._conversations()

    def _register(self, cell: dict) -> None:
        code = dont_know_of(self.study, cell)
        if code is not None:
            self._dont_know[cell["cell_id"]] = code

    def _flat(self) -> Iterator[AnswerRequest]:
        block: list[dict] = []
        for cell in self.pending():
            if self.stop.is_set():
                return
            mode = presentation_of(cell)
            if block and (mode != "battery" or (unit_of(cell), cell["block"]) != (unit_of(block[0]),
                                                                                  block[0]["block"])):
                yield self._battery(block)
                block = []
            if mode == "battery":
                block.append(cell)
            elif mode == "independent":
                self._register(cell)
                yield build_request(self.study, self.model, cell, cell["persona_text"])
        if block and not self.stop.is_set():
            yield self._battery(block)

    def _battery(self, pending: list[dict]) -> AnswerRequest:
        cells = block_cells(self.study, pending[0])
        waiting = {c["cell_id"] for c in pending}
        self._already.update(c["cell_id"] for c in cells if c["cell_id"] not in waiting)
        for cell in cells:
            self._register(cell)
        return battery_request(self.study, self.model, cells, pending[0]["persona_text"])

    def _conversation_groups(self) -> Iterator[list[tuple[list[dict], list[dict], str]]]:
        """Groups of conversations: (all cells in order, the pending ones, the persona text)."""
        group: list = []
        current, pending = None, []
        for cell in self.pending():
            if self.stop.is_set():
                return
            if presentation_of(cell) != "conversation":
                continue
            if current is not None and unit_of(cell) != current:
                group.append(self._conversation(pending))
                pending = []
                if len(group) >= self.group:
                    yield group
                    group = []
            current = unit_of(cell)
            pending.append(cell)
        if pending:
            group.append(self._conversation(pending))
        if group:
            yield group

    def _conversation(self, pending: list[dict]) -> tuple[list[dict], list[dict], str]:
        cells = unit_cells(self.study, *unit_of(pending[0]))
        waiting = {c["cell_id"] for c in pending}
        answered = [c for c in cells if c["cell_id"] not in waiting]
        self._turns.update(stored_turns(self.study, self.model, self.read, answered))
        for cell in pending:
            self._register(cell)
            self._awaiting_turn.add(cell["cell_id"])
        order = {c["cell_id"]: i for i, c in enumerate(cells)}
        return cells, sorted(pending, key=lambda c: order[c["cell_id"]]), pending[0]["persona_text"]

    def _conversations(self) -> Iterator[list[AnswerRequest]]:
        for group in self._conversation_groups():
            queues = [(cells, list(pending), text) for cells, pending, text in group]
            while not self.stop.is_set():
                round_ = []
                for cells, pending, text in queues:
                    if not pending:
                        continue
                    cell = pending.pop(0)
                    index = next(i for i, c in enumerate(cells) if c["cell_id"] == cell["cell_id"])
                    round_.append(build_request(self.study, self.model, cell, text,
                                               history_of(cells[:index], self._turns)))
                if not round_:
                    break
                yield round_
            for cells, _, _ in group:            # the group is done: its turns are no longer needed
                for cell in cells:
                    self._turns.pop(cell["cell_id"], None)

    # -- answers ----------------------------------------------------------------------------------
    def deliver(self, answer: Answer) -> Answer | None:
        """The answer to store (``None``: already stored by an earlier session); conversation answers also
        become the turns of the next round."""
        if answer.request_id in self._already:
            self._already.discard(answer.request_id)
            self._dont_know.pop(answer.request_id, None)
            return None
        code = self._dont_know.pop(answer.request_id, None)
        if code is not None:
            answer = dont_know_answer(answer, code)
        if answer.request_id in self._awaiting_turn:
            self._awaiting_turn.discard(answer.request_id)
            self._turns[answer.request_id] = conversation_turn(answer, self.prefill, code)
        return answer



def store_plan(study: Study, model: ModelSpec, store: RunStore, backend: Backend, stop: threading.Event) -> ModelPlan:
    """The plan of one model of a run answered in this process: pending cells read from the run store a chunk
    at a time, stored turns read from it."""
    return ModelPlan(study, model, backend, stop, lambda: store.iter_pending(model.id), store.read_responses)


__all__ = ["ModelPlan", "cell_request", "store_plan"]
