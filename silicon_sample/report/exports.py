"""Exports of a run's tidy results: CSV, Parquet, SPSS (.sav) and Stata (.dta), with a codebook.

The format is named by ``format`` or inferred from the file's extension (``.csv``, ``.parquet``, ``.sav``,
``.dta``). SPSS and Stata files carry what a survey researcher expects of a labelled file, written with
pyreadstat:

- **variable labels**: an item's text (``A2: Inquire about others' well-being.``), a scale's name and score
  (mean or sum of its items), each design and answer column's meaning; cut to the format's limit (Stata 80
  characters, SPSS 256) — the full text is in the codebook;
- **value labels**: an item's option labels; persona attributes and the other text categories of the design
  (style, cue type, model, status) as labelled integer codes (1, 2, … in the order of the categories);
- **variable names** made legal for the format (letters, digits and ``_``, at most 32 characters for
  Stata, 64 for SPSS; ``bfi25.A2`` becomes ``bfi25_A2``): the codebook maps each to its column;
- **the file label** (and, in SPSS, the document notes): the study, its seed, the models and the run's
  creation, as the manifest records them;
- text longer than Stata's 2,045-byte strings (raw model output) is cut in ``.dta`` files, and the
  codebook says which columns were cut; CSV, Parquet and SPSS keep it whole.

Parquet keeps the pandas types and stores the codebook in the file's schema metadata (key
``silicon_sample.codebook``, JSON). The codebook (:func:`codebook`) has one row per column: ``column``,
``name_in_file``, ``label`` (full), ``kind`` (design, persona, item, scale, answer, meta), ``values`` (the
value labels, ``code = label; …``), ``missing`` (user-missing values: a numeric item's special codes, set as
missing in SPSS), ``scale`` and ``reverse`` for items, ``note``.

Item types (wide exports): a numeric item is a numeric variable labelled with its anchors and special codes
(its range in the note); an open-ended item a string variable; a check-all item one 0/1 variable per option
(``{item}_{code}``), described in the note as a multiple-response set of dichotomies with counted value 1, as
SPSS's MRSETS defines one; a rank item one place variable per option (``{item}_rank_{code}``, 1 = first).
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from ..errors import SpecError
from ..files import write_atomic, writing
from ..text_safety import FORMULA_LEADS, formula_safe

FORMATS = {".csv": "csv", ".parquet": "parquet", ".sav": "sav", ".dta": "dta"}
LABEL_LIMIT = {"dta": 80, "sav": 256}
NAME_LIMIT = {"dta": 32, "sav": 64}
STATA_STRING = 2045

STATUS_CODES = {"answered": 1, "refused": 2, "invalid": 3, "failed": 4, "pending": 5, "dont_know": 6}
CATEGORY_COLUMNS = ("persona_style", "cue_type", "perturbation", "model", "backend", "instrument", "presentation",
                    "block", "item_id")

DESIGN_LABELS = {
    "persona_id": "Persona (silicon respondent) id", "weight": "Survey weight of the persona",
    "source_row": "Row of the population microdata the persona was drawn from",
    "persona_text": "The persona text the model was given (system message)",
    "persona_style": "Persona style (how the persona is described)", "cue_type": "Cue type (explicit or name)",
    "name": "First name used as a cue", "cued_attributes": "Attributes the name cues",
    "model": "Model id in the study", "backend": "Backend", "model_version": "Model version the server reported",
    "instrument": "Instrument", "item_id": "Item id", "position": "Position of the item as presented (1 = first)",
    "perturbation": "How the instrument was shown (original or a perturbation)",
    "presentation": "Presentation: independent, battery or conversation", "block": "Block of the item",
    "block_position": "Position of the item within its block (1 = first)",
    "replicate": "Replicate", "answer": "Answer (option code)", "status": "Status of the cell",
    "reason": "Reason for a refusal, invalid answer or failure", "option_mass":
        "Probability the model put on the option tokens (distribution mode)",
    "raw_output": "Raw model output", "latency_s": "Seconds the call took", "prompt_tokens": "Prompt tokens",
    "completion_tokens": "Completion tokens", "seed": "Seed of the cell's answer", "cell_id": "Cell id",
    "cells_pending": "Cells of this model-persona pair still pending",
}


def infer_format(output: str | Path, format: str | None) -> tuple[str, bool]:
    """The export format and whether it was inferred from the extension; a clear error when neither the
    option nor the extension names a format, or when they disagree."""
    suffix = Path(str(output)).suffix.lower()
    from_suffix = FORMATS.get(suffix)
    if format is not None:
        if format not in FORMATS.values():
            raise SpecError(f"unknown export format {format!r}", where="--format",
                            fix=f"use one of: {', '.join(FORMATS.values())}")
        if from_suffix is not None and from_suffix != format and str(output) != "-":
            raise SpecError(f"--format {format} but the file is named {Path(str(output)).name} ({from_suffix})",
                            where=str(output), fix=f"name the file *.{format}, or leave --format out")
        return format, False
    if str(output) == "-":
        return "csv", False
    if from_suffix is None:
        raise SpecError(f"cannot tell the export format from the extension {suffix or '(none)'!r}",
                        where=str(output), fix="name the file *.csv, *.parquet, *.sav or *.dta, or give --format")
    return from_suffix, True


FORMULA_GUARD_NOTE = ("text cells beginning with = + - @, a tab or a carriage return are prefixed with ' so that a "
                      "spreadsheet does not run them as formulas (CSV-injection guard; export --no-formula-guard "
                      "writes them as they are)")


def formula_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell a spreadsheet would run as a formula prefixed with ``'`` (only text
    columns are touched; numbers, including negative ones, are never changed)."""
    text = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype)]
    risky = [c for c in text if frame[c].map(lambda v: isinstance(v, str) and v.startswith(FORMULA_LEADS)).any()]
    if not risky:
        return frame
    frame = frame.copy()
    for column in risky:
        frame[column] = frame[column].map(formula_safe).astype(object)
    return frame


