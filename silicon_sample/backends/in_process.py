"""A backend that answers in-process from a function of the request: for tests of the engine's
orchestration (runs, resumes, statuses, stores) with no model and no server, and for trying a study's
mechanics in a notebook.

httpx's ``MockTransport`` idea: everything but the model runs as it does for real, and the model is a
plain function. Plug it in through the runner's documented boundary, no monkeypatching::

    from silicon_sample.backends.in_process import InProcessBackend
    ss.run("study.yaml", "runs/x", backend_factory=lambda model: InProcessBackend(lambda r: r.options[-1]))

``respond(request)`` returns an :class:`~silicon_sample.answers.Answer` (any status, with its reason) or
an option code, read as an answer with that value. A battery request gets the code for every field. Answers
of this backend are never cached and never priced; its manifest entry says what it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ..answers import Answer, AnswerRequest
from .base import Backend

Respond = Callable[[AnswerRequest], "Answer | int"]


def first_option(request: AnswerRequest) -> int:
    """Every item answered with its scale's first option."""
    return request.options[0]


class InProcessBackend(Backend):
    """Answers from ``respond`` (default :func:`first_option`); ``calls`` lists the request ids asked, in
    order."""

    name = "in_process"

    def __init__(self, respond: Respond | None = None, *, version: str = "in-process-1"):
        self.respond = respond or first_option
        self.version = version
        self.calls: list[str] = []

    def answer(self, requests: Iterable[AnswerRequest]) -> Iterator[Answer]:
        for request in requests:
            self.calls.append(request.request_id)
            reply = self.respond(request)
            if isinstance(reply, Answer):
                yield reply
                continue
            for request_id in request.answer_ids:
                yield Answer(request_id=request_id, status="answered", value=reply, model_version=self.version)

    def describe(self) -> dict:
        return {"backend": self.name, "model_version": self.version,
                "respond": getattr(self.respond, "__qualname__", type(self.respond).__name__)}


__all__ = ["InProcessBackend", "first_option"]
