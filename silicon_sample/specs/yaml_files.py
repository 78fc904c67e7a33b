"""Reading YAML spec files and validating them against the shipped JSON Schemas.

Instruments, populations and studies are YAML files checked against a JSON
Schema in ``silicon_sample/specs/schemas``. A file that fails gets one line naming
the file and the field, e.g.::

    instruments/mine.yaml: items[3].reverse: 'yes' is not of type 'boolean'
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ..errors import SpecError
from .resources import MAX_SPEC_BYTES, read_text

MAX_YAML_DEPTH = 64
"""The deepest nesting of mappings and lists a spec file may have (the shipped ones go 5 deep)."""
MAX_YAML_VALUES = 1_000_000
"""The most values a spec file may hold with every alias expanded: a 1 KB "billion laughs" file of nested
aliases would otherwise expand to gigabytes when validated."""


class _Refused(Exception):
    def __init__(self, line: int | None, what: str):
        self.line, self.what = line, what


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader (no Python tags) that refuses nesting deeper than :data:`MAX_YAML_DEPTH` while
    composing (before Python's recursion limit is near) and documents whose aliases expand to more than
    :data:`MAX_YAML_VALUES` values or refer to themselves (before anything walks them)."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(mark.line + 1, f"the file nests lists and mappings more than {MAX_YAML_DEPTH} deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_size(root: yaml.Node) -> int:
    """How many values the document holds with every alias expanded (each distinct node counted once per
    place it appears), stopping as soon as it passes :data:`MAX_YAML_VALUES`."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise _Refused(node.start_mark.line + 1, "an alias refers to a node that contains it (a recursive "
                                                     "structure), which no spec needs")
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        for child in children:
            total += size(child)
            if total > MAX_YAML_VALUES:
                raise _Refused(node.start_mark.line + 1, f"its aliases expand to more than {MAX_YAML_VALUES:,} "
                                                         "values (an alias bomb)")
        open_nodes.discard(key)
        sizes[key] = total
        return total

    return size(root)


def safe_load(text: str, where: str) -> Any:
    """Parse YAML text with :class:`BoundedLoader`; every refusal and syntax error is one :class:`SpecError`."""
    loader = BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    except _Refused as exc:
        raise SpecError(f"line {exc.line}: {exc.what}" if exc.line else exc.what, where=where,
                        fix="check that this is the right file; write the spec out plainly") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark is not None else "YAML"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{line}: YAML syntax error: {problem}", where=where, fix="fix the YAML syntax") from None
    finally:
        loader.dispose()


@cache
def schema(name: str) -> dict[str, Any]:
    """The shipped JSON Schema ``name`` (e.g. ``"instrument"``)."""
    text = resources.files("silicon_sample.specs").joinpath("schemas", f"{name}.schema.json").read_text()
    return json.loads(text)


def field_path(parts) -> str:
    """Render a jsonschema error path as ``items[3].reverse``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def read_yaml(path: Path, *, limit: int = MAX_SPEC_BYTES) -> Any:
    """Parse a YAML file of at most ``limit`` bytes with :func:`safe_load`; errors name the file and the line."""
    return safe_load(read_text(Path(path), limit=limit), str(path))


def validate(data: Any, schema_name: str, path: Path | str) -> None:
    """Validate ``data`` against a shipped schema; raise one clear SpecError."""
    validator = jsonschema.Draft202012Validator(schema(schema_name))
    errors = list(validator.iter_errors(data))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    where = field_path(error.absolute_path)
    message = error.message
    fix = (f"see the {schema_name} format in the README "
           f"(schema: silicon_sample/specs/schemas/{schema_name}.schema.json)")
    if error.validator == "additionalProperties":
        message = message.replace("Additional properties are not allowed", "unknown field(s)")
        allowed = sorted(error.schema.get("properties", {}))
        if allowed:
            fix = f"the fields allowed here are {', '.join(allowed)}"
    raise SpecError(f"{where}: {message}", where=str(path), fix=fix)


def load_spec(path: Path, schema_name: str) -> dict[str, Any]:
    """Read and validate one spec file; return the parsed mapping."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError(f"expected a mapping at the top level, found {type(data).__name__}", where=str(path))
    validate(data, schema_name, path)
    return data