def note_formula_guard(book: pd.DataFrame, frame: pd.DataFrame, fmt: str, guard: bool) -> pd.DataFrame:
    """The codebook of a CSV export says, on every text column, whether formula-leading cells were prefixed."""
    if fmt != "csv" or "note" not in book.columns:
        return book
    text = {c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype)}
    note = FORMULA_GUARD_NOTE if guard else "written as they are (--no-formula-guard): a spreadsheet may run a " \
                                            "text cell beginning with = + - @ as a formula"
    book = book.copy()
    rows = book["column"].isin(text)
    book.loc[rows, "note"] = [f"{n}; {note}" if isinstance(n, str) and n else note for n in book.loc[rows, "note"]]
    return book


def _legal_names(columns: list[str], limit: int) -> dict[str, str]:
    names, used = {}, set()
    for column in columns:
        name = re.sub(r"[^A-Za-z0-9_]", "_", column)
        if not re.match(r"[A-Za-z]", name):
            name = f"v_{name}"
        name = name[:limit]
        base, i = name, 2
        while name.lower() in used:
            suffix = f"_{i}"
            name, i = base[: limit - len(suffix)] + suffix, i + 1
        used.add(name.lower())
        names[column] = name
    return names


def codebook(frame: pd.DataFrame, instruments: dict, attributes: dict | None = None) -> pd.DataFrame:
    """One row per column of an export (see the module docstring); ``instruments`` maps instrument id to
    :class:`~silicon_sample.specs.instruments.Instrument`, ``attributes`` a persona attribute's name to its
    label and categories (in the population's order, which gives the codes 1, 2, …)."""
    attributes = attributes or {}
    items, scales = {}, {}
    prefixed = len({it.id for i in instruments.values() for it in i.items}) != sum(
        len(i.items) for i in instruments.values())
    options = {}
    for instrument in instruments.values():
        for item in instrument.items:
            name = f"{instrument.id}.{item.id}" if prefixed else item.id
            items[name] = (instrument, item)
            if item.type in ("multiple", "rank"):
                for option in instrument.scale_of(item).options:
                    column = f"{name}_{option.value}" if item.type == "multiple" else f"{name}_rank_{option.value}"
                    options[column] = (instrument, item, option, name)
        for scale_id, scale in instrument.scoring.scales.items():
            scales[scale_id] = scales[f"{instrument.id}.{scale_id}"] = (instrument, scale_id, scale)
    rows = []
    for column in frame.columns:
        row = {"column": column, "label": DESIGN_LABELS.get(column, column), "kind": "design", "values": "",
               "missing": "", "scale": "", "reverse": "", "note": ""}
        if column in items:
            instrument, item = items[column]
            row.update(label=f"{item.id}: {instrument.render_item(item)}", kind="item", scale=item.scale or "",
                       reverse="yes" if item.reverse else "no", **_item_values(instrument, item))
        elif column in options:
            instrument, item, option, name = options[column]
            if item.type == "multiple":
                row.update(label=f"{item.id}: {instrument.render_item(item)} — {option.label}", kind="item",
                           values="0 = not selected; 1 = selected",
                           note=f"multiple-response set {name} (multiple dichotomies, counted value 1)")
            else:
                row.update(label=f"{item.id}: place given to {option.label} (1 = first) — "
                                 f"{instrument.render_item(item)}", kind="item",
                           note=f"rank item {name}: one place column per option; empty when not ranked")
        elif column.endswith("_n") and column[:-2] in scales:
            instrument, scale_id, scale = scales[column[:-2]]
            row.update(label=f"{scale.name}: number of items that entered the score", kind="scale")
        elif column in scales:
            instrument, scale_id, scale = scales[column]
            row.update(label=f"{scale.name} ({instrument.scoring.method} of the answered items, reverse-keyed "
                             "items as (min + max) - answer)", kind="scale", scale=scale_id)
        elif column in attributes:
            label, categories = attributes[column]
            row.update(label=label, kind="persona",
                       values="; ".join(f"{i} = {c}" for i, c in enumerate(categories, start=1)))
        elif column.startswith("p_"):
            row.update(label=f"P(option {column[2:]}) in distribution mode", kind="answer")
        elif column in ("answer", "status", "reason", "option_mass", "raw_output"):
            row["kind"] = "answer"
        elif column in ("latency_s", "prompt_tokens", "completion_tokens", "seed", "cell_id", "cells_pending"):
            row["kind"] = "meta"
        if column == "status":
            row["values"] = "; ".join(f"{code} = {name}" for name, code in STATUS_CODES.items())
        if column == "answer":
            scales = {tuple((o.value, o.label) for o in i.scale_of(it).options)
                      for i in instruments.values() for it in i.coded_items}
            if any(not it.coded for i in instruments.values() for it in i.items):
                row["note"] = ("the option code of single-choice items, the number of numeric items; texts in "
                               "answer_text, chosen or ranked codes in selected")
            elif len(scales) == 1:          # one response scale for every item: the answer's value labels
                row["values"] = "; ".join(f"{v} = {label}" for v, label in next(iter(scales)))
            else:
                row["note"] = "items use different response scales: see each item's values in a wide export"
        rows.append(row)
    table = pd.DataFrame(rows)
    table.insert(1, "name_in_file", table["column"])
    return table


