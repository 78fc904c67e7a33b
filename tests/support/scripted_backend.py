"""A scripted stand-in model, for orchestration unit tests only.

It answers from a script (a function of the request) so that tests can make a
backend fail, return invalid output, or stop mid-batch. Every feature these
tests cover is also tested on the real embedded model.
"""

from __future__ import annotations

from silicon_sample.answers import Answer
from silicon_sample.backends.base import Backend


class ScriptedBackend(Backend):
    name = "scripted"

    def __init__(self, script=None, crash_after: int | None = None):
        self.script = script or (lambda request: Answer(request_id=request.request_id, status="answered",
                                                        value=request.options[0]))
        self.crash_after = crash_after
        self.calls: list[str] = []

    def answer(self, requests):
        for request in requests:
            if self.crash_after is not None and len(self.calls) >= self.crash_after:
                raise KeyboardInterrupt("scripted interruption")
            self.calls.append(request.request_id)
            yield self.script(request)

    def describe(self) -> dict:
        return {"backend": self.name, "model_version": "scripted-1"}
