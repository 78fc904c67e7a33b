"""The contract at the LLM boundary: what is asked and what comes back.

Following instructor's design, a pydantic model is the contract for an answer:
:func:`answer_model` builds, from an item's response scale, a model whose only
valid values are the scale's options. Its JSON Schema drives constrained
generation, and :func:`parse_structured` is the one place where raw model
output is validated into an answer or recorded as invalid with its reason.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from .errors import ValueKindError

Status = Literal["answered", "refused", "invalid", "failed", "dont_know"]
STATUSES: tuple[str, ...] = get_args(Status)
NOT_ANSWERED: tuple[str, ...] = tuple(s for s in STATUSES if s != "answered")
PENDING = "pending"  # the status shown for a cell with no response yet (tidy results, status counts)
AnswerMode = Literal["distribution", "sample"]

AnswerKind = Literal["code", "number", "text", "selection", "ranking"]
ANSWER_KINDS: tuple[str, ...] = get_args(AnswerKind)
"""What an answer's ``value`` is: ``code`` one option code (int; the single-choice item), ``number`` a
number (float: a thermometer, a count), ``text`` free text (str), ``selection`` the option codes chosen
(check-all-that-apply: a tuple of distinct codes in ascending order, possibly empty), ``ranking`` option
codes in rank order (a tuple of distinct codes, first = ranked highest)."""

TypedValue = int | float | str | tuple[int, ...]


def typed_value(kind: str, value) -> TypedValue | None:
    """``value`` checked and normalised as an answer of ``kind`` (see :data:`ANSWER_KINDS`); ``None`` stays
    ``None``. Raises :class:`~silicon_sample.errors.ValueKindError` (a ``ValueError``) naming what is wrong."""
    if value is None:
        return None
    if kind == "code":        # as pydantic's lax int: 3, 3.0 and "3" are the code 3
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueKindError(f"a code answer is a whole number, got {value!r}")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise ValueKindError(f"a number answer is a finite number, got {value!r}")
        return float(value)
    if kind == "text":
        if not isinstance(value, str):
            raise ValueKindError(f"a text answer is a string, got {value!r}")
        return value
    if kind in ("selection", "ranking"):
        codes = tuple(value) if isinstance(value, (list, tuple)) else None
        if codes is None or any(isinstance(c, bool) or not isinstance(c, int) for c in codes):
            raise ValueKindError(f"a {kind} answer is a list of option codes, got {value!r}")
        if len(set(codes)) != len(codes):
            raise ValueKindError(f"a {kind} answer names each option once, got {list(codes)}")
        return tuple(sorted(codes)) if kind == "selection" else codes
    raise ValueKindError(f"unknown answer kind {kind!r} (one of {', '.join(ANSWER_KINDS)})")


def stored_value(kind: str, value: TypedValue | None) -> tuple[int | None, str | None, str | None]:
    """How an answer's value is stored (the run store's ``value``, ``value_kind``, ``value_data`` columns): a
    code in ``value`` (INTEGER) with the other two NULL, as every run before typed answers stored it; any
    other kind as its name and its value in JSON, ``value`` NULL."""
    if kind == "code" or value is None:
        return (value if kind == "code" else None), (None if kind == "code" else kind), None
    return None, kind, json.dumps(list(value) if isinstance(value, tuple) else value)


def read_stored_value(value, kind: str | None, data: str | None) -> TypedValue | None:
    """The typed value of a stored response (the inverse of :func:`stored_value`; a run made before typed
    answers has no ``value_kind``: its values are codes)."""
    if not kind or kind == "code":
        return None if value is None else int(value)
    if data is None:
        return None
    loaded = json.loads(data)
    return typed_value(kind, loaded)


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True)
    role: Literal["system", "user", "assistant"]
    content: str


class BatteryField(BaseModel):
    """One item of a battery: the field of the answer object that holds its answer (its key), the cell it
    answers (``request_id``), its option codes and, for a labels-only scale, the labels answered with."""

    model_config = ConfigDict(frozen=True)
    request_id: str
    key: str
    options: tuple[int, ...]
    option_labels: tuple[str, ...] | None = None
    seed: int = 0


class AnswerRequest(BaseModel):
    """One question put to one model: a cell of the design, ready to send.

    A *battery* request (``battery`` not empty) puts several items in one prompt; the answer is one object
    with a field per item (:func:`battery_model`) and the backend yields one :class:`Answer` per field, with
    that field's ``request_id``. ``option_labels`` (labels-only presentation) makes the answer a label,
    recorded as the code in the same position of ``options``."""

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
    option_labels: tuple[str, ...] | None = Field(
        default=None, description="Labels-only presentation (sample mode): the answer is one of these labels.")
    battery: tuple[BatteryField, ...] = ()

    @property
    def answer_ids(self) -> tuple[str, ...]:
        """The cells this request answers: its own id, or one per battery field."""
        return tuple(f.request_id for f in self.battery) if self.battery else (self.request_id,)


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
    kind: AnswerKind = "code"
    value: TypedValue | None = Field(default=None,
                                     description="The answer, of ``kind`` (:data:`ANSWER_KINDS`).")
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

    @model_validator(mode="after")
    def _value_of_its_kind(self) -> Answer:
        checked = typed_value(self.kind, self.value)
        if checked is not self.value:
            object.__setattr__(self, "value", checked)
        return self

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
def answer_model(options: tuple[int, ...], with_reason: bool = False,
                 labels: tuple[str, ...] | None = None) -> type[BaseModel]:
    """A pydantic model accepting exactly ``{"answer": <one of options>}``.

    With ``with_reason`` (off by default) it also takes a short free-text
    ``reason`` (at most 300 characters), kept in the raw output. With ``labels``
    (labels-only presentation) the answer is one of the labels instead.

    >>> Model = answer_model((1, 2, 3))
    >>> Model.model_validate_json('{"answer": 2}').answer
    2
    """
    if labels:
        fields = {"answer": (Literal[tuple(labels)], Field(description="The chosen option, exactly as written."))}
    else:
        fields = {"answer": (Literal[tuple(options)], Field(description="The number of the chosen option."))}
    if with_reason:
        fields["reason"] = (str, Field(max_length=REASON_MAX_CHARACTERS,
                                       description="One short sentence on why you chose this answer."))
    return create_model("StructuredAnswer", __config__=ConfigDict(extra="forbid"), **fields)


def answer_schema(options: tuple[int, ...], with_reason: bool = False,
                  labels: tuple[str, ...] | None = None) -> dict:
    """JSON Schema of :func:`answer_model` (used as the generation grammar)."""
    return answer_model(tuple(options), with_reason, labels).model_json_schema()


def _choice(field: BatteryField):
    if field.option_labels:
        return Literal[tuple(field.option_labels)]
    return Literal[tuple(field.options)]


@lru_cache(maxsize=256)
def battery_model(fields: tuple[BatteryField, ...]) -> type[BaseModel]:
    """A pydantic model accepting exactly one answer per battery field: ``{"q1": 4, "q2": 2, ...}``, the
    fields in the order the items were shown."""
    spec = {f.key: (_choice(f), Field(description=f"The number of the option chosen for item {f.key[1:]}."
                                      if not f.option_labels else f"The option chosen for item {f.key[1:]}."))
            for f in fields}
    return create_model("BatteryAnswers", __config__=ConfigDict(extra="forbid"), **spec)


def _fields_key(request: AnswerRequest) -> tuple[BatteryField, ...]:
    return tuple(f.model_copy(update={"request_id": "", "seed": 0}) for f in request.battery)


def request_schema(request: AnswerRequest) -> dict:
    """The JSON Schema an answer to ``request`` must match: one answer, or one field per battery item."""
    if request.battery:
        return battery_model(_fields_key(request)).model_json_schema()
    return answer_schema(tuple(request.options), request.with_reason, request.option_labels)


def request_model(request: AnswerRequest) -> type[BaseModel]:
    """The pydantic model of :func:`request_schema`."""
    if request.battery:
        return battery_model(_fields_key(request))
    return answer_model(tuple(request.options), request.with_reason, request.option_labels)


def _code(value, options: tuple[int, ...], labels: tuple[str, ...] | None) -> int:
    return options[labels.index(value)] if labels else int(value)


def parse_structured(raw: str, options: tuple[int, ...], with_reason: bool = False,
                     labels: tuple[str, ...] | None = None) -> tuple[Status, int | None, str | None]:
    """Validate raw structured output: ``(status, value, reason)``; a label (labels-only) becomes its code."""
    try:
        parsed = answer_model(tuple(options), with_reason, labels).model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        return "invalid", None, f"output does not match the answer schema: {first['msg']}"
    return "answered", _code(parsed.answer, tuple(options), labels), None


def parse_battery(raw: str, request: AnswerRequest) -> list[tuple[str, Status, int | None, str | None]]:
    """Validate a battery's answer object field by field: ``(request_id, status, value, reason)`` per item.
    A missing or invalid field marks only its own item invalid; output that is not a JSON object marks
    every item invalid with the same reason."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        data, why = None, f"output is not JSON ({exc.msg})"
    else:
        why = None if isinstance(data, dict) else "output is not a JSON object"
    results = []
    for field in request.battery:
        if why:
            results.append((field.request_id, "invalid", None, why))
            continue
        if field.key not in data:
            results.append((field.request_id, "invalid", None, f"the answer object has no field {field.key!r}"))
            continue
        value = data[field.key]
        allowed = field.option_labels or field.options
        if isinstance(value, bool) or value not in allowed:
            results.append((field.request_id, "invalid", None,
                            f"field {field.key!r}: {value!r} is not one of the options {list(allowed)}"))
            continue
        results.append((field.request_id, "answered", _code(value, field.options, field.option_labels), None))
    return results


