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
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..answers import Answer, AnswerRequest


def answer_from_top_logprobs(request: AnswerRequest, top: Sequence[tuple[str, float]], **fields) -> Answer:
    listed = {}
    for token, logprob in top:
        listed[token] = max(listed.get(token, -math.inf), logprob)
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
