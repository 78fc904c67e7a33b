"""Every error class of the package, in one place.

A failure a user can act on (a bad file, a missing run, a wrong option, data a
model cannot be fitted to) is a :class:`SiliconSampleError` with three parts:
*what* went wrong, *where* (a file, a field, a run directory, a group of the
data), and *how to fix* it. The CLI prints it as one line and exits non-zero;
tracebacks appear only with ``--debug``. Two exceptions never reach a user:
they carry the outcome of one model call to the place that records it as a
``failed`` or ``invalid`` cell, so nothing is dropped.

::

    Exception
    ├── SiliconSampleError        what, where, how to fix; the CLI prints it as one line
    │   ├── SpecError             an instrument, population, template, study, baseline or option is invalid
    │   ├── RunStoreError         a run directory is missing, locked, occupied or not a run
    │   ├── BackendError          a backend cannot be set up, or its server cannot serve the study
    │   ├── DataError             data a psychometric model cannot be fitted to (zero variance, too few
    │   │                         cases, a singular covariance matrix), naming the item and the group
    │   ├── ConvergenceError      an estimator did not reach the maximum of the likelihood
    │   ├── TooDeep               (also a ValueError) a JSON text nests deeper than allowed; readers of
    │   │                         files turn it into a SpecError or RunStoreError naming the file
    │   └── ValueKindError        (also a ValueError) an answer's value is not of its kind (a code that
    │                             is not a whole number); pydantic reports it as the answer's validation error
    └── CallError                 (internal) one model call ended without an answer
        ├── GaveUp                a call failed for good after its retries → a ``failed`` cell
        ├── InvalidOutput         structured output never validated → an ``invalid`` or ``refused`` cell
        └── MalformedReply        (also a ValueError) a server's body is not of its protocol's shape →
                                  retried as malformed, then a ``failed`` cell

No module raises a bare ``ValueError``, ``KeyError`` or ``RuntimeError`` for a user's input: an unknown
option, kind or name is a :class:`SpecError` saying which are known.
"""

from __future__ import annotations

MAX_MESSAGE_PART = 400
"""The most characters of each part of a message (what, where, fix): a value quoted from a hostile or broken
file (a million-column header, a 10 MB line) is shortened, never printed whole."""


def shorten(text: str, limit: int = MAX_MESSAGE_PART) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


class SiliconSampleError(Exception):
    """A failure the user can act on (each part shortened to :data:`MAX_MESSAGE_PART` characters)."""

    def __init__(self, what: str, where: str | None = None, fix: str | None = None):
        self.what = shorten(what)
        self.where = shorten(where) if where is not None else None
        self.fix = shorten(fix) if fix is not None else None
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = []
        if self.where:
            parts.append(f"{self.where}: ")
        parts.append(self.what)
        if self.fix:
            parts.append(f" — {self.fix}")
        return "".join(parts)


class SpecError(SiliconSampleError):
    """An instrument, population, template, study or baseline file (or an option) is invalid."""


class RunStoreError(SiliconSampleError):
    """A run directory is missing, locked, occupied, or not a silicon-sample run."""


class BackendError(SiliconSampleError):
    """A backend cannot be set up (model file missing, bad options, no credentials), or its server
    cannot serve the study (no log-probabilities, model not found)."""


class DataError(SiliconSampleError):
    """The data cannot be fitted (zero variance, too few cases, singular covariance)."""


class ConvergenceError(SiliconSampleError):
    """The optimiser did not reach the maximum of the likelihood."""


class TooDeep(SiliconSampleError, ValueError):
    """A JSON text nests deeper than allowed (checked before parsing, so the parser never recurses that far)."""


class ValueKindError(SiliconSampleError, ValueError):
    """An answer's value is not of its kind (:data:`silicon_sample.answers.ANSWER_KINDS`)."""


class CallError(Exception):
    """One model call ended without an answer; caught where the call's cell is recorded."""


class GaveUp(CallError):
    """A call failed for good: a final error, or a transient one after its last attempt.

    ``failure`` is the :class:`~silicon_sample.backends.resilience.Failure` of the last attempt.
    """

    def __init__(self, failure, attempts: int):
        self.failure, self.attempts = failure, attempts
        super().__init__(f"{failure.reason} (after {attempts} attempt{'s' if attempts != 1 else ''})")


class MalformedReply(CallError, ValueError):
    """A server's body that is not of its protocol's shape (not a chat completion the engine can read)."""


class InvalidOutput(CallError):
    """Structured output that never validated against the answer's schema; ``text`` is the last output."""

    def __init__(self, text: str | None, reason: str):
        self.text, self.reason = text, reason
        super().__init__(reason)