def parse_output(raw: str, request: AnswerRequest) -> list[tuple[str, Status, int | None, str | None]]:
    """The one place raw structured output becomes answers: ``(request_id, status, value, reason)`` for each
    cell the request answers (one, or one per battery field)."""
    if request.battery:
        return parse_battery(raw, request)
    return [(request.request_id, *parse_structured(raw, tuple(request.options), request.with_reason,
                                                   request.option_labels))]


def answers_from_output(request: AnswerRequest, raw: str, **common) -> list[Answer]:
    """:func:`parse_output` as :class:`Answer` objects sharing ``common`` fields (tokens, version); a
    battery's tokens are given to its first item (the others get 0), its raw output to every item."""
    answers = []
    for index, (request_id, status, value, reason) in enumerate(parse_output(raw, request)):
        fields = dict(common)
        if index and request.battery:
            fields.update({k: 0 for k in ("prompt_tokens", "completion_tokens") if fields.get(k) is not None})
        answers.append(Answer(request_id=request_id, status=status, value=value, raw_output=raw, reason=reason,
                              **fields))
    return answers


def failed_all(request: AnswerRequest, reason: str, status: Status = "failed", **common) -> list[Answer]:
    """One answer with ``status`` (default ``failed``) and ``reason`` per cell the request answers."""
    return [Answer(request_id=rid, status=status, reason=reason, **common) for rid in request.answer_ids]


def estimate_tokens(request: AnswerRequest, completion_tokens: int) -> int:
    """Tokens a request may use: prompt characters / 4 (a rough rule for English BPE vocabularies) plus
    the completion budget. Used for tokens-per-minute limits and dry-run estimates."""
    return sum(len(m.content) for m in request.messages) // 4 + 4 * len(request.messages) + completion_tokens
