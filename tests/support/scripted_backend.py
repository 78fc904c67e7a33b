"""A scripted stand-in model, for orchestration unit tests only: the package's in-process backend
(:mod:`silicon_sample.backends.in_process`) with an interruption after a set number of calls.

It answers from a script (a function of the request) so that tests can make a
backend fail, return invalid output, or stop mid-batch. Every feature these
tests cover is also tested on the real embedded model.
"""

from __future__ import annotations

from silicon_sample.backends.in_process import InProcessBackend


class ScriptedBackend(InProcessBackend):
    name = "scripted"

    def __init__(self, script=None, crash_after: int | None = None):
        super().__init__(script, version="scripted-1")
        self.crash_after = crash_after

    def answer(self, requests):
        def until_crash():
            for request in requests:
                if self.crash_after is not None and len(self.calls) >= self.crash_after:
                    raise KeyboardInterrupt("scripted interruption")
                yield request

        yield from super().answer(until_crash())
