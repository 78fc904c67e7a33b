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

from ..errors import SpecError
from ..files import file_sha256
from . import resources
from .yaml_files import load_spec


class ResponseOption(BaseModel):
    model_config = ConfigDict(frozen=True)
    value: int
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


class Item(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    text: str
    scale: str | None = None
    reverse: bool = False
    response_scale: ResponseScale | None = None
    instructions: str | None = None


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
    response_scale: ResponseScale
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
        """The response scale an item is answered on."""
        item = self.item(item) if isinstance(item, str) else item
        return item.response_scale or self.response_scale

    def item_ranges(self) -> dict[str, tuple[int, int]]:
        """``{item: (lowest, highest option)}`` of each item's own response scale: what reverse keying
        mirrors on (:func:`silicon_sample.psychometrics.scoring.keyed_items`) everywhere."""
        return {item.id: (self.scale_of(item).minimum, self.scale_of(item).maximum) for item in self.items}

    def n_options(self) -> dict[str, int]:
        """``{item: number of options}`` of each item's own response scale."""
        return {item.id: len(self.scale_of(item).values) for item in self.items}

    def instructions_for(self, item: Item) -> str:
        """The instructions an item is put with: its own, else the instrument's."""
        return (item.instructions if item.instructions is not None else self.instructions).strip()

    @property
    def mixed_scales(self) -> bool:
        """Whether some item is answered on a scale of its own."""
        return any(item.response_scale is not None for item in self.items)

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
        scale = item.get("scale")
        if scale is not None and scale not in declared:
            raise SpecError(
                f"items[{index}].scale: {scale!r} is not declared in scoring.scales",
                where=str(path),
                fix=f"declare it under scoring.scales (declared: {', '.join(sorted(declared)) or 'none'})",
            )
    scales = [("response_scale", data["response_scale"])]
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
