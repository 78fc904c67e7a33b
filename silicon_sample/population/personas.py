"""Rendering a persona (one row of a population sample) into prompt text.

Two experimental factors shape the text:

*persona style* — a Jinja2 template file (``templates/personas/*.j2`` or any
path): ``profile_list`` (attribute list, second person), ``third_person_bio``,
``first_person_backstory`` ("My age is ..."), ``interview_qa`` (an interview
transcript using each attribute's ``question``). Users copy and change them.

*cue type* — ``explicit`` states every attribute; ``name`` conveys gender and,
where a name list exists for it, race/ethnicity only through a first name
(``templates/names/first_names.yaml``: Bertrand & Mullainathan, 2004; SSA
1990), leaving every other attribute explicit. Demographic cues are not
interchangeable (names carry class and age signals too), which is why the
cue type is recorded with every answer.

Template variables: ``attributes`` (list of ``{name, label, value, question}``
stated explicitly), each explicit attribute by name, ``name`` (the first name,
or none), ``cue_type``, ``variant`` (a seeded number 0–999 per persona, to pick
among paraphrases), ``controls`` (the 30 control paraphrases of "a helpful assistant" of Araujo & Roth, 2025:
:func:`control_paraphrases`). A catalogue population's personas also have ``description`` and ``category``
(the ``role`` style: "You are {description}.").

*Control styles* give the floor of persona conditioning: ``none`` (no persona,
the instructions only) and ``assistant_control`` (one of the 30 control paraphrases,
"You are a supportive aide.", picked by ``variant``). Crossed with real styles
in a study, they let ``compare`` measure how far a persona moves answers
toward its subgroup (:data:`CONTROL_STYLES`). A variable the template uses but the persona does not
have is an error, not an empty string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2
from pydantic import BaseModel, ConfigDict, Field

from .. import templating
from ..errors import SpecError
from ..files import file_sha256, text_sha256
from ..seeds import rng_for
from ..specs import resources
from ..specs.yaml_files import read_yaml

CUE_TYPES = ("explicit", "name")
CONTROL_STYLES = ("none", "assistant_control")


class PersonaTemplate(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    text: str
    path: Path | None = Field(default=None, exclude=True)

    @property
    def sha256(self) -> str:
        return text_sha256(self.text)

    def render(self, persona: dict, attributes: Sequence, name: str | None = None, cued: Sequence[str] = (),
               cue_type: str = "explicit", variant: int = 0) -> str:
        """Render one persona; ``attributes`` are the population's, ``cued`` those a name conveys,
        ``variant`` a seeded number per persona (0–999) a template may use to pick among paraphrases."""
        explicit = [a for a in attributes if a.name not in cued]
        listed = [{"name": a.name, "label": a.label, "value": persona[a.name], "question": a.question}
                  for a in explicit]
        context = {**{a.name: persona[a.name] for a in explicit}, "attributes": listed, "name": name,
                   "cue_type": cue_type, "variant": variant, "controls": list(control_paraphrases())}
        try:
            return templating.render(self.text, str(self.path or self.name), **context).strip()
        except jinja2.UndefinedError as exc:
            raise SpecError(f"template uses an undefined variable: {exc.message}",
                            where=str(self.path or self.name),
                            fix=f"use only the stated attributes ({', '.join(a.name for a in explicit)}), "
                                "`attributes`, `name`, `cue_type`, `variant` and `controls`") from None
        except jinja2.TemplateSyntaxError as exc:
            raise SpecError(f"line {exc.lineno}: template syntax error: {exc.message}",
                            where=str(self.path or self.name)) from None


def load_template(name_or_path: str | Path, *, relative_to: Path | None = None) -> PersonaTemplate:
    """Load a persona template by shipped name (``profile_list``) or path."""
    text = str(name_or_path)
    if resources.looks_like_path(text):
        path = resources.resolve("templates", text, relative_to=relative_to, suffixes=(".j2",),
                                 confined=relative_to is not None)
    else:
        folder = resources.data_dir("templates") / "personas"
        path = folder / f"{text}.j2"
        if not path.is_file():
            names = sorted(p.stem for p in folder.glob("*.j2"))
            raise SpecError(f"no shipped persona template named {text!r}", where="persona_styles",
                            fix=f"use one of: {', '.join(names)}, or a path to a .j2 file")
    source = resources.read_text(path, limit=templating.MAX_TEMPLATE_BYTES, what="template")
    templating.check_template(source, str(path))
    return PersonaTemplate(name=path.stem, text=source, path=path)


@lru_cache(maxsize=1)
def control_paraphrases() -> tuple[str, ...]:
    """The 30 control personas of Araujo & Roth (2025), paraphrases of "a helpful assistant", in their order
    (``templates/personas/control_paraphrases.yaml``): what ``assistant_control`` states and what a catalogue
    population's ``controls: shipped`` adds."""
    path = resources.data_dir("templates") / "personas" / "control_paraphrases.yaml"
    return tuple(str(p) for p in read_yaml(path)["paraphrases"])


