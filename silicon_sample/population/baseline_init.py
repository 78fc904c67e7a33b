"""``silicon-sample baseline init``: a starting baseline (and its population) from the user's own data file.

A survey researcher's pilot data usually come as an SPSS or Stata file whose variables carry labels. From
the file's header alone (names, variable labels, value labels; pyreadstat's ``metadataonly``) this writes
two YAML files for the user to review, which ``compare`` and ``report`` then accept as they are:

- **the population** (``NAME.population.yaml``, ``kind: microdata``, ``data: {file: ...}``): one attribute
  per labelled column that is not an item — its value labels become ``codes`` (labels that mean a
  non-answer, such as "Don't know" or "Refused", and negative codes are left out, so those respondents are
  counted and left out) — and an age column in years becomes age bands; a column named like sex or gender
  gets ``role: gender`` (name cues need it);
- **the baseline** (``NAME.yaml``): the instrument, the population above, the data file, ``items:`` for
  every item whose column is not named as its id (matched by name, then by the item's text in the variable
  label), ``recode:`` when the file codes an item's options otherwise than the instrument (matched by
  label), ``missing_codes`` (the non-answer codes found in the items' value labels) and the survey
  ``weight`` when a column is named like one.

Every choice it could not make (an item with no column, an unlabelled column) is a note for the user. A
CSV or Parquet file has no labels: items are matched by name, attributes are not guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SpecError
from ..specs.instruments import Instrument
from .microdata import DATA_SUFFIXES, data_columns, is_number

NON_ANSWER = re.compile(r"don.?t know|refus|not applicable|no answer|missing|^n/?a$|^dk$|inap|skipped|not asked",
                        re.IGNORECASE)
WEIGHT_NAMES = re.compile(r"^(weight|wt|wgt|w|pspwght|dweight|anweight|wtss|weight_?\w*)$", re.IGNORECASE)
AGE_NAMES = re.compile(r"^(age|agea|age_?years|respondent_?age)$", re.IGNORECASE)
GENDER_NAMES = re.compile(r"^(sex|gender|female|male|rsex|gndr)$", re.IGNORECASE)
AGE_BANDS = {"edges": [0, 18, 25, 35, 45, 55, 65, 200],
             "labels": ["under 18", "18 to 24", "25 to 34", "35 to 44", "45 to 54", "55 to 64", "65 or older"]}
MAX_ATTRIBUTES = 8


@dataclass
class Header:
    """What a data file says about its columns without loading its rows."""

    columns: list[str]
    labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict] = field(default_factory=dict)


def read_header(path: Path) -> Header:
    """Column names, variable labels and value labels of a data file (labels: SPSS and Stata files only)."""
    suffix = path.suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise SpecError(f"unsupported data file type {suffix!r}", where=str(path),
                        fix="use .csv, .sav (SPSS), .dta (Stata) or .parquet")
    if suffix in (".sav", ".dta"):
        import pyreadstat

        reader = pyreadstat.read_sav if suffix == ".sav" else pyreadstat.read_dta
        try:
            _, meta = reader(str(path), metadataonly=True)
        except Exception as exc:        # pyreadstat's ReadstatError: not the file its name says
            raise SpecError(f"the data file cannot be read as {suffix[1:].upper()}: {exc}", where=str(path),
                            fix=f"check that it is a {suffix} file written by SPSS or Stata") from None
        labels = {c: lab for c, lab in (meta.column_names_to_labels or {}).items() if lab}
        return Header(list(meta.column_names), labels, dict(meta.variable_value_labels or {}))
    return Header(data_columns(path))


def _code(value):
    number = float(value)
    return int(number) if number.is_integer() else number


def _is_non_answer(code, label: str) -> bool:
    try:
        negative = float(code) < 0
    except (TypeError, ValueError):
        negative = False
    return negative or bool(NON_ANSWER.search(str(label)))


def _match_items(instrument: Instrument, header: Header) -> tuple[dict[str, str], list[str]]:
    """Item id → column: the column named as the item (any case), else the one whose variable label holds the
    item's text."""
    by_name = {c.lower(): c for c in header.columns}
    found, notes = {}, []
    for item in instrument.items:
        column = by_name.get(item.id.lower())
        if column is None:
            text = re.sub(r"\W+", " ", item.text).strip().lower()[:40]
            column = next((c for c, lab in header.labels.items()
                           if text and text in re.sub(r"\W+", " ", lab).lower()), None)
        if column is None:
            notes.append(f"item {item.id}: no column is named {item.id} or labelled with its text — map it under "
                         f"`items:` ({item.id}: COLUMN)")
            continue
        found[item.id] = column
    return found, notes


