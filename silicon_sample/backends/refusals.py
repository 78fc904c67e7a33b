"""Telling a refusal from an invalid answer.

A model that declines to answer ("I'm sorry, but I can't share personal
opinions…") is recorded as ``refused`` with its text, distinct from
``invalid`` (an answer that does not fit the scale) and ``failed`` (no answer
came back). Detection is by phrases common in model refusals
(:func:`silicon_sample.answers.is_refusal`, where output is validated); it is applied to output that did
not validate as an answer, and to an open-ended answer whose text is a refusal.
"""

from __future__ import annotations

from ..answers import DECLINED, REFUSAL_PATTERNS, is_refusal, refused_or_invalid

__all__ = ["DECLINED", "REFUSAL_PATTERNS", "is_refusal", "refused_or_invalid", "settle"]


def settle(answers: list, text: str | None, note: str) -> list:
    """Answers parsed from one reply, each one that did not validate settled by :func:`refused_or_invalid`
    (its reason followed by ``note``, e.g. how many asks it took)."""
    settled = []
    for answer in answers:
        if answer.status == "invalid":
            status, reason = refused_or_invalid(text, f"{answer.reason}{note}")
            answer = answer.model_copy(update={"status": status, "reason": reason})
        settled.append(answer)
    return settled