def _item_values(instrument, item) -> dict:
    """An item's codebook ``values`` and ``note``: its option labels, or a numeric item's anchors and special
    codes (user-missing in SPSS) with its range; an open-ended item is a string variable."""
    if item.type == "numeric":
        labels = [(a.value, a.label) for a in item.anchors] + [(o.value, o.label) for o in item.special]
        special = ", ".join(str(o.value) for o in item.special)
        unit = f" {item.unit}" if item.unit else ""
        return {"values": "; ".join(f"{v:g} = {label}" for v, label in labels), "missing": special,
                "note": f"numeric, {item.minimum:g} to {item.maximum:g}{unit}"
                        + (f"; special code(s) {special} are missing values" if special else "")}
    if item.type == "text":
        return {"values": "", "note": f"open-ended answer (string, kept to {item.max_length} characters)"}
    note = f"correct answer: {item.correct}" if item.type == "knowledge" else ""
    return {"values": "; ".join(f"{o.value} = {o.label}" for o in instrument.scale_of(item).options), "note": note}


def _categories(series: pd.Series) -> list:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return list(series.cat.categories)
    return sorted(series.dropna().astype(str).unique())


def labelled_frame(frame: pd.DataFrame, book: pd.DataFrame, fmt: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The frame as written to an SPSS or Stata file: legal names, text categories as integer codes, value
    labels; returns (frame, codebook with ``name_in_file`` and notes filled, value labels by file name)."""
    names = _legal_names(list(frame.columns), NAME_LIMIT[fmt])
    out = pd.DataFrame(index=frame.index)
    book = book.copy()
    book["name_in_file"] = book["column"].map(names)
    value_labels: dict[str, dict] = {}
    for row in book.itertuples():
        column, name = row.column, names[row.column]
        series = frame[column]
        if column == "status":
            out[name] = series.map(STATUS_CODES).astype(float)
            value_labels[name] = {float(code): label for label, code in STATUS_CODES.items()}
        elif (row.kind == "item" and not pd.api.types.is_string_dtype(series) and series.dtype != object) or (
                column == "answer" and row.values):
            out[name] = pd.to_numeric(series, errors="coerce").astype(float)
            if row.values:
                value_labels[name] = {float(v.split(" = ", 1)[0]): v.split(" = ", 1)[1]
                                      for v in row.values.split("; ")}
        elif (row.kind == "persona" or column in CATEGORY_COLUMNS) and not pd.api.types.is_numeric_dtype(series):
            given = [v.split(" = ", 1)[1] for v in row.values.split("; ")] if row.values else []
            categories = given + [c for c in _categories(series) if c not in given]
            codes = {c: i for i, c in enumerate(categories, start=1)}
            out[name] = series.astype("string").map(codes).astype(float)
            value_labels[name] = {float(i): str(c)[:120] for c, i in codes.items()}
            book.loc[book["column"] == column, "values"] = "; ".join(f"{i} = {c}" for c, i in codes.items())
        elif pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            out[name] = pd.to_numeric(series, errors="coerce").astype(float)
        else:
            text = series.astype("string").fillna("")
            if fmt == "dta" and (text.str.encode("utf-8").str.len() > STATA_STRING).any():
                text = text.map(lambda s: s.encode("utf-8")[:STATA_STRING].decode("utf-8", "ignore"))
                book.loc[book["column"] == column, "note"] = (f"cut to Stata's {STATA_STRING}-byte strings in this "
                                                              "file; whole in CSV, Parquet and SPSS exports")
            out[name] = text.astype(object)
    return out, book, value_labels


def file_label(manifest: dict) -> str:
    """The manifest's key facts in one line (study, seed, models, creation)."""
    study = manifest.get("study", {})
    models = ", ".join(f"{m}={d.get('model') or d.get('backend')}" for m, d in manifest.get("models", {}).items())
    created = next(iter(manifest.get("sessions", [])), {}).get("started_at", "")
    return (f"silicon-sample run of study {study.get('id')} (seed {manifest.get('seeds', {}).get('study_seed')}); "
            f"models {models}; created {created}")


def _measure(row, column: pd.Series, value_labels: dict) -> str:
    """SPSS's measurement level: a numeric item is ``scale``, a single-choice item ``ordinal``, a selection
    dichotomy, text or labelled category ``nominal``, any other number ``scale``."""
    if row.kind == "item":
        if column.dtype == object:
            return "nominal"
        if row.note.startswith("numeric"):
            return "scale"
        return "nominal" if row.note.startswith("multiple-response") else "ordinal"
    return "nominal" if row.name_in_file in value_labels or column.dtype == object else "scale"


def write_export(frame: pd.DataFrame, output: str | Path, fmt: str, book: pd.DataFrame, manifest: dict) -> None:
    """Write ``frame`` to ``output`` in ``fmt`` whole (a temporary file renamed into place)."""
    output = Path(output)
    if not output.parent.exists():
        raise SpecError("output folder does not exist", where=str(output.parent), fix="create it first")
    if output.is_dir():
        raise SpecError("the output is a directory", where=str(output), fix="give a file name")
    if fmt == "csv":
        write_atomic(output, frame.to_csv(index=False))
        return
    with writing(output) as tmp:
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            metadata = {**(table.schema.metadata or {}),
                        b"silicon_sample.codebook": book.to_json(orient="records").encode(),
                        b"silicon_sample.run": file_label(manifest).encode()}
            pq.write_table(table.replace_schema_metadata(metadata), tmp)
        else:
            import pyreadstat

            data, book, value_labels = labelled_frame(frame, book, fmt)
            limit = LABEL_LIMIT[fmt]
            labels = {r.name_in_file: r.label[:limit] for r in book.itertuples()}
            label = file_label(manifest)
            if fmt == "sav":
                measure = {r.name_in_file: _measure(r, data[r.name_in_file], value_labels) for r in book.itertuples()}
                short = (f"silicon-sample: study {manifest.get('study', {}).get('id')}, seed "
                         f"{manifest.get('seeds', {}).get('study_seed')}")
                missing = {r.name_in_file: [float(v) for v in r.missing.split(", ")] for r in book.itertuples()
                           if getattr(r, "missing", "")}
                pyreadstat.write_sav(data, tmp, file_label=short[:64], column_labels=labels,
                                     variable_value_labels=value_labels, variable_measure=measure,
                                     missing_ranges=missing or None,
                                     note=[*textwrap.wrap(label, 80),
                                           "Full labels and names: the codebook (export --codebook)."])
            else:
                pyreadstat.write_dta(data, tmp, file_label=label[:80], column_labels=labels,
                                     variable_value_labels={k: {int(c): v for c, v in d.items()}
                                                            for k, d in value_labels.items()})


def write_export_chunks(chunks: Iterator[pd.DataFrame], output: str | Path, fmt: str, manifest: dict,
                        book_of: Callable[[pd.DataFrame], pd.DataFrame], *, formula_guard: bool = False
                        ) -> tuple[int, pd.DataFrame | None]:
    """Write CSV or Parquet a chunk at a time (a temporary file renamed into place when every chunk is
    written), so an export of a million answers holds one chunk in memory. Parquet's schema is the first
    chunk's, a column that chunk has only empty values of typed as text, and it carries the codebook
    (``book_of(first chunk)``) in its metadata. ``formula_guard`` (CSV): :func:`formula_safe_frame` on every
    chunk. Returns (rows written, the codebook)."""
    output = Path(output)
    if not output.parent.exists():
        raise SpecError("output folder does not exist", where=str(output.parent), fix="create it first")
    if output.is_dir():
        raise SpecError("the output is a directory", where=str(output), fix="give a file name")
    rows, book, writer = 0, None, None
    with writing(output) as tmp:
        try:
            for chunk in chunks:
                if book is None:
                    book = book_of(chunk)
                if fmt == "csv":
                    (formula_safe_frame(chunk) if formula_guard else chunk).to_csv(
                        tmp, index=False, header=rows == 0, mode="w" if rows == 0 else "a")
                else:
                    import pyarrow as pa
                    import pyarrow.parquet as pq

                    if writer is None:
                        schema = pa.Schema.from_pandas(chunk, preserve_index=False)
                        fields = [f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in schema]
                        schema = pa.schema(fields, metadata={
                            **(schema.metadata or {}),
                            b"silicon_sample.codebook": book.to_json(orient="records").encode(),
                            b"silicon_sample.run": file_label(manifest).encode()})
                        writer = pq.ParquetWriter(tmp, schema)
                    writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))
                rows += len(chunk)
            if writer is not None:
                writer.close()
                writer = None
            if rows == 0:
                raise SpecError("the run has no cells to export", where=str(output))
        finally:
            if writer is not None:
                writer.close()
    return rows, book


