"""Telling a refusal from an invalid answer.

A model that declines to answer ("I'm sorry, but I can't share personal
opinions…") is recorded as ``refused`` with its text, distinct from
``invalid`` (an answer that does not fit the scale) and ``failed`` (no answer
came back). Detection is by phrases common in model refusals; it is applied
only to output that did not validate as an answer.
"""

from __future__ import annotations

import re

REFUSAL_PATTERNS = (
    r"\bI(?:'m| am) (?:sorry|afraid)\b",
    r"\bI (?:can(?:no|')t|cannot|won't|will not|am unable to|'m unable to|am not able to|'m not able to)\b"
    r".{0,40}\b(?:answer|respond|provide|share|comply|help|assist|do that|rate|give)",
    r"\bas an (?:AI|artificial intelligence|language model)\b",
    r"\bI (?:don't|do not) have (?:personal )?(?:opinions|feelings|preferences|experiences)\b",
    r"\bI must decline\b",
    r"\bI(?:'d| would) (?:rather|prefer) not\b",
)
_COMPILED = re.compile("|".join(f"(?:{p})" for p in REFUSAL_PATTERNS), re.IGNORECASE | re.DOTALL)


def is_refusal(text: str | None) -> bool:
    """Whether ``text`` reads as a refusal to answer.

    >>> is_refusal("I'm sorry, but as an AI I cannot share personal opinions.")
    True
    >>> is_refusal('{"answer": 4}')
    False
    """
    return bool(text) and _COMPILED.search(text) is not None


DECLINED = "the model declined to answer"


def refused_or_invalid(text: str | None, reason: str) -> tuple[str, str]:
    """The status and reason of output that did not validate: ``refused`` when it reads as a refusal,
    else ``invalid`` with ``reason`` (every backend settles a non-answer here).

    >>> refused_or_invalid("I am sorry, I cannot rate myself.", "not a number")
    ('refused', 'the model declined to answer')
    """
    return ("refused", DECLINED) if is_refusal(text) else ("invalid", reason)


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
