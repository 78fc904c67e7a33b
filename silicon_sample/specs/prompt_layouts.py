"""Putting one questionnaire item to one persona: the chat messages.

The layout (``templates/prompts/questionnaire.yaml`` by default) has a system
template (persona, instructions, response scale, how to reply), a user template
(the item), a battery template (several items in one user turn, answered as one
object with a field per item; a default is used when a layout has none) and the
assistant prefill used in distribution mode. Its text and hash go into every
run's manifest.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import jinja2.meta
from pydantic import BaseModel, ConfigDict, Field

from .. import templating
from ..answers import ChatMessage
from ..errors import SpecError
from ..files import file_sha256
from . import resources
from .instruments import Instrument, Item
from .yaml_files import load_spec

DEFAULT_BATTERY = (
    "{% for item in items %}{{ item.number }}. {{ item.text }}{% if item.scale %} ({{ item.scale }}){% endif %}\n"
    "{% endfor %}\nAnswer every statement above; for each one, {{ reply[:1]|lower }}{{ reply[1:] }} Give your "
    "answers as one object with the fields {{ keys }} (field q1 for statement 1, and so on).")
"""The battery turn of a layout that gives none (the shipped layout's)."""


class PromptLayout(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    system: str
    user: str
    distribution_prefill: str
    battery: str = DEFAULT_BATTERY
    path: Path | None = Field(default=None, exclude=True)
    sha256: str | None = None

    def system_message(self, persona_text: str, instrument: Instrument, item: Item | None = None) -> ChatMessage:
        """The system turn. With ``item`` (an item asked on its own) it states that item's instructions and the
        scale it is answered on, and no other; without (one system turn shared by several items: a
        conversation or a battery) the instrument's, and an item with a scale of its own states it in its
        turn (:meth:`user_message`)."""
        if item is not None:
            scale, reply = instrument.answer_format(item)
            instructions = instrument.instructions_for(item)
        else:
            scale, reply = shared_format(instrument)
            instructions = instrument.instructions.strip()
        content = _render(self.system, self, persona=persona_text, instructions=instructions, scale=scale,
                          reply=reply)
        return ChatMessage(role="system", content=content)

    def user_message(self, instrument: Instrument, item: Item, *, shared_system: bool = True) -> ChatMessage:
        """The item's turn; ``item_scale`` is its own scale when the system turn is shared by items on other
        scales (``shared_system``), and empty when the system turn already states it."""
        item_scale = (_own_scale(instrument, item) if shared_system and instrument.on_own_format(item) else "")
        content = _render(self.user, self, item=instrument.render_item(item), item_scale=item_scale)
        return ChatMessage(role="user", content=content)

    def messages(self, persona_text: str, instrument: Instrument, item: Item) -> tuple[ChatMessage, ...]:
        """An item asked on its own: the system turn states its instructions and scale."""
        return (self.system_message(persona_text, instrument, item),
                self.user_message(instrument, item, shared_system=False))

    def battery_message(self, instrument: Instrument, items: list[Item], keys: list[str]) -> ChatMessage:
        """The user turn of a battery: the items numbered in the order shown, and the fields to answer in."""
        shown = [{"number": n, "key": key, "text": instrument.render_item(item),
                  "scale": _own_scale(instrument, item, inline=True) if instrument.on_own_format(item) else ""}
                 for n, (item, key) in enumerate(zip(items, keys), start=1)]
        content = _render(self.battery, self, items=shown, keys=", ".join(keys), reply=shared_format(instrument)[1])
        return ChatMessage(role="user", content=content)


def shared_format(instrument: Instrument) -> tuple[str, str]:
    """``(scale, reply)`` of a turn shared by several items: the instrument's response scale, or, for an
    instrument whose items each carry their own format, none (each item's turn states its own)."""
    if instrument.response_scale is None:
        return "", "Answer each question in the form it asks for."
    return instrument.response_scale.describe(), instrument.response_scale.reply()


def _own_scale(instrument: Instrument, item: Item, inline: bool = False) -> str:
    """An item's own answer format in a turn shared with other items: said to be this question's (with the
    item's own instructions first, when it has them), so the turn does not read as a second scale for the
    same answer."""
    scale, reply = instrument.answer_format(item)
    own = f"{item.instructions.strip()} " if item.instructions else ""
    if instrument.response_scale is None or item.type not in ("single", "knowledge") and not item.response_scale:
        lead = "For this question:"
    else:
        lead = "For this question only, answer on this scale instead:"
    if item.type in ("single", "knowledge"):
        body = scale
    else:
        body = f"{scale}\n{reply}".strip() if scale else reply
    if inline:
        return f"{own}{lead} {body.replace(chr(10), '; ')}".strip()
    return f"{own}{lead}\n{body}".strip()


def _render(template: str, layout: PromptLayout, **context) -> str:
    try:
        text = templating.render(template, str(layout.path or layout.id), **context).strip()
        return re.sub(r"\n{3,}", "\n\n", text)     # an empty part (an item with no instructions) leaves no gap
    except jinja2.TemplateError as exc:
        raise SpecError(f"prompt layout template error: {exc}", where=str(layout.path or layout.id)) from None


def load_layout(name_or_path: str | Path = "questionnaire", *, relative_to: Path | None = None) -> PromptLayout:
    """Load a prompt layout by shipped name (``questionnaire``) or path."""
    text = str(name_or_path)
    if resources.looks_like_path(text):
        path = resources.resolve("templates", text, relative_to=relative_to, confined=relative_to is not None)
    else:
        path = resources.data_dir("templates") / "prompts" / f"{text}.yaml"
        if not path.is_file():
            raise SpecError(f"no shipped prompt layout named {text!r}", where="prompt_layout",
                            fix="use `questionnaire`, or a path to a layout YAML file")
    data = load_spec(path, "prompt_layout")
    for part, needed in (("system", "persona"), ("user", "item"), ("battery", "items")):
        if part not in data:
            continue
        if not isinstance(data[part], str):
            continue            # the schema has refused it already
        variables = jinja2.meta.find_undeclared_variables(templating.check_template(data[part], f"{path}: {part}"))
        if needed not in variables:
            raise SpecError(f"{part}: the template never shows {{{{ {needed} }}}}, so no model would see the "
                            f"{'persona' if needed == 'persona' else 'item'}{'s' if needed == 'items' else ''}",
                            where=str(path),
                            fix=f"put {{{{ {needed} }}}} in the {part} template")
        unknown = variables - set(LAYOUT_VARIABLES[part])
        if unknown:
            raise SpecError(f"{part}: unknown template variable(s) {', '.join(sorted(unknown))}", where=str(path),
                            fix=f"use only {', '.join(LAYOUT_VARIABLES[part])}")
    return PromptLayout(**data, path=path, sha256=file_sha256(path))


LAYOUT_VARIABLES = {"system": ("persona", "instructions", "scale", "reply"), "user": ("item", "item_scale"),
                    "battery": ("items", "keys", "reply")}
