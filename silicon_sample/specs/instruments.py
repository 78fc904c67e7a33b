"""Questionnaires: loading, validating and describing them.

An instrument is a YAML file validated against
``silicon_sample/specs/schemas/instrument.schema.json`` (format in the README). It
names its items, the response scale and which scale (construct) each item is
scored on, with reverse keying. :func:`load` accepts a shipped name
(``"bfi25"``) or a path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..answers import TEXT_MAX_CHARACTERS, Question
from ..errors import SpecError
from ..files import file_sha256
from . import resources
from .yaml_files import load_spec


class ResponseOption(BaseModel):
    model_config = ConfigDict(frozen=True)
    value: int
    label: str
    exclusive: bool = False     # a check-all-that-apply option chosen only alone ("None of these")


class Anchor(BaseModel):
    """A labelled point of a numeric item (the thermometer's "50 = neither warm nor cold")."""

    model_config = ConfigDict(frozen=True)
    value: float
    label: str


ScaleDisplay = Literal["numbers_labels", "numbers_only", "labels_only"]
REPLY = {"numbers_labels": "Reply with the number of one option.",
         "numbers_only": "Reply with the number of one option.",
         "labels_only": "Reply with one option, exactly as it is written."}
"""The reply instruction for each way a scale is shown (the layout's ``{{ reply }}``)."""


class ResponseScale(BaseModel):
    """Options in the order they are shown, and how they are shown (``display``: every option as
    ``code = label``, numbers with only the end points labelled, or labels alone)."""

    model_config = ConfigDict(frozen=True)
    options: tuple[ResponseOption, ...]
    display: ScaleDisplay = "numbers_labels"

    @property
    def values(self) -> list[int]:
        return [o.value for o in self.options]

    @property
    def minimum(self) -> int:
        return min(self.values)

    @property
    def maximum(self) -> int:
        return max(self.values)

    def label_of(self, value: int) -> str:
        return next(o.label for o in self.options if o.value == value)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(o.label for o in self.options)

    def describe(self) -> str:
        """The scale as shown to a respondent: one ``value = label`` per line; with ``numbers_only`` the codes
        in one line with the two end points labelled (a numeric scale without any label would not say which
        end is which); with ``labels_only`` one label per line."""
        if self.display == "labels_only":
            return "\n".join(o.label for o in self.options)
        if self.display == "numbers_only":
            first, last = self.options[0], self.options[-1]
            codes = ", ".join(str(o.value) for o in self.options)
            return f"{codes} (where {first.value} = {first.label} and {last.value} = {last.label})"
        return "\n".join(f"{o.value} = {o.label}" for o in self.options)

    def reply(self) -> str:
        """How to reply on this scale as shown."""
        return REPLY[self.display]


def dont_know_code(options: tuple[int, ...] | list[int]) -> int:
    """The code of "Don't know" offered on a scale (the ``dont_know`` perturbation): 8, else 9 (the survey
    convention, and one token for a next-token reading), else 98, 99, 998 or 999, whichever the scale does
    not use."""
    return next(code for code in (8, 9, 98, 99, 998, 999) if code not in options)


ItemType = Literal["single", "numeric", "multiple", "text", "rank", "knowledge"]
CODED_TYPES = ("single", "knowledge")
"""Item types answered with one option code (the others have a :class:`~silicon_sample.answers.Question`)."""
OPTION_TYPES = ("single", "knowledge", "multiple", "rank")
"""Item types answered from a list of options (a response scale)."""
SCORED_TYPES = ("single", "knowledge", "numeric")
"""Item types a scale score can take: a code, correct (1) or not (0), a number."""


def _number(value: float) -> str:
    return f"{value:g}"


class Item(BaseModel):
    """One question. ``type`` (default ``single``) says how it is answered; the fields of the other types
    (``min``/``max``/``integer``/``step``/``unit``/``anchors``/``special`` for ``numeric``,
    ``min_selected``/``max_selected`` for ``multiple``, ``max_length`` for ``text``, ``rank_top`` for ``rank``,
    ``correct`` for ``knowledge``) are in the README's instrument format."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)
    id: str
    text: str
    type: ItemType = "single"
    scale: str | None = None
    reverse: bool = False
    response_scale: ResponseScale | None = None
    instructions: str | None = None
    minimum: float | None = Field(default=None, alias="min")
    maximum: float | None = Field(default=None, alias="max")
    integer: bool = True
    step: float | None = None
    unit: str | None = None
    anchors: tuple[Anchor, ...] = ()
    special: tuple[ResponseOption, ...] = ()
    min_selected: int = 0
    max_selected: int | None = None
    max_length: int = TEXT_MAX_CHARACTERS
    rank_top: int | None = None
    correct: int | None = None

    @property
    def coded(self) -> bool:
        """Answered with one option code (single-choice or knowledge)."""
        return self.type in CODED_TYPES

    def describe_numeric(self) -> str:
        """A numeric item's answer as shown to a respondent: the range, the unit, the anchors and the special
        codes."""
        unit = f" {self.unit}" if self.unit else ""
        what = "A whole number" if self.integer else "A number"
        step = f" in steps of {_number(self.step)}" if self.step else ""
        text = f"{what} from {_number(self.minimum)} to {_number(self.maximum)}{unit}{step}."
        if self.anchors:
            text += "\n" + "\n".join(f"{_number(a.value)} = {a.label}" for a in self.anchors)
        if self.special:
            text += "\n" + "\n".join(f"{o.value} = {o.label}" for o in self.special)
        return text

    def reply_numeric(self) -> str:
        what = "whole number" if self.integer else "number"
        special = (" (or " + " or ".join(str(o.value) for o in self.special) + ")") if self.special else ""
        return f"Reply with one {what} from {_number(self.minimum)} to {_number(self.maximum)}{special}."


class ScaleInfo(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    description: str | None = None


class Scoring(BaseModel):
    model_config = ConfigDict(frozen=True)
    method: Literal["mean", "sum"]
    scales: dict[str, ScaleInfo]


class Block(BaseModel):
    """Items kept together: shown in one prompt in a battery, and ordered as a group."""

    model_config = ConfigDict(frozen=True)
    id: str
    items: tuple[str, ...]


class Instrument(BaseModel):
    """A validated questionnaire."""

    model_config = ConfigDict(frozen=True)
    id: str
    name: str
    version: str | None = None
    description: str | None = None
    citation: str
    license: str
    source: str | None = None
    instructions: str
    item_prompt: str = "{text}"
    response_scale: ResponseScale | None = None
    items: tuple[Item, ...]
    scoring: Scoring
    blocks: tuple[Block, ...] | None = None
    instruction_paraphrases: tuple[str, ...] | None = None
    path: Path | None = Field(default=None, exclude=True)
    sha256: str | None = None

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise SpecError(f"no item {item_id!r} in instrument {self.id}", where=str(self.path or self.id),
                        fix=f"items: {', '.join(i.id for i in self.items[:10])}"
                            + (" …" if len(self.items) > 10 else ""))

    def scale_of(self, item: Item | str) -> ResponseScale:
        """The response scale an item is answered on (an item with options: single, knowledge, multiple,
        rank)."""
        item = self.item(item) if isinstance(item, str) else item
        scale = item.response_scale or self.response_scale
        if scale is None or item.type not in OPTION_TYPES:
            raise SpecError(f"item {item.id!r} is a {item.type} item and has no response options",
                            where=str(self.path or self.id))
        return scale

    @property
    def coded_items(self) -> tuple[Item, ...]:
        """The items answered with one option code (single-choice and knowledge items)."""
        return tuple(item for item in self.items if item.coded)

    def question_of(self, item: Item | str) -> Question | None:
        """The answer contract of an item that is not answered with one code (None for single-choice and
        knowledge items)."""
        item = self.item(item) if isinstance(item, str) else item
        if item.coded:
            return None
        if item.type == "numeric":
            return Question(type="numeric", minimum=item.minimum, maximum=item.maximum, integer=item.integer,
                            step=item.step, special=tuple(o.value for o in item.special))
        if item.type == "text":
            return Question(type="text", max_length=item.max_length)
        scale = self.scale_of(item)
        if item.type == "multiple":
            return Question(type="multiple", options=tuple(scale.values), min_selected=item.min_selected,
                            max_selected=item.max_selected,
                            exclusive=tuple(o.value for o in scale.options if o.exclusive))
        return Question(type="rank", options=tuple(scale.values), top=item.rank_top)

    def answer_format(self, item: Item) -> tuple[str, str]:
        """``(scale, reply)``: how an item's answer is shown to a respondent (its options, or its range and
        anchors) and the instruction how to reply (the layout's ``{{ scale }}`` and ``{{ reply }}``)."""
        if item.type == "numeric":
            return item.describe_numeric(), item.reply_numeric()
        if item.type == "text":
            return "", f"Reply in your own words, in at most {item.max_length} characters."
        scale = self.scale_of(item)
        if item.type == "multiple":
            question = self.question_of(item)
            most = question.max_selected or len(question.options)
            limits = (f"at least {question.min_selected} and at most {most}" if question.min_selected
                      else f"at most {most}")
            alone = "".join(f" Option {o.value} ({o.label}) can only be chosen on its own."
                            for o in scale.options if o.exclusive)
            return scale.describe(), (f"Reply with the numbers of all options that apply ({limits}), as a list."
                                      + alone)
        if item.type == "rank":
            n = item.rank_top or len(scale.values)
            what = (f"the numbers of the {n} options you rank highest" if item.rank_top
                    else f"the numbers of all {n} options")
            return scale.describe(), f"Reply with {what} in order, the one you rank highest first, as a list."
        return scale.describe(), scale.reply()

    def on_own_format(self, item: Item) -> bool:
        """Whether an item is answered otherwise than on the instrument's response scale (a turn shared with
        other items then states the item's own format)."""
        return item.response_scale is not None or item.type not in CODED_TYPES or self.response_scale is None

    def item_ranges(self) -> dict[str, tuple[float, float]]:
        """``{item: (lowest, highest)}`` of each item a scale score can take: its own response scale's options,
        a numeric item's range, a knowledge item's 0 (wrong) to 1 (correct). What reverse keying mirrors on
        (:func:`silicon_sample.psychometrics.scoring.keyed_items`) everywhere."""
        ranges: dict[str, tuple[float, float]] = {}
        for item in self.items:
            if item.type == "single":
                ranges[item.id] = (self.scale_of(item).minimum, self.scale_of(item).maximum)
            elif item.type == "numeric":
                ranges[item.id] = (item.minimum, item.maximum)
            elif item.type == "knowledge":
                ranges[item.id] = (0, 1)
        return ranges

    def n_options(self) -> dict[str, int]:
        """``{item: number of options}`` of each single-choice item's own response scale."""
        return {item.id: len(self.scale_of(item).values) for item in self.items if item.type == "single"}

    @property
    def knowledge_keys(self) -> dict[str, int]:
        """``{item: correct code}`` of the knowledge items."""
        return {item.id: item.correct for item in self.items if item.type == "knowledge"}

    @property
    def item_types(self) -> dict[str, str]:
        return {item.id: item.type for item in self.items}

    def instructions_for(self, item: Item) -> str:
        """The instructions an item is put with: its own, else the instrument's."""
        return (item.instructions if item.instructions is not None else self.instructions).strip()

    @property
    def mixed_scales(self) -> bool:
        """Whether some item is answered on a scale of its own (or is not single-choice)."""
        return any(self.on_own_format(item) for item in self.items)

    def keys(self) -> dict[str, list[str]]:
        """Scoring keys in psych's convention: ``{scale: ["-A1", "A2", ...]}``."""
        keys: dict[str, list[str]] = {name: [] for name in self.scoring.scales}
        for item in self.items:
            if item.scale is not None:
                keys[item.scale].append(f"-{item.id}" if item.reverse else item.id)
        return keys

    def item_blocks(self) -> tuple[Block, ...]:
        """The instrument's blocks, or one block of every item (named after the instrument)."""
        return self.blocks or (Block(id=self.id, items=tuple(i.id for i in self.items)),)

    def render_item(self, item: Item) -> str:
        """The text put to the respondent for one item."""
        return self.item_prompt.replace("{text}", item.text)


def _check_consistency(data: dict, path: Path) -> None:
    """Checks the JSON Schema cannot express: unique ids, declared scales."""
    seen: set[str] = set()
    declared = set(data["scoring"]["scales"])
    for index, item in enumerate(data["items"]):
        if item["id"] in seen:
            raise SpecError(f"items[{index}].id: duplicate item id {item['id']!r}", where=str(path),
                            fix="give every item its own id")
        seen.add(item["id"])
        _check_item_type(item, f"items[{index}]", "response_scale" in data, path)
        scale = item.get("scale")
        if scale is not None and scale not in declared:
            raise SpecError(
                f"items[{index}].scale: {scale!r} is not declared in scoring.scales",
                where=str(path),
                fix=f"declare it under scoring.scales (declared: {', '.join(sorted(declared)) or 'none'})",
            )
    scales = [("response_scale", data["response_scale"])] if "response_scale" in data else []
    scales += [(f"items[{i}].response_scale", it["response_scale"])
               for i, it in enumerate(data["items"]) if "response_scale" in it]
    for where, scale in scales:
        values = [o["value"] for o in scale["options"]]
        if len(set(values)) != len(values):
            raise SpecError(f"{where}.options: option values must be unique, got {values}", where=str(path))
    check_blocks(data.get("blocks"), [it["id"] for it in data["items"]], str(path), "blocks")
    for name in declared:
        if not any(it.get("scale") == name for it in data["items"]):
            raise SpecError(f"scoring.scales.{name}: no item is scored on this scale", where=str(path),
                            fix="remove the scale or set `scale:` on its items")


TYPE_FIELDS = {"numeric": ("min", "max", "integer", "step", "unit", "anchors", "special"),
               "multiple": ("min_selected", "max_selected"), "text": ("max_length",), "rank": ("rank_top",),
               "knowledge": ("correct",)}
"""The fields only an item of that type may carry."""


def _check_item_type(item: dict, where: str, shared_scale: bool, path: Path) -> None:
    """What the JSON Schema cannot say about an item's type: its own fields only, options where it needs
    them, a range that holds, choices that can be made."""
    kind = item.get("type", "single")
    for other, fields in TYPE_FIELDS.items():
        stray = [f for f in fields if f in item and other != kind]
        if stray:
            raise SpecError(f"{where}.{stray[0]}: only a {other} item has {stray[0]!r}, and {item['id']!r} is a "
                            f"{kind} item", where=str(path), fix=f"set `type: {other}`, or remove {stray[0]!r}")
    if kind not in OPTION_TYPES and "response_scale" in item:
        raise SpecError(f"{where}.response_scale: a {kind} item has no options", where=str(path),
                        fix="remove its response_scale" + (", and give min and max" if kind == "numeric" else ""))
    if kind in OPTION_TYPES and "response_scale" not in item and not shared_scale:
        raise SpecError(f"{where}: a {kind} item needs options, and neither it nor the instrument has a "
                        "response_scale", where=str(path),
                        fix="give the item its own `response_scale:`, or the instrument one")
    options = (item.get("response_scale") or {}).get("options")
    exclusive = [o for o in options or () if o.get("exclusive")]
    if exclusive and kind != "multiple":
        raise SpecError(f"{where}.response_scale: option {exclusive[0]['value']} is marked exclusive, which only a "
                        f"multiple item's option can be", where=str(path), fix="remove `exclusive: true`")
    if "scale" in item and kind not in SCORED_TYPES:
        raise SpecError(f"{where}.scale: a {kind} item cannot be scored on a scale (a scale score takes codes, "
                        "numbers, or right/wrong answers)", where=str(path), fix="remove `scale:` from this item")
    if item.get("reverse") and kind == "knowledge":
        raise SpecError(f"{where}.reverse: a knowledge item is scored right (1) or wrong (0) and cannot be "
                        "reverse-keyed", where=str(path), fix="remove `reverse: true`")
    if kind == "numeric":
        _check_numeric(item, where, path)
    elif kind == "knowledge":
        if "correct" not in item:
            raise SpecError(f"{where}: a knowledge item needs `correct:`, the code of the right answer",
                            where=str(path), fix="add e.g. `correct: 1`")
    elif kind == "multiple" and options is not None:
        _check_multiple(item, options, where, path)
    elif kind == "rank" and options is not None and item.get("rank_top", 2) > len(options):
        raise SpecError(f"{where}.rank_top: {item['rank_top']} is more than the {len(options)} options",
                        where=str(path), fix=f"rank_top from 2 to {len(options)}, or leave it out to rank all")


def _check_numeric(item: dict, where: str, path: Path) -> None:
    missing = [f for f in ("min", "max") if f not in item]
    if missing:
        raise SpecError(f"{where}: a numeric item needs {' and '.join(missing)}", where=str(path),
                        fix="e.g. min: 0 and max: 100 for a feeling thermometer")
    low, high, integer = item["min"], item["max"], item.get("integer", True)
    if low >= high:
        raise SpecError(f"{where}: min ({low:g}) must be below max ({high:g})", where=str(path),
                        fix="swap them, or correct the range")
    if integer and not (float(low).is_integer() and float(high).is_integer()):
        raise SpecError(f"{where}: a whole-number item's min and max are whole numbers, got {low:g} and {high:g}",
                        where=str(path), fix="set `integer: false` for decimal answers")
    step = item.get("step")
    if step is not None:
        steps = (high - low) / step
        if abs(steps - round(steps)) > 1e-9 or (integer and not float(step).is_integer()):
            raise SpecError(f"{where}.step: {step:g} does not divide the range {low:g} to {high:g} into whole steps"
                            + (" of whole numbers" if integer else ""), where=str(path),
                            fix="choose a step that reaches max from min")
    for anchor in item.get("anchors", ()):
        if not low <= anchor["value"] <= high:
            raise SpecError(f"{where}.anchors: {anchor['value']:g} ({anchor['label']}) is outside the range "
                            f"{low:g} to {high:g}", where=str(path), fix="anchor points inside the range")
    for code in item.get("special", ()):
        if low <= code["value"] <= high:
            raise SpecError(f"{where}.special: code {code['value']} ({code['label']}) lies inside the range "
                            f"{low:g} to {high:g}, so it could not be told from an answer", where=str(path),
                            fix="use a code outside the range, e.g. 998 or -1")


def _check_multiple(item: dict, options: list[dict], where: str, path: Path) -> None:
    n = len(options)
    fewest, most = item.get("min_selected", 0), item.get("max_selected", n)
    if most > n or fewest > most:
        raise SpecError(f"{where}: min_selected {fewest} and max_selected {most} cannot be met with {n} options",
                        where=str(path), fix=f"keep 0 <= min_selected <= max_selected <= {n}")
    if most == 1:
        raise SpecError(f"{where}.max_selected: a check-all-that-apply item with at most one choice is a "
                        "single-choice item", where=str(path), fix="use `type: single`, or allow more choices")
    if all(o.get("exclusive") for o in options):
        raise SpecError(f"{where}.response_scale: every option is exclusive, so no two can be chosen together",
                        where=str(path), fix="mark only options like \"None of these\" exclusive")


def check_blocks(blocks: list[dict] | None, item_ids: list[str], where: str, field: str) -> None:
    """Blocks have distinct ids and put every item in exactly one block."""
    if not blocks:
        return
    ids = [b["id"] for b in blocks]
    if len(set(ids)) != len(ids):
        raise SpecError(f"{field}: two blocks have the same id", where=where, fix="give every block its own id")
    seen: dict[str, str] = {}
    for block in blocks:
        for item in block["items"]:
            if item not in item_ids:
                raise SpecError(f"{field}: block {block['id']!r} names item {item!r}, which the instrument does not "
                                "have", where=where, fix=f"items: {', '.join(item_ids)}")
            if item in seen:
                raise SpecError(f"{field}: item {item!r} is in blocks {seen[item]!r} and {block['id']!r}",
                                where=where, fix="put every item in exactly one block")
            seen[item] = block["id"]
    missing = [i for i in item_ids if i not in seen]
    if missing:
        raise SpecError(f"{field}: item(s) {', '.join(missing)} are in no block", where=where,
                        fix="put every item in exactly one block")


def load(name_or_path: str | Path, *, relative_to: Path | None = None) -> Instrument:
    """Load and validate an instrument by shipped name or path.

    Examples
    --------
    >>> from silicon_sample import instruments
    >>> bfi = instruments.load("bfi25")
    >>> len(bfi.items), bfi.keys()["neuroticism"]
    (25, ['N1', 'N2', 'N3', 'N4', 'N5'])
    """
    path = resources.resolve("instruments", name_or_path, relative_to=relative_to)
    data = load_spec(path, "instrument")
    _check_consistency(data, path)
    return Instrument(**data, path=path, sha256=file_sha256(path))


def available() -> list[str]:
    """Names of the shipped instruments."""
    return resources.shipped_names("instruments")