def shipped_styles() -> list[str]:
    return sorted(p.stem for p in (resources.data_dir("templates") / "personas").glob("*.j2"))


@dataclass(frozen=True)
class NameCues:
    """First-name lists by gender and (optionally) ethnicity."""

    lists: tuple[dict, ...]
    path: Path

    @property
    def sha256(self) -> str:
        return file_sha256(self.path)

    def check_population(self, attributes: Sequence) -> None:
        if not any(a.role == "gender" for a in attributes):
            raise SpecError("cue type `name` needs a population attribute with `role: gender`",
                            where="cue_types", fix="mark the gender attribute in the population file, "
                                                   "or use cue_types: [explicit]")

    def choose(self, persona: dict, attributes: Sequence, seed: int) -> tuple[str, list[str]]:
        """A first name for the persona and the attributes it conveys (seeded by persona id)."""
        gender_attr = next(a for a in attributes if a.role == "gender")
        gender = str(persona[gender_attr.name]).lower()
        ethnicity_attr = next((a for a in attributes if a.role == "ethnicity"), None)
        ethnicity = str(persona[ethnicity_attr.name]).lower() if ethnicity_attr else None
        matching = [entry for entry in self.lists
                    if entry["gender"] == gender and ethnicity is not None and entry.get("ethnicity") == ethnicity]
        cued = [gender_attr.name] + ([ethnicity_attr.name] if matching else [])
        if not matching:
            matching = [entry for entry in self.lists if entry["gender"] == gender and "ethnicity" not in entry]
        if not matching:
            raise SpecError(f"no first names for {gender_attr.name} = {persona[gender_attr.name]!r}",
                            where=str(self.path), fix="add a list for it, or use cue_types: [explicit]")
        names = matching[0]["names"]
        rng = rng_for(seed, "name", persona["persona_id"])
        return str(names[int(rng.integers(len(names)))]), cued


def load_names(path: str | Path | None = None, *, relative_to: Path | None = None) -> NameCues:
    """First-name lists: the shipped ones, or a file (named in a study: inside the study's folder)."""
    if path is None:
        path = resources.data_dir("templates") / "names" / "first_names.yaml"
    else:
        path = resources.resolve("templates", str(path), relative_to=relative_to, confined=relative_to is not None,
                                 what="name-cue")
    data = read_yaml(path)
    lists = data.get("lists") if isinstance(data, dict) else None
    if not isinstance(lists, list) or not lists or not all(
            isinstance(e, dict) and isinstance(e.get("gender"), str) and isinstance(e.get("names"), list)
            and e["names"] and all(isinstance(n, str) and n for n in e["names"]) for e in lists):
        raise SpecError("a name-cue file needs `lists`: entries with `gender` and a non-empty list of `names`",
                        where=str(path), fix="see templates/names/first_names.yaml")
    return NameCues(lists=tuple(lists), path=path)


def render_variant(template: PersonaTemplate, persona: dict, attributes: Sequence, cue_type: str,
                   names: NameCues | None, seed: int) -> dict:
    """One persona in one style and cue type: its text, the name used and the attributes the name cues."""
    if cue_type not in CUE_TYPES:
        raise SpecError(f"unknown cue type {cue_type!r}", where="cue_types", fix=f"use {' or '.join(CUE_TYPES)}")
    name, cued = (None, [])
    if cue_type == "name":
        names = names or load_names()
        name, cued = names.choose(persona, attributes, seed)
    variant = int(rng_for(seed, "variant", persona["persona_id"]).integers(1000))
    text = template.render(persona, attributes, name=name, cued=cued, cue_type=cue_type, variant=variant)
    return {"persona_style": template.name, "cue_type": cue_type, "name": name,
            "cued_attributes": ",".join(cued), "persona_text": text}
