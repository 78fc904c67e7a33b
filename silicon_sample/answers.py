"""The contract at the LLM boundary: what is asked and what comes back.

Following instructor's design, a pydantic model is the contract for an answer:
:func:`answer_model` builds, from an item's response scale, a model whose only
valid values are the scale's options. Its JSON Schema drives constrained
generation, and :func:`parse_structured` is the one place where raw model
output is validated into an answer or recorded as invalid with its reason.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

Status = Literal["answered", "refused", "invalid", "failed"]
STATUSES: tuple[str, ...] = get_args(Status)
NOT_ANSWERED: tuple[str, ...] = tuple(s for s in STATUSES if s != "answered")
PENDING = "pending"  # the status shown for a cell with no response yet (tidy results, status counts)
AnswerMode = Literal["distribution", "sample"]


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True)
    role: Literal["system", "user", "assistant"]
    content: str


class AnswerRequest(BaseModel):
    """One question put to one model: a cell of the design, ready to send."""

    model_config = ConfigDict(frozen=True)
    request_id: str
    messages: tuple[ChatMessage, ...]
    options: tuple[int, ...] = Field(description="Valid answer codes, in scale order.")
    mode: AnswerMode
    temperature: float = 1.0
    seed: int
    prefill: str | None = Field(default=None, description="Start of the assistant turn (distribution mode).")
    max_tokens: int = 32
    with_reason: bool = Field(default=False, description="Sample mode: ask for a short free-text reason too.")


RAW_MAX_CHARACTERS = 20_000
REASON_MAX_STORED = 2_000


def _truncated(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]} … [truncated: {len(text)} characters in all]"


class Answer(BaseModel):
    """What came back for one request. Nothing is dropped: a non-answer keeps its reason. Text a server
    sends is kept up to ``RAW_MAX_CHARACTERS`` (a reason up to ``REASON_MAX_STORED``), then cut with its
    full length noted."""

    request_id: str
    status: Status
    value: int | None = None
    probabilities: dict[int, float] | None = Field(
        default=None, description="Distribution mode: P(option), renormalised over the options.")
    option_mass: float | None = Field(
        default=None, description="Distribution mode: total probability the model put on the option tokens.")
    raw_output: str | None = None
    reason: str | None = None
    latency_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    model_version: str | None = None

    @field_validator("raw_output")
    @classmethod
    def _cap_raw(cls, text: str | None) -> str | None:
        return _truncated(text, RAW_MAX_CHARACTERS)

    @field_validator("reason")
    @classmethod
    def _cap_reason(cls, text: str | None) -> str | None:
        return _truncated(text, REASON_MAX_STORED)


REASON_MAX_CHARACTERS = 300


@lru_cache(maxsize=256)
def answer_model(options: tuple[int, ...], with_reason: bool = False) -> type[BaseModel]:
    """A pydantic model accepting exactly ``{"answer": <one of options>}``.

    With ``with_reason`` (off by default) it also takes a short free-text
    ``reason`` (at most 300 characters), kept in the raw output.

    >>> Model = answer_model((1, 2, 3))
    >>> Model.model_validate_json('{"answer": 2}').answer
    2
    """
    fields = {"answer": (Literal[tuple(options)], Field(description="The number of the chosen option."))}
    if with_reason:
        fields["reason"] = (str, Field(max_length=REASON_MAX_CHARACTERS,
                                       description="One short sentence on why you chose this answer."))
    return create_model("StructuredAnswer", __config__=ConfigDict(extra="forbid"), **fields)


def answer_schema(options: tuple[int, ...], with_reason: bool = False) -> dict:
    """JSON Schema of :func:`answer_model` (used as the generation grammar)."""
    return answer_model(tuple(options), with_reason).model_json_schema()


def parse_structured(raw: str, options: tuple[int, ...], with_reason: bool = False
                     ) -> tuple[Status, int | None, str | None]:
    """Validate raw structured output: ``(status, value, reason)``."""
    try:
        parsed = answer_model(tuple(options), with_reason).model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        return "invalid", None, f"output does not match the answer schema: {first['msg']}"
    return "answered", int(parsed.answer), None


def estimate_tokens(request: AnswerRequest, completion_tokens: int) -> int:
    """Tokens a request may use: prompt characters / 4 (a rough rule for English BPE vocabularies) plus
    the completion budget. Used for tokens-per-minute limits and dry-run estimates."""
    return sum(len(m.content) for m in request.messages) // 4 + 4 * len(request.messages) + completion_tokens
