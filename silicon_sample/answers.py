"""The contract at the LLM boundary: what is asked and what comes back.

Following instructor's design, a pydantic model is the contract for an answer:
:func:`answer_model` builds, from an item's response scale, a model whose only
valid values are the scale's options. Its JSON Schema drives constrained
generation, and :func:`parse_structured` is the one place where raw model
output is validated into an answer or recorded as invalid with its reason.
"""

from __future__ import annotations

import json
import re
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


QuestionType = Literal["numeric", "multiple", "text", "rank"]
KIND_OF_TYPE: dict[str, str] = {"numeric": "number", "multiple": "selection", "text": "text", "rank": "ranking"}
"""The answer kind (:data:`ANSWER_KINDS`) of each question type that is not single-choice (``single`` and
``knowledge`` items are answered with a ``code``)."""
TEXT_MAX_CHARACTERS = 1_000
"""The default longest open-ended answer kept (an item's ``max_length`` overrides it)."""


class Question(BaseModel):
    """The answer contract of an item that is not single-choice (a single-choice or knowledge item has none: its
    contract is its option codes).

    ``numeric``: a number from ``minimum`` to ``maximum`` (both included), whole when ``integer``, on the grid
    ``minimum + k·step`` when ``step`` is set; a ``special`` code (e.g. 998 "Don't know") is accepted beside
    the range. ``multiple``: the distinct ``options`` chosen, between ``min_selected`` and ``max_selected`` of
    them, an ``exclusive`` option ("None of these") only alone. ``text``: a string of at most ``max_length``
    characters. ``rank``: ``top`` distinct options (all when ``top`` is None) in order, first = highest."""

    model_config = ConfigDict(frozen=True)
    type: QuestionType
    options: tuple[int, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = True
    step: float | None = None
    special: tuple[int, ...] = ()
    min_selected: int = 0
    max_selected: int | None = None
    exclusive: tuple[int, ...] = ()
    top: int | None = None
    max_length: int = TEXT_MAX_CHARACTERS

    @property
    def kind(self) -> str:
        return KIND_OF_TYPE[self.type]

    @property
    def n_ranked(self) -> int:
        return self.top or len(self.options)

    def allowed_values(self, limit: int = 2_001) -> tuple[float, ...] | None:
        """Every value a numeric answer may take, in order (special codes last), when there are at most
        ``limit`` of them: a whole-number range, or a range on a ``step`` grid; ``None`` otherwise."""
        if self.type != "numeric" or self.minimum is None or self.maximum is None:
            return None
        step = self.step or (1.0 if self.integer else None)
        if step is None:
            return None
        count = int(round((self.maximum - self.minimum) / step)) + 1
        if count > limit:
            return None
        values = [round(self.minimum + k * step, 10) for k in range(count)]
        return tuple(v for v in values if v <= self.maximum + 1e-9) + tuple(float(c) for c in self.special)

    def check(self, value):
        """``value`` if it answers this question, else a ``ValueError`` saying why (the validation of
        :func:`question_field`)."""
        if self.type == "numeric":
            return self._check_number(value)
        if self.type == "text":
            return value
        codes = list(value)
        unknown = [c for c in codes if c not in self.options]
        if unknown:
            raise ValueError(f"{unknown} {'is not an option' if len(unknown) == 1 else 'are not options'} "
                             f"(options: {list(self.options)})")
        if len(set(codes)) != len(codes):
            raise ValueError(f"an option is named more than once in {codes}")
        if self.type == "multiple":
            most = self.max_selected if self.max_selected is not None else len(self.options)
            if not self.min_selected <= len(codes) <= most:
                raise ValueError(f"{len(codes)} option(s) chosen; choose from {self.min_selected} to {most}")
            alone = [c for c in codes if c in self.exclusive]
            if alone and len(codes) > 1:
                raise ValueError(f"option {alone[0]} cannot be chosen together with other options")
            return tuple(sorted(codes))
        if len(codes) != self.n_ranked:
            raise ValueError(f"{len(codes)} option(s) ranked; rank {self.n_ranked}")
        return tuple(codes)

    def _check_number(self, value):
        if isinstance(value, int) and value in self.special:
            return float(value)
        if self.minimum is not None and value < self.minimum or self.maximum is not None and value > self.maximum:
            raise ValueError(f"{value:g} is outside the range {self.minimum:g} to {self.maximum:g}")
        if self.integer and not float(value).is_integer():
            raise ValueError(f"{value:g} is not a whole number")
        if self.step and self.minimum is not None:
            steps = (value - self.minimum) / self.step
            if abs(steps - round(steps)) > 1e-6:
                raise ValueError(f"{value:g} is not on the scale's steps of {self.step:g} from {self.minimum:g}")
        return float(value)

    def json_schema(self) -> dict:
        """The JSON Schema of an answer's value (what a server's tool or format is given)."""
        if self.type == "numeric":
            schema: dict = {"type": "integer" if self.integer else "number"}
            schema.update({k: int(v) if float(v).is_integer() else v
                           for k, v in (("minimum", self.minimum), ("maximum", self.maximum)) if v is not None})
            if self.special:
                return {"anyOf": [schema, {"enum": list(self.special)}]}
            return schema
        if self.type == "text":
            return {"type": "string", "maxLength": self.max_length}
        schema = {"type": "array", "items": {"enum": list(self.options)}, "uniqueItems": True}
        if self.type == "multiple":
            schema["minItems"] = self.min_selected
            schema["maxItems"] = self.max_selected if self.max_selected is not None else len(self.options)
        else:
            schema["minItems"] = schema["maxItems"] = self.n_ranked
        return schema

    def describe(self) -> str:
        """What the answer must be, in words (a reason for an invalid answer, the dry run)."""
        if self.type == "numeric":
            what = "a whole number" if self.integer else "a number"
            return f"{what} from {self.minimum:g} to {self.maximum:g}"
        if self.type == "text":
            return f"free text of at most {self.max_length} characters"
        if self.type == "multiple":
            return f"the options that apply ({self.min_selected} to {self.max_selected or len(self.options)})"
        return f"{self.n_ranked} options in rank order"


def allowed_selections(question: Question, limit: int = 2_001) -> list[tuple[int, ...]] | None:
    """Every selection a check-all item allows (ascending codes: between ``min_selected`` and
    ``max_selected`` options, an exclusive option only alone), or ``None`` when there are more than
    ``limit``."""
    from itertools import combinations
    from math import comb

    most = question.max_selected if question.max_selected is not None else len(question.options)
    sizes = range(question.min_selected, most + 1)
    if sum(comb(len(question.options), k) for k in sizes) > limit:    # before exclusions: an upper bound
        return None
    return [c for k in sizes for c in combinations(sorted(question.options), k)
            if not (len(c) > 1 and set(c) & set(question.exclusive))]


def written_answer(value) -> str:
    """An answer as the respondent would have written it after the prefill: a code or number as digits
    (``4``, ``100``, ``2.5``, never ``1e+06``), a selection or ranking as a JSON list (``[1, 3]``), text as
    it is."""
    if isinstance(value, tuple):
        return json.dumps(list(value))
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.10f}".rstrip("0").rstrip(".")
    return str(value)


