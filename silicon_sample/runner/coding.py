"""Coding open-ended answers with a model: each answer put to a backend as a single-choice classification
into the codebook's categories.

The coder sees the survey question, the categories (``code = label: description``, :meth:`Codebook.describe`)
and one answer, and replies with a category's code — an :class:`~silicon_sample.answers.AnswerRequest` whose
options are the codebook's codes, so every backend codes (sample mode through the answer's JSON Schema;
distribution mode keeps the coder's probability of each category as coding probabilities, with the option
mass). Each answer's seed is derived from ``seed``, the cell and the item, so coding is reproducible; a
coder's refusal or invalid reply is kept with its reason, never dropped.
"""

from __future__ import annotations

import pandas as pd

from ..answers import AnswerRequest, ChatMessage
from ..backends.base import Backend
from ..seeds import derive_seed

CODER_PROMPT = ("You code answers to an open-ended survey question into categories.\n\nThe question: {question}\n\n"
                "Categories:\n{categories}\n\nReply with the number of the category that fits the answer best.")
CODER_PREFILL = "Category: "


def coding_requests(answers: pd.DataFrame, codebook, questions: dict[str, str], *, mode: str, temperature: float,
                    seed: int) -> list[AnswerRequest]:
    """One request per answer (``answers``: ``cell_id``, ``item_id``, ``text``)."""
    categories = codebook.describe()
    requests = []
    for row in answers.itertuples():
        system = CODER_PROMPT.format(question=questions.get(row.item_id, row.item_id), categories=categories)
        requests.append(AnswerRequest(
            request_id=str(row.cell_id), options=codebook.codes, mode=mode, temperature=temperature,
            seed=derive_seed(seed, "code", codebook.id, row.cell_id),
            prefill=CODER_PREFILL if mode == "distribution" else None,
            messages=(ChatMessage(role="system", content=system),
                      ChatMessage(role="user", content=f"The answer: \"{row.text}\""))))
    return requests


def model_codes(answers: pd.DataFrame, codebook, questions: dict[str, str], backend: Backend, *,
                mode: str = "distribution", temperature: float = 1.0, seed: int = 0) -> pd.DataFrame:
    """Per answer (indexed like ``answers``): ``code``, ``status``, ``reason``, the coding probability of each
    category ``p_<code>`` (distribution mode) and ``option_mass``."""
    backend.check_scale(codebook.codes, mode, CODER_PREFILL if mode == "distribution" else None)
    requests = coding_requests(answers, codebook, questions, mode=mode, temperature=temperature, seed=seed)
    by_id = {a.request_id: a for a in backend.answer(requests)}
    rows = []
    for cell in answers["cell_id"].astype(str):
        answer = by_id.get(cell)
        row = {"code": answer.value if answer and answer.status == "answered" else pd.NA,
               "status": answer.status if answer else "failed",
               "reason": answer.reason if answer else "the backend returned no answer",
               "option_mass": answer.option_mass if answer else None}
        for code in codebook.codes:
            row[f"p_{code}"] = (answer.probabilities or {}).get(code) if answer else None
        rows.append(row)
    frame = pd.DataFrame(rows, index=answers.index)
    frame["code"] = frame["code"].astype("Int64")
    return frame


__all__ = ["CODER_PREFILL", "CODER_PROMPT", "coding_requests", "model_codes"]
