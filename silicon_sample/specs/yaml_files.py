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


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; syntax errors name the file and the line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read file ({exc.strerror})", where=str(path), fix="check the path") from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"the file is not UTF-8 text (byte {exc.start}: {exc.reason})", where=str(path),
                        fix="save it as UTF-8 text (YAML), or give the right file") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark is not None else "YAML"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{line}: YAML syntax error: {problem}", where=str(path), fix="fix the YAML syntax") from None


def validate(data: Any, schema_name: str, path: Path | str) -> None:
    """Validate ``data`` against a shipped schema; raise one clear SpecError."""
    validator = jsonschema.Draft202012Validator(schema(schema_name))
    errors = list(validator.iter_errors(data))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    where = field_path(error.absolute_path)
    message = error.message
    if error.validator == "additionalProperties":
        message = message.replace("Additional properties are not allowed", "unknown field(s)")
    raise SpecError(
        f"{where}: {message}",
        where=str(path),
        fix=f"see the {schema_name} format in the README "
            f"(schema: silicon_sample/specs/schemas/{schema_name}.schema.json)",
    )


def load_spec(path: Path, schema_name: str) -> dict[str, Any]:
    """Read and validate one spec file; return the parsed mapping."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError(f"expected a mapping at the top level, found {type(data).__name__}", where=str(path))
    validate(data, schema_name, path)
    return data