def answer_kind(question: Question | None) -> str:
    """The kind of value that answers ``question`` (``code`` for a single-choice item)."""
    return "code" if question is None else question.kind


def answer_tokens(question: Question | None, base: int) -> int:
    """The completion budget of an answer to ``question``: ``base`` (the model's ``max_tokens``) for a code or
    a number; room for every option of a list (about 3 tokens each, with the brackets and the field); for
    free text, room for ``max_length`` characters (about 2 per token, a margin over English BPE's 4), so
    the grammar can close the string."""
    if question is None or question.type == "numeric":
        return base
    if question.type == "text":
        return max(base, 16 + question.max_length // 2)
    return max(base, 12 + 3 * len(question.options))


def question_field(question: Question):
    """The pydantic annotation of an answer to ``question``: strict JSON types (a number given as a string is
    not a number; nothing is parsed out of text), checked by :meth:`Question.check`, with
    :meth:`Question.json_schema` as its schema."""
    from typing import Annotated

    from pydantic import AfterValidator, StrictFloat, StrictInt, StrictStr, WithJsonSchema

    if question.type == "numeric":
        base = StrictInt | StrictFloat
    elif question.type == "text":
        base = StrictStr             # kept up to max_length, the rest cut with its length noted (_settled_text)
    else:
        base = list[StrictInt]
    return Annotated[base, AfterValidator(question.check), WithJsonSchema(question.json_schema())]


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
    question: Question | None = None

    @property
    def kind(self) -> str:
        return answer_kind(self.question)


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
    question: Question | None = Field(
        default=None, description="The answer contract of an item that is not single-choice (None: a code).")

    @property
    def kind(self) -> str:
        """The kind of the answer's value (:data:`ANSWER_KINDS`)."""
        return answer_kind(self.question)

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


QUESTION_DESCRIPTION = {"numeric": "The number you answer with.", "multiple": "The numbers of all options that apply.",
                        "text": "Your answer, in your own words.",
                        "rank": "The numbers of the options in rank order, the highest first."}


@lru_cache(maxsize=256)
def answer_model(options: tuple[int, ...], with_reason: bool = False,
                 labels: tuple[str, ...] | None = None, question: Question | None = None) -> type[BaseModel]:
    """A pydantic model accepting exactly ``{"answer": <one of options>}``, or, for an item that is not
    single-choice, ``{"answer": <an answer to question>}`` (:func:`question_field`).

    With ``with_reason`` (off by default) it also takes a short free-text
    ``reason`` (at most 300 characters), kept in the raw output. With ``labels``
    (labels-only presentation) the answer is one of the labels instead.

    >>> Model = answer_model((1, 2, 3))
    >>> Model.model_validate_json('{"answer": 2}').answer
    2
    """
    if question is not None:
        fields = {"answer": (question_field(question), Field(description=QUESTION_DESCRIPTION[question.type]))}
    elif labels:
        fields = {"answer": (Literal[tuple(labels)], Field(description="The chosen option, exactly as written."))}
    else:
        fields = {"answer": (Literal[tuple(options)], Field(description="The number of the chosen option."))}
    if with_reason:
        fields["reason"] = (str, Field(max_length=REASON_MAX_CHARACTERS,
                                       description="One short sentence on why you chose this answer."))
    return create_model("StructuredAnswer", __config__=ConfigDict(extra="forbid"), **fields)


def answer_schema(options: tuple[int, ...], with_reason: bool = False,
                  labels: tuple[str, ...] | None = None, question: Question | None = None) -> dict:
    """JSON Schema of :func:`answer_model` (used as the generation grammar)."""
    return answer_model(tuple(options), with_reason, labels, question).model_json_schema()


def _choice(field: BatteryField):
    if field.question is not None:
        return question_field(field.question)
    if field.option_labels:
        return Literal[tuple(field.option_labels)]
    return Literal[tuple(field.options)]


def _field_description(field: BatteryField) -> str:
    number = field.key[1:]
    if field.question is not None:
        return f"{QUESTION_DESCRIPTION[field.question.type]} (item {number})"
    return (f"The number of the option chosen for item {number}." if not field.option_labels
            else f"The option chosen for item {number}.")


@lru_cache(maxsize=256)
def battery_model(fields: tuple[BatteryField, ...]) -> type[BaseModel]:
    """A pydantic model accepting exactly one answer per battery field: ``{"q1": 4, "q2": 2, ...}``, the
    fields in the order the items were shown."""
    spec = {f.key: (_choice(f), Field(description=_field_description(f))) for f in fields}
    return create_model("BatteryAnswers", __config__=ConfigDict(extra="forbid"), **spec)


def _fields_key(request: AnswerRequest) -> tuple[BatteryField, ...]:
    return tuple(f.model_copy(update={"request_id": "", "seed": 0}) for f in request.battery)


def request_schema(request: AnswerRequest) -> dict:
    """The JSON Schema an answer to ``request`` must match: one answer, or one field per battery item."""
    if request.battery:
        return battery_model(_fields_key(request)).model_json_schema()
    return answer_schema(tuple(request.options), request.with_reason, request.option_labels, request.question)


def grammar_schema(request: AnswerRequest) -> dict:
    """:func:`request_schema` for a generation grammar: a numeric answer's range written out as the list of
    its allowed values where there are at most 2,001 (llama.cpp's JSON-Schema grammar ignores ``minimum``
    and ``maximum``, so a 0–100 thermometer would otherwise let any integer through to validation)."""
    schema = request_schema(request)
    questions = ([(f"q{n}", f.question) for n, f in enumerate(request.battery, start=1)] if request.battery
                 else [("answer", request.question)])
    for key, question in questions:
        values = question.allowed_values() if question is not None else None
        if values is not None:
            schema["properties"][key] = {"enum": [int(v) if float(v).is_integer() else v for v in values]}
    return schema


def request_model(request: AnswerRequest) -> type[BaseModel]:
    """The pydantic model of :func:`request_schema`."""
    if request.battery:
        return battery_model(_fields_key(request))
    return answer_model(tuple(request.options), request.with_reason, request.option_labels, request.question)


def _code(value, options: tuple[int, ...], labels: tuple[str, ...] | None) -> int:
    return options[labels.index(value)] if labels else int(value)


def _settled_text(question: Question | None, value) -> tuple[Status, TypedValue | None, str | None]:
    """An open-ended answer kept verbatim up to ``max_length`` (the reason says where it was cut and its full
    length); one that reads as a refusal is ``refused``. Other answers pass as they are."""
    if question is None or question.type != "text":
        return "answered", value, None
    if is_refusal(value):
        return "refused", None, DECLINED
    if len(value) > question.max_length:
        return "answered", value[:question.max_length], (f"cut to {question.max_length} of {len(value)} "
                                                         "characters")
    return "answered", value, None


def parse_structured(raw: str, options: tuple[int, ...], with_reason: bool = False,
                     labels: tuple[str, ...] | None = None, question: Question | None = None
                     ) -> tuple[Status, TypedValue | None, str | None]:
    """Validate raw structured output: ``(status, value, reason)``; a label (labels-only) becomes its code, an
    answer to a ``question`` its typed value (:data:`ANSWER_KINDS`)."""
    try:
        parsed = answer_model(tuple(options), with_reason, labels, question).model_validate_json(raw)
    except ValidationError as exc:
        return "invalid", None, f"output does not match the answer schema: {_first_error(exc)}"
    return answer_value(parsed.answer, options, labels, question)


def answer_value(answer, options: tuple[int, ...], labels: tuple[str, ...] | None,
                 question: Question | None) -> tuple[Status, TypedValue | None, str | None]:
    """``(status, value, reason)`` of a validated answer field: a code, or the typed value of a question."""
    if question is None:
        return "answered", _code(answer, tuple(options), labels), None
    return _settled_text(question, typed_value(question.kind, list(answer) if isinstance(answer, list) else answer))


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    message = first["msg"]
    return message.removeprefix("Value error, ")


def _field_adapter(field: BatteryField):
    from pydantic import TypeAdapter

    return TypeAdapter(_choice(field))


def parse_battery(raw: str, request: AnswerRequest) -> list[tuple[str, Status, TypedValue | None, str | None]]:
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
        if field.question is not None:
            try:
                checked = _field_adapter(field).validate_python(value)
            except ValidationError as exc:
                results.append((field.request_id, "invalid", None, f"field {field.key!r}: {_first_error(exc)}"))
                continue
            results.append((field.request_id, *answer_value(checked, field.options, None, field.question)))
            continue
        allowed = field.option_labels or field.options
        if isinstance(value, bool) or value not in allowed:
            results.append((field.request_id, "invalid", None,
                            f"field {field.key!r}: {value!r} is not one of the options {list(allowed)}"))
            continue
        results.append((field.request_id, "answered", _code(value, field.options, field.option_labels), None))
    return results


def parse_output(raw: str, request: AnswerRequest) -> list[tuple[str, Status, TypedValue | None, str | None]]:
    """The one place raw structured output becomes answers: ``(request_id, status, value, reason)`` for each
    cell the request answers (one, or one per battery field)."""
    if request.battery:
        return parse_battery(raw, request)
    return [(request.request_id, *parse_structured(raw, tuple(request.options), request.with_reason,
                                                   request.option_labels, request.question))]


def kinds_of(request: AnswerRequest) -> dict[str, str]:
    """``{request_id: answer kind}`` of every cell a request answers."""
    if request.battery:
        return {f.request_id: f.kind for f in request.battery}
    return {request.request_id: request.kind}


def answers_from_output(request: AnswerRequest, raw: str, **common) -> list[Answer]:
    """:func:`parse_output` as :class:`Answer` objects sharing ``common`` fields (tokens, version); a
    battery's tokens are given to its first item (the others get 0), its raw output to every item."""
    answers, kinds = [], kinds_of(request)
    for index, (request_id, status, value, reason) in enumerate(parse_output(raw, request)):
        fields = dict(common)
        if index and request.battery:
            fields.update({k: 0 for k in ("prompt_tokens", "completion_tokens") if fields.get(k) is not None})
        answers.append(Answer(request_id=request_id, status=status, kind=kinds[request_id], value=value,
                              raw_output=raw, reason=reason, **fields))
    return answers


def failed_all(request: AnswerRequest, reason: str, status: Status = "failed", **common) -> list[Answer]:
    """One answer with ``status`` (default ``failed``) and ``reason`` per cell the request answers."""
    kinds = kinds_of(request)
    return [Answer(request_id=rid, status=status, kind=kinds[rid], reason=reason, **common)
            for rid in request.answer_ids]


def estimate_tokens(request: AnswerRequest, completion_tokens: int) -> int:
    """Tokens a request may use: prompt characters / 4 (a rough rule for English BPE vocabularies) plus
    the completion budget. Used for tokens-per-minute limits and dry-run estimates."""
    return sum(len(m.content) for m in request.messages) // 4 + 4 * len(request.messages) + completion_tokens