def codebook_for_format(frame: pd.DataFrame, book: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """The codebook as the export in ``fmt`` names and codes its columns."""
    if fmt in ("sav", "dta"):
        return labelled_frame(frame, book, fmt)[1]
    return book


def write_posterior(posterior, folder: Path, variables: tuple[str, ...] = ("effect", "difference", "source_shift",
                                                                          "sigma_respondent")) -> None:
    """A Bayesian model's posterior as netCDF (``posterior.nc``; ``arviz.from_netcdf`` reads it back) and the
    trace plot of its main parameters (``trace.png``), each written whole."""
    import arviz as az

    with writing(folder / "posterior.nc") as tmp:
        posterior.to_netcdf(tmp)
    present = [v for v in variables if v in posterior.posterior]
    plot = az.plot_trace(posterior, var_names=present)
    with writing(folder / "trace.png", suffix=".png") as png:
        plot.savefig(png)


def parquet_codebook(path: str | Path) -> pd.DataFrame:
    """The codebook stored in a Parquet export's metadata."""
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    return pd.DataFrame(json.loads(metadata[b"silicon_sample.codebook"]))


__all__ = ["FORMATS", "codebook", "codebook_for_format", "file_label", "infer_format", "parquet_codebook",
           "write_export", "write_posterior"]
