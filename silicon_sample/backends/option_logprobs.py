"""Option probabilities from a server's top-k next-token log-probabilities (shared by HTTP backends).

Following OpinionQA (Santurkar et al., 2023, ``get_probabilities`` in
tatsu-lab/opinions_qa): a listed token counts for an option when it equals the
option's code, with or without a leading space (the larger probability is
taken); an option absent from the list is given

    min(smallest listed probability, unlisted mass / number of missing options)

where the unlisted mass is 1 − Σ listed probabilities (it cannot be larger,
and the smallest listed token bounds it). The option probabilities are then
renormalised. ``option_mass`` is the probability of the options actually found
in the list; the missing options are named in ``reason``. When no option is
in the list the cell is ``invalid`` (there is nothing to read). The recorded
answer is drawn from the distribution with the request's seed.

What a server sends is checked before it is read: a log-probability must be a
number ≤ 0 (−∞ is probability 0; up to ``1e-6`` above 0 is rounding), the listed
probabilities may not sum above 1 + ``SUM_TOLERANCE``, and the options' mass must
be positive — otherwise the cell is ``invalid`` with the reason, never renormalised.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..answers import Answer, AnswerRequest

SUM_TOLERANCE = 1e-3
"""How far above 1 the listed probabilities may sum (servers round their log-probabilities)."""


def _inconsistency(top: Sequence[tuple[str, float]]) -> str | None:
    for token, logprob in top:
        if not isinstance(logprob, (int, float)) or math.isnan(logprob) or logprob > 1e-6:
            return f"token {token!r} has log-probability {logprob!r} (a log-probability is a number ≤ 0)"
    total = sum(math.exp(logprob) for _, logprob in top)
    if total > 1 + SUM_TOLERANCE:
        return f"the listed probabilities sum to {total:.3f}, more than 1"
    return None


def answer_from_top_logprobs(request: AnswerRequest, top: Sequence[tuple[str, float]], **fields) -> Answer:
    inconsistent = _inconsistency(top)
    if inconsistent:
        shown = ", ".join(f"{token!r} {logprob!r}" for token, logprob in top[:5])
        return Answer(request_id=request.request_id, status="invalid", raw_output=f"next-token top {len(top)}: "
                      f"{shown} (log-probabilities)", reason=f"the server's log-probabilities are not valid: "
                      f"{inconsistent}", **fields)
    listed = {}
    for token, logprob in top:
        listed[token] = max(listed.get(token, -math.inf), min(0.0, logprob))
    found: dict[int, float] = {}
    for value in request.options:
        variants = [listed[key] for key in (str(value), f" {value}") if key in listed]
        if variants:
            found[value] = math.exp(max(variants))
    listing = ", ".join(f"{token!r} {math.exp(logprob):.3f}" for token, logprob in top[:5])
    raw = f"next-token top {len(top)}: {listing}"
    if not found:
        return Answer(request_id=request.request_id, status="invalid", raw_output=raw,
                      reason=f"no option label among the top {len(top)} next tokens", **fields)
    if not sum(found.values()) > 0:
        return Answer(request_id=request.request_id, status="invalid", raw_output=raw,
                      reason="the options' probability mass is 0 (their log-probabilities underflow)", **fields)
    missing = [v for v in request.options if v not in found]
    unnormalised = dict(found)
    if missing:
        smallest = min(math.exp(lp) for lp in listed.values())
        unlisted = max(0.0, 1.0 - sum(math.exp(lp) for lp in listed.values()))
        fill = min(smallest, unlisted / len(missing))
        unnormalised.update(dict.fromkeys(missing, fill))
    total = sum(unnormalised.values())
    probabilities = {v: unnormalised[v] / total for v in request.options}
    value = int(np.random.default_rng(request.seed).choice(
        np.array(request.options), p=np.array([probabilities[v] for v in request.options])))
    reason = (f"options not in the top {len(top)}: {missing} (each given min(smallest listed, unlisted mass / "
              f"{len(missing)}) = {fill:.2g}, as OpinionQA)") if missing else None
    return Answer(request_id=request.request_id, status="answered", value=value, probabilities=probabilities,
                  option_mass=sum(found.values()), raw_output=raw, reason=reason, **fields)
