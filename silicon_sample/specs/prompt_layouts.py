"""Putting one questionnaire item to one persona: the chat messages.

The layout (``templates/prompts/questionnaire.yaml`` by default) has a system
template (persona, instructions, response scale), a user template (the item)
and the assistant prefill used in distribution mode. Its text and hash go into
every run's manifest.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2
import jinja2.meta
from pydantic import BaseModel, ConfigDict, Field

from ..answers import ChatMessage
from ..errors import SpecError
from ..files import file_sha256
from . import resources
from .instruments import Instrument, Item
from .yaml_files import load_spec

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)


class PromptLayout(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    system: str
    user: str
    distribution_prefill: str
    path: Path | None = Field(default=None, exclude=True)
    sha256: str | None = None

    def system_message(self, persona_text: str, instrument: Instrument) -> ChatMessage:
        content = _render(self.system, self, persona=persona_text, instructions=instrument.instructions.strip(),
                          scale=instrument.response_scale.describe())
        return ChatMessage(role="system", content=content)

    def user_message(self, instrument: Instrument, item: Item) -> ChatMessage:
        item_scale = item.response_scale.describe() if item.response_scale else ""
        content = _render(self.user, self, item=instrument.render_item(item), item_scale=item_scale)
        return ChatMessage(role="user", content=content)

    def messages(self, persona_text: str, instrument: Instrument, item: Item) -> tuple[ChatMessage, ...]:
        return (self.system_message(persona_text, instrument), self.user_message(instrument, item))


@functools.lru_cache(maxsize=64)
def _compiled(template: str) -> jinja2.Template:
    return _ENV.from_string(template)     # compiling costs a millisecond; a run renders every cell


def _render(template: str, layout: PromptLayout, **context) -> str:
    try:
        return _compiled(template).render(**context).strip()
    except jinja2.TemplateError as exc:
        raise SpecError(f"prompt layout template error: {exc}", where=str(layout.path or layout.id)) from None


def load_layout(name_or_path: str | Path = "questionnaire", *, relative_to: Path | None = None) -> PromptLayout:
    """Load a prompt layout by shipped name (``questionnaire``) or path."""
    text = str(name_or_path)
    if resources.looks_like_path(text):
        path = resources.resolve("templates", text, relative_to=relative_to)
    else:
        path = resources.data_dir("templates") / "prompts" / f"{text}.yaml"
        if not path.is_file():
            raise SpecError(f"no shipped prompt layout named {text!r}", where="prompt_layout",
                            fix="use `questionnaire`, or a path to a layout YAML file")
    data = load_spec(path, "prompt_layout")
    for part, needed in (("system", "persona"), ("user", "item")):
        try:
            variables = jinja2.meta.find_undeclared_variables(_ENV.parse(data[part]))
        except jinja2.TemplateSyntaxError as exc:
            raise SpecError(f"{part}: line {exc.lineno}: template syntax error: {exc.message}", where=str(path),
                            fix="fix the Jinja2 template") from None
        if needed not in variables:
            raise SpecError(f"{part}: the template never shows {{{{ {needed} }}}}, so no model would see the "
                            f"{'persona' if needed == 'persona' else 'item'}", where=str(path),
                            fix=f"put {{{{ {needed} }}}} in the {part} template")
        unknown = variables - set(LAYOUT_VARIABLES[part])
        if unknown:
            raise SpecError(f"{part}: unknown template variable(s) {', '.join(sorted(unknown))}", where=str(path),
                            fix=f"use only {', '.join(LAYOUT_VARIABLES[part])}")
    return PromptLayout(**data, path=path, sha256=file_sha256(path))


LAYOUT_VARIABLES = {"system": ("persona", "instructions", "scale"), "user": ("item", "item_scale")}