def _recode(instrument: Instrument, item_id: str, labels: dict) -> dict | None:
    """Data code → instrument value for an item whose value labels name the instrument's options with other
    codes (None when the codes already agree or the labels do not match)."""
    scale = instrument.scale_of(item_id)
    wanted = {o.label.strip().lower(): o.value for o in scale.options}
    mapping = {_code(code): wanted[str(label).strip().lower()] for code, label in labels.items()
               if str(label).strip().lower() in wanted}
    if len(mapping) != len(scale.options) or all(code == value for code, value in mapping.items()):
        return None
    return mapping


def _distinct_values(data_file: Path, columns: list[str]) -> dict[str, list]:
    """For a file without value labels: the distinct values of each column with 2 to 12 of them (read column
    by column, the columns the items and weight use left out)."""
    from .microdata import read_data_file

    out = {}
    for column in columns[:40]:
        values = read_data_file(data_file, columns=[column])[column].dropna().unique()
        if 2 <= len(values) <= 12:
            out[column] = sorted(values, key=lambda v: (isinstance(v, str), v))
    return out


def draft_baseline(data_file: Path, instrument: Instrument, name: str, population_file: str, data_path: str
                   ) -> tuple[dict, dict, list[str]]:
    """The population spec, the baseline spec and the notes for the user (see the module docstring).
    ``name`` is the baseline's id; ``population_file`` the population's path and ``data_path`` the data
    file's, both relative to the baseline's folder."""
    header = read_header(data_file)
    items, notes = _match_items(instrument, header)
    item_columns = set(items.values())
    recode, item_recode, missing = None, {}, set()
    for item_id, column in items.items():
        labels = header.value_labels.get(column, {})
        missing |= {_code(code) for code, label in labels.items() if _is_non_answer(code, label)}
        mapping = _recode(instrument, item_id, labels)
        if mapping:
            item_recode[item_id] = mapping
    if item_recode and len({tuple(sorted(m.items())) for m in item_recode.values()}) == 1 \
            and len(item_recode) == len(items):
        recode, item_recode = next(iter(item_recode.values())), {}
    weight = next((c for c in header.columns if WEIGHT_NAMES.match(c) and c not in item_columns), None)
    if not header.value_labels:       # CSV, Parquet: the values themselves are the labels
        candidates = [c for c in header.columns if c not in item_columns and c != weight and not AGE_NAMES.match(c)]
        header.value_labels = {c: {v: v for v in values}
                               for c, values in _distinct_values(data_file, candidates).items()}
    attributes = {}
    for column in header.columns:
        if column in item_columns or column == weight or len(attributes) >= MAX_ATTRIBUTES:
            continue
        key = re.sub(r"[^A-Za-z0-9_]", "_", column)
        key = key if re.match(r"[A-Za-z]", key) else f"v_{key}"
        label = header.labels.get(column) or column.replace("_", " ").capitalize()
        if AGE_NAMES.match(column):
            attributes["age_band"] = {"label": "Age", "question": "What is your age?", "role": "age",
                                      "column": column, "bins": AGE_BANDS}
            continue
        values = header.value_labels.get(column)
        if not values:
            continue
        codes = {str(_code(code)) if is_number(code) else str(code): str(lab) for code, lab in values.items()
                 if not _is_non_answer(code, lab)}
        if len(codes) < 2:
            continue
        entry = {"label": label[:80], "column": column, "codes": codes}
        if GENDER_NAMES.match(column):
            entry["role"] = "gender"
            key = "gender"
        attributes[key] = entry
    unlabelled = [c for c in header.columns if c not in item_columns and c != weight
                  and not header.value_labels.get(c) and not AGE_NAMES.match(c)]
    if not attributes:
        raise SpecError("no column describes the respondents (no labelled or few-valued column besides the items)",
                        where=str(data_file), fix="add the respondents' attributes (age, gender, ...) to the file")
    if unlabelled:
        notes.append(f"{len(unlabelled)} column(s) without value labels were not made attributes: "
                     f"{', '.join(unlabelled[:10])}{' …' if len(unlabelled) > 10 else ''}")
    population = {"id": f"{name}_respondents", "kind": "microdata",
                  "name": f"Respondents of {data_file.name}",
                  "description": f"Drafted by silicon-sample baseline init from {data_file.name}: review the "
                                 "attributes, their labels and codes.",
                  "source": f"{data_file.name} (the user's own data)",
                  "data": {"file": data_path, **({"weight": weight} if weight else {})},
                  "attributes": attributes}
    baseline = {"id": name, "name": f"Respondents of {data_file.name} answering {instrument.id}",
                "description": "Drafted by silicon-sample baseline init: review the item mapping, the recodes and "
                               "the missing codes.",
                "source": f"{data_file.name} (the user's own data)", "instrument": instrument.id,
                "population": population_file, "data": {"file": data_path}}
    mapped = {i: c for i, c in items.items() if c != i}
    if mapped:
        baseline["items"] = mapped
    if recode:
        baseline["recode"] = recode
    if item_recode:
        baseline["item_recode"] = item_recode
    if missing:
        baseline["missing_codes"] = sorted(missing)
    if weight:
        baseline["weight"] = weight
    return population, baseline, notes
