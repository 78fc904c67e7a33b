"""Codebooks: the categories that code open-ended answers.

A codebook (YAML, schema ``silicon_sample/specs/schemas/codebook.schema.json``) names the text items it
codes and its categories, each with a code, a label, an optional description (shown to an LLM coder) and
optional keywords (words or regular expressions for the keyword coder); ``other`` is the code of an answer
no keyword matches. Coding itself is in :mod:`silicon_sample.comparison.open_ended` (keywords, agreement)
and :mod:`silicon_sample.runner.coding` (an LLM coder through any backend).

Example::

    id: mip_codes
    name: Most important problem
    items: [mip]
    categories:
      - {code: 1, label: Economy, description: "jobs, prices, the economy", keywords: [econom, jobs?, inflation]}
      - {code: 2, label: Health care, keywords: ["health ?care", insurance]}
    other: 9
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ..errors import SpecError
from .yaml_files import load_spec


class Category(BaseModel):
    model_config = ConfigDict(frozen=True)
    code: int
    label: str
    description: str | None = None
    keywords: tuple[str, ...] = ()


class Codebook(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    name: str
    source: str | None = None
    items: tuple[str, ...]
    categories: tuple[Category, ...]
    other: int | None = None
    path: Path | None = None

    @property
    def codes(self) -> tuple[int, ...]:
        """Every code an answer can get, ``other`` last."""
        codes = tuple(c.code for c in self.categories)
        return codes + ((self.other,) if self.other is not None and self.other not in codes else ())

    def label_of(self, code: int) -> str:
        return next((c.label for c in self.categories if c.code == code), "Other" if code == self.other else "")

    def describe(self) -> str:
        """The categories as shown to an LLM coder: ``code = label: description`` per line."""
        lines = [f"{c.code} = {c.label}" + (f": {c.description}" if c.description else "") for c in self.categories]
        if self.other is not None and self.other not in {c.code for c in self.categories}:
            lines.append(f"{self.other} = Other: an answer that fits none of the categories above")
        return "\n".join(lines)


def load(path: str | Path) -> Codebook:
    """A codebook file, validated: its schema, distinct codes, keywords that compile as regular expressions."""
    path = Path(path)
    data = load_spec(path, "codebook")
    codes = [c["code"] for c in data["categories"]]
    if len(set(codes)) != len(codes):
        raise SpecError(f"categories: codes must be distinct, got {codes}", where=str(path),
                        fix="give every category its own code")
    for index, category in enumerate(data["categories"]):
        for keyword in category.get("keywords", ()):
            try:
                re.compile(keyword)
            except re.error as exc:
                raise SpecError(f"categories[{index}].keywords: {keyword!r} is not a regular expression ({exc})",
                                where=str(path), fix="escape special characters, e.g. \\\\? for a question mark") \
                    from None
    return Codebook(**data, path=path)


__all__ = ["Category", "Codebook", "load"]
