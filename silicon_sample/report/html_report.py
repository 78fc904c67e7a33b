"""``silicon-sample report``: one self-contained HTML file of what a reader of a silicon sample looks at.

Sections, in order (each an ``<section id=…>``): ``design`` (study, models and the versions their servers
reported, seeds, persona styles, cue types, prompt layout with one example prompt), ``composition`` (the
sample beside the target population, weighted), ``status`` (answered / refused / invalid / failed by model
and by persona attribute), ``distributions`` (each item's answers, silicon beside human), ``reliability``,
``invariance`` (the ladder with its decisions and estimator), ``fidelity`` (every summary figure between
its floors and the human ceiling, with intervals), ``patterns`` (human d against silicon d, with
intervals), ``response-styles``, ``bayes`` (the posterior effects as a forest plot, when a ``bayes -o``
folder is given) and ``ranking`` (with its readings). A section whose inputs are missing (no baseline, no
bayes folder) says so instead of being left out.

Figures are plotnine plots embedded as PNG ``data:`` URIs (:mod:`.figures`); tables are great_tables
tables (R's gt) with their conventions in the source notes; the page has its style inline and no external
URL, so it opens offline.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..answers import PENDING, STATUSES
from ..comparison.item_fidelity import (
    comparison_row,
    mean_interval,
    option_shares,
    source_items,
    weighted_moments,
)
from ..comparison.scale_level import NOT_AT_SCALE_LEVEL
from ..psychometrics.scoring import scale_scores
from ..specs.instruments import SCORED_TYPES
from ..tidy.results import PAIR_COLUMNS, long_results, run_instruments, run_manifest, scored_answers, wide_results
from ..version import __version__
from . import figures
from .paper_tables import gt_table
from .readable import estimate_with_interval, mean_with_interval
from .summary import question_tables
from .terminal import CALIBRATION_NOTE, PERSONA_EFFECTS_NOTE, labelled_sample_line

SHOWN_STATUSES = (*STATUSES, PENDING)
SECTIONS = ("design", "composition", "status", "distributions", "personas", "reliability", "invariance", "fidelity",
            "patterns", "response-styles", "calibration", "bayes", "ranking")


@dataclass
class RunView:
    """What the report shows of one run."""

    dir: Path
    manifest: dict
    long: pd.DataFrame
    personas: pd.DataFrame
    population_marginals: dict
    tables: dict[str, pd.DataFrame] | None = None
    example: dict | None = None
    wide_scales: tuple[pd.DataFrame, list[str]] | None = None       # wide results and the scale columns
    calibration: dict[str, pd.DataFrame] | None = None               # `calibrate`'s tables (twin runs)
    persona_effects: dict[str, pd.DataFrame] | None = None           # `personas`' tables (catalogue runs)


@dataclass
class ReportInputs:
    runs: list[RunView]
    baseline: object | None = None                    # a loaded Baseline
    ranking: pd.DataFrame | None = None
    bayes: pd.DataFrame | None = None                 # effects.csv of `bayes -o`
    bayes_settings: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)


def run_view(run_dir: Path, personas: pd.DataFrame, marginals: dict, tables=None, example=None) -> RunView:
    long = long_results(run_dir)
    wide = wide_results(run_dir, long)
    scales = [s for i in run_instruments(run_dir).values() for s in i.scoring.scales if s in wide.columns]
    return RunView(Path(run_dir), run_manifest(run_dir), long, personas, marginals, tables, example,
                   (wide, scales) if scales else None)


# -- building blocks -----------------------------------------------------------------------------------------
COLLAPSE_ROWS = 8
"""A table longer than this is shown behind a <details> element, under a one-line summary."""


def _table(frame: pd.DataFrame, title: str, notes: list[str], decimals: int = 2, summary: str | None = None) -> str:
    """A great_tables table; a long one collapsed behind ``summary`` (or its title and row count). A ``note``
    column with long text leaves the table (it would make its rows tall and the table wider than the page) and
    follows it as a list, each note under its row's name."""
    below = ""
    if isinstance(frame.index, pd.MultiIndex) and len(frame) > 1:     # what every row shares goes to the title
        shared = [n for n in frame.index.names if frame.index.get_level_values(n).nunique() == 1]
        shared = shared[:frame.index.nlevels - 1]
        if shared:
            title += " — " + ", ".join(f"{n.replace('_', ' ')} {frame.index.get_level_values(n)[0]}" for n in shared)
            frame = frame.droplevel(shared)
    if "note" in frame.columns and frame["note"].fillna("").astype(str).str.len().max() > 40:
        said = frame["note"].fillna("").astype(str)
        items = "".join(f"<li><b>{html.escape(' / '.join(map(str, key if isinstance(key, tuple) else (key,))))}"
                        f"</b>: {html.escape(note)}</li>" for key, note in said.items() if note)
        below = f'<div class="notes"><p>Notes to the table above:</p><ul>{items}</ul></div>' if items else ""
        frame = frame.drop(columns="note")
    table = gt_table(frame, title, notes, decimals).as_raw_html() + below
    if len(frame) <= COLLAPSE_ROWS:
        return table
    said = summary or f"{title}: {len(frame)} rows"
    return f"<details><summary>{html.escape(said)} (show the table)</summary>{table}</details>"


def _figure(plot, alt: str) -> str:
    return f'<figure><img src="{figures.png_data_uri(plot)}" alt="{html.escape(alt)}"></figure>'


def _heading(inputs: ReportInputs, run: RunView) -> str:
    """The run's name over its part of a section, when the report has several runs."""
    return f"<h3>{html.escape(run.dir.name)}</h3>" if len(inputs.runs) > 1 else ""


def _missing(why: str) -> str:
    return f'<p class="missing">{html.escape(why)}</p>'


def _prompt(example: dict | None) -> str:
    if not example:
        return _missing("no cell to show")
    parts = [f"<p>Persona {html.escape(str(example['persona_id']))}, style {html.escape(example['persona_style'])},"
             f" cue {html.escape(example['cue_type'])}, model {html.escape(example['model'])}, item "
             f"{html.escape(example['item_id'])} (mode {example['mode']}, seed {example['seed']}).</p>"]
    for message in example["messages"]:
        parts.append(f"<h4>{message['role']}</h4><pre>{html.escape(message['content'])}</pre>")
    if example.get("prefill"):
        parts.append(f"<h4>assistant (prefill)</h4><pre>{html.escape(example['prefill'])}</pre>")
    return "".join(parts)


# -- sections ---------------------------------------------------------------------------------------------
def _design(inputs: ReportInputs) -> str:
    out = []
    for run in inputs.runs:
        m = run.manifest
        design = m.get("design", {})
        versions = run.long.groupby("model")["model_version"].agg(
            lambda v: ", ".join(sorted({str(x) for x in v.dropna()})) or "not reported")
        models = pd.DataFrame([{"model": model_id, "backend": spec.get("backend"), "model name": spec.get("model"),
                                "answer mode": spec.get("answer_mode"), "temperature": spec.get("temperature"),
                                "replicates": spec.get("replicates"),
                                "versions reported": versions.get(model_id, "not reported")}
                               for model_id, spec in m.get("models", {}).items()])
        facts = [("study", m.get("study", {}).get("id")), ("run folder", str(run.dir)),
                 ("study seed", m.get("seeds", {}).get("study_seed")),
                 ("personas", design.get("n_personas")), ("cells", design.get("n_cells")),
                 ("sampling", design.get("sampling_method")), ("item order", design.get("item_order")),
                 ("persona styles", ", ".join(design.get("persona_styles", []))),
                 ("cue types", ", ".join(design.get("cue_types", []))),
                 ("perturbations", ", ".join(design.get("perturbations") or ["original"])),
                 ("presentation", "; ".join(
                     f"{i}: {p['mode']}" + (f", blocks {', '.join(p['blocks'])} in {p['block_order']} order"
                                            if p.get("blocks") else "")
                     for i, p in (design.get("presentation") or {}).items()) or "independent"),
                 ("prompt layout", m.get("prompt_layout", {}).get("id")),
                 ("population", m.get("population", {}).get("id")),
                 ("instruments", ", ".join(i["id"] for i in m.get("instruments", [])))]
        weights = m.get("weights", {})
        facts.append(("weights", f"{weights['method']} to {weights['target']} on {', '.join(weights['variables'])}; "
                                 f"Kish effective n {weights['kish_ess']:.1f} of {weights['n']}, design effect "
                                 f"{weights['design_effect']:.2f}" if "kish_ess" in weights
                      else weights.get("method", "none")))
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts)
        warnings = "".join(f"<li>{html.escape(w)}</li>" for w in design.get("sampling_warnings", []))
        out.append(f"<h3>{html.escape(run.dir.name)}</h3><table class='facts'>{rows}</table>"
                   + (f"<p>Sampling warnings:</p><ul>{warnings}</ul>" if warnings else "")
                   + _table(models, "Models", ["versions reported: the model_version each answer carried"])
                   + "<h4>One prompt as sent</h4>" + _prompt(run.example))
    return "".join(out)


def _composition(inputs: ReportInputs) -> str:
    out = []
    for run in inputs.runs:
        rows, too_many = [], []
        for attribute, shares in run.population_marginals.items():
            if attribute not in run.personas.columns:
                continue
            if len(shares) > COMPOSITION_CATEGORIES:       # a catalogue's descriptions: one per persona
                too_many.append(f"{attribute} ({len(shares)} categories)")
                continue
            weights = run.personas.groupby(run.personas[attribute].astype(str))["weight"].sum()
            for category, share in shares.items():
                rows.append({"attribute": attribute, "category": str(category), "source": "population",
                             "share": share})
                rows.append({"attribute": attribute, "category": str(category), "source": "sample",
                             "share": float(weights.get(str(category), 0.0) / run.personas["weight"].sum())})
        if not rows:
            out.append(_missing("the population has no attribute the personas carry"))
            continue
        frame = pd.DataFrame(rows)
        for part in _attribute_groups(frame):          # a figure of at most COMPOSITION_CATEGORIES bars' height
            order = list(dict.fromkeys(part["category"]))         # the population's order of the categories
            part = part.assign(category=pd.Categorical(part["category"], categories=order, ordered=True))
            out.append(_figure(figures.composition(part, len(run.personas)),
                               f"sample composition of {run.dir.name}: {', '.join(dict.fromkeys(part['attribute']))}"))
        if too_many:
            out.append(_missing(f"not drawn, more than {COMPOSITION_CATEGORIES} categories each (as many as "
                                f"personas): {', '.join(too_many)}"))
    return "".join(out)


COMPOSITION_CATEGORIES = 30
"""The most categories one composition figure holds (a population with many attributes gets several)."""


def _attribute_groups(frame: pd.DataFrame) -> list[pd.DataFrame]:
    groups, current, size = [], [], 0
    for _, rows in frame.groupby("attribute", sort=False):
        count = rows["category"].nunique()
        if current and size + count > COMPOSITION_CATEGORIES:
            groups.append(pd.concat(current))
            current, size = [], 0
        current.append(rows)
        size += count
    return groups + ([pd.concat(current)] if current else [])


def _status(inputs: ReportInputs) -> str:
    out = []
    for run in inputs.runs:
        counts = run.long.groupby(["model", "status"]).size().rename("cells").reset_index()
        out.append(_figure(figures.statuses(counts), "cells by status"))
        attributes = [c for c in run.personas.columns if c not in ("persona_id", "weight", "source_row")]
        parts = []
        for attribute in attributes:
            table = pd.crosstab([run.long["model"], run.long[attribute].astype(str)], run.long["status"])
            table = table.reindex(columns=[s for s in SHOWN_STATUSES if s in table.columns], fill_value=0)
            table.insert(0, "cells", table.sum(axis=1))
            table.index.names = ["model", "category"]
            parts.append(table.assign(attribute=attribute).reset_index().set_index(["model", "attribute",
                                                                                   "category"]))
        if parts:
            table = pd.concat(parts)
            others = [c for c in table.columns if c not in ("cells", "answered")]
            unanswered = int(table[others].sum().sum()) if others else 0
            summary = (f"every cell answered in every group ({len(table)} groups)" if not unanswered else
                       f"{unanswered} cells not answered across {len(table)} groups")
            out.append(_table(table, "Cells by status and persona attribute",
                              ["counts of cells; a refusal, invalid answer or failure keeps its reason in the "
                               "results (column reason)"], summary=summary))
    return "".join(out)


def _with_intervals(table: pd.DataFrame) -> pd.DataFrame:
    """A table of means and d for reading on a page: each estimate with its 95 % interval in one column
    (``3.41 [3.05, 3.77]``), n rounded, SDs to two decimals; other columns as they are."""
    out = pd.DataFrame(index=table.index)
    joined = estimate_with_interval
    for source in ("silicon", "human"):
        if f"mean_{source}" not in table.columns:
            continue
        out[f"n {source}"] = table[f"n_{source}"].round(1)
        out[f"mean {source} [95% CI]"] = [joined(*v) for v in zip(
            table[f"mean_{source}"], table[f"mean_{source}_low"], table[f"mean_{source}_high"])]
        out[f"SD {source}"] = table[f"sd_{source}"].round(2)
    if "d" in table.columns:
        out["d [95% CI]"] = [joined(*v) for v in zip(table["d"], table["d_low"], table["d_high"])]
    for column in ("representativeness",):
        if column in table.columns:
            out[column] = table[column]
    return out


def _item_options(instrument, answered: pd.DataFrame) -> dict[str, list]:
    """Every option of each item asked: its scale's, or (an instrument no longer known) the codes answered."""
    if instrument is not None:
        return {it.id: list(instrument.scale_of(it).values) for it in instrument.coded_items
                if it.id in set(answered["item_id"])}
    return {i: sorted(int(v) for v in answered.loc[answered["item_id"] == i, "answer"].dropna().unique())
            for i in answered["item_id"].unique()}


def _item_table(run: RunView, inputs: ReportInputs, pair: tuple, instrument, answered: pd.DataFrame,
                options: dict[str, list]) -> pd.DataFrame:
    """The items table of one pair and instrument: the comparison's own (weighted, silicon beside human) when
    the run was compared with a baseline of this instrument, else the silicon side computed the same way."""
    items = (run.tables or {}).get("items")
    baseline = inputs.baseline
    if items is not None and not items.empty and baseline is not None and instrument is not None \
            and baseline.instrument.id == instrument.id:
        try:
            return items.xs(pair, level=list(PAIR_COLUMNS))
        except KeyError:
            pass
    return source_items(answered, options)


def _distributions(inputs: ReportInputs) -> str:
    """Per run, pair and instrument: the items table and the answer distributions drawn from it
    (:func:`~silicon_sample.comparison.item_fidelity.option_shares`), so the two never disagree."""
    out = []
    for run in inputs.runs:
        answered = run.long[run.long["status"] == "answered"]
        instruments = run_instruments(run.dir)
        for key, group in answered.groupby([*PAIR_COLUMNS, "instrument"], sort=False):   # never pooled
            instrument = instruments.get(str(key[-1]))
            if instrument is not None:
                out.append(_typed_items(inputs, run, key, instrument, group))
                coded = {it.id for it in instrument.coded_items}
                group = group[group["item_id"].isin(coded)]
                if group.empty:
                    continue
            options = _item_options(instrument, group)
            table = _item_table(run, inputs, key[:-1], instrument, group, options)
            frame = option_shares(table, options)
            label = " / ".join(map(str, key))
            title = f"{label}\nsilicon (n = {group['persona_id'].nunique()} personas, weighted)"
            if "n_human" in table.columns:
                title += f" beside human (n = {len(inputs.baseline.data)} respondents, {inputs.baseline.id})"
            frame["item"] = pd.Categorical(frame["item"], categories=list(table.index))      # as asked
            out.append(_figure(figures.distributions(frame, title), f"answer distributions of {run.dir.name} "
                                                                    f"{label}"))
            out.append(_table(_with_intervals(table), f"Answers per item — {label}", [
                "n: Kish's effective n of the persona (and survey) weights; means weighted, with their 95 % t "
                "interval; SD with N − 1; d: silicon − human, pooled SD, Hedges–Olkin 95 % interval; "
                "representativeness: 1 − W₁ / (k − 1). The figure above draws this table's option shares."]))
        out.append(_scale_distributions(inputs, run))
    return "".join(out)


def _typed_items(inputs: ReportInputs, run: RunView, key: tuple, instrument, answered: pd.DataFrame) -> str:
    """The items that are not answered with one code, for one pair and instrument: numeric answers as
    histograms silicon beside human with the comparison's numeric table (or the silicon side alone), check-all
    items' selection rates with their intervals, and the tables of knowledge, rank and open-ended items
    (:func:`~silicon_sample.report.summary.question_tables`)."""
    out = []
    label = " / ".join(map(str, key))
    numeric = [it for it in instrument.items if it.type == "numeric" and it.id in set(answered["item_id"])]
    if numeric:
        out.append(_numeric_items(inputs, run, key, numeric, answered, label))
    for title, note, table in question_tables(answered, {instrument.id: instrument}):
        if title.startswith("Check-all"):
            rates = table.reset_index()
            frame = pd.DataFrame({"item": rates["item_id"], "option": [
                literal_option(instrument, i, o) for i, o in zip(rates["item_id"], rates["option"])],
                "rate": rates["selected"], "low": rates["mean_ci_low"].clip(lower=0),
                "high": rates["mean_ci_high"].clip(upper=1), "source": "silicon"})
            n = int(rates["n"].max())
            out.append(_figure(figures.selection_rates(frame, f"{label}\nsilicon (n = {n} answers per item)"),
                               f"selection rates of {run.dir.name} {label}"))
        out.append(_table(table.droplevel([c for c in table.index.names if c in (*PAIR_COLUMNS, "instrument")]),
                          f"{title} — {label}", [note]))
    return "".join(out)


def literal_option(instrument, item_id: str, code) -> str:
    scale = instrument.scale_of(item_id)
    return f"{code} = {scale.label_of(int(code))}"


def _numeric_items(inputs: ReportInputs, run: RunView, key: tuple, items: list, answered: pd.DataFrame,
                   label: str) -> str:
    baseline = inputs.baseline
    rows = answered[answered["item_id"].isin([it.id for it in items])]
    frame = pd.DataFrame({"item": rows["item_id"], "value": pd.to_numeric(rows["answer"], errors="coerce"),
                          "weight": rows["weight"], "source": "silicon"})
    special = {it.id: [o.value for o in it.special] for it in items}
    frame = frame[np.array([v == v and v not in special[i] for i, v in zip(frame["item"], frame["value"])],
                           dtype=bool)]
    numeric = (run.tables or {}).get("numeric")
    title = f"{label}\nsilicon (n = {rows['persona_id'].nunique()} personas, weighted)"
    table = None
    if numeric is not None and baseline is not None and any(it.id in baseline.data.columns for it in items):
        try:
            table = numeric.xs(key[:-1], level=list(PAIR_COLUMNS))
        except KeyError:
            table = None
    if table is not None:
        human = baseline.data.melt(id_vars=["weight"], value_vars=[it.id for it in items if it.id in baseline.data],
                                   var_name="item", value_name="value").dropna(subset=["value"])
        human = human[np.array([v not in special[i] for i, v in zip(human["item"], human["value"])], dtype=bool)]
        frame = pd.concat([frame, human.assign(source="human")], ignore_index=True)
        title += f" beside human (n = {len(baseline.data)} respondents, {baseline.id})"
        means = pd.concat([pd.DataFrame({"item": table.index, "source": "silicon", "mean": table["mean_silicon"]}),
                           pd.DataFrame({"item": table.index, "source": "human", "mean": table["mean_human"]})])
        shown = _numeric_view(table)
        notes = ["n: Kish's effective n; means weighted with their 95 % t interval; medians: lower weighted medians; "
                 "SD ratio silicon / human with its bootstrap 95 % interval; W1: Wasserstein-1 distance in the "
                 "item's units with its bootstrap interval, normalized between answers uniform over the range (0) "
                 "and n_silicon humans against the other humans (1); heaping: share of answers at multiples of 10 "
                 "and 50; W1 in subgroups: the mean W1 within each persona category, normalized between answers that "
                 "ignore the persona (drawn from all humans: the marginal floor) and humans of the same category; "
                 "the KS distance and d are in compare's numeric table."]
    else:
        stats = [dict(zip(["n", "mean", "mean_ci_low", "mean_ci_high", "sd"],
                          mean_with_interval(frame.loc[frame["item"] == it.id, "value"])), item=it.id) for it in items]
        stats = pd.DataFrame(stats).set_index("item")
        means = pd.DataFrame({"item": stats.index, "source": "silicon", "mean": stats["mean"]})
        shown = _numeric_view(stats.rename(columns={"n": "n_silicon", "mean": "mean_silicon", "sd": "sd_silicon",
                                                    "mean_ci_low": "mean_silicon_low",
                                                    "mean_ci_high": "mean_silicon_high"}))
        notes = ["Unweighted answers: mean with its 95 % t interval, SD with N − 1 (no baseline: no human side)."]
    width = max((it.maximum - it.minimum) / 20 for it in items)
    out = _figure(figures.numeric_distributions(frame, title, width, means), f"numeric answers of {run.dir.name} "
                                                                              f"{label}")
    return out + _table(shown, f"Numeric items — {label}", notes)


def _numeric_view(table: pd.DataFrame) -> pd.DataFrame:
    """The numeric table for a page: each estimate with its interval in one column, the two sources of a
    figure side by side in one column where they share it (``silicon / human``)."""
    out = pd.DataFrame(index=table.index)
    missing = pd.Series(np.nan, index=table.index)

    def joined(column: str) -> list[str]:
        low, high = table.get(f"{column}_low", missing), table.get(f"{column}_high", missing)
        return ["—" if pd.isna(v) else f"{v:.2f} [{lo:.2f}, {hi:.2f}]" if pd.notna(lo) and pd.notna(hi)
                else f"{v:.2f}" for v, lo, hi in zip(table[column], low, high)]

    def pair(column: str) -> list[str]:
        human = table.get(column.replace("silicon", "human"), missing)
        return [f"{s:.2f}" + (f" / {h:.2f}" if pd.notna(h) else "") for s, h in zip(table[column], human)]

    out["n silicon"] = table["n_silicon"].round(1)
    for source in ("silicon", "human"):
        if f"mean_{source}" in table:
            out[f"mean {source} [95% CI]"] = joined(f"mean_{source}")
    if "median_silicon" in table:
        out["median silicon / human"] = pair("median_silicon")
    for column, name in (("sd_ratio", "SD ratio [95% CI]"), ("w1", "W1 [95% CI]")):
        if column in table:
            out[name] = joined(column)
    if "w1" in table:
        out["W1 floor, ceiling"] = [f"{f:.1f}, {c:.1f}" for f, c in zip(table["w1_floor_uniform"],
                                                                       table["w1_ceiling"])]
        out["W1 normalized"] = table["w1_normalized"].round(2)
    if "w1_subgroups_normalized" in table:
        out["W1 in subgroups, normalized"] = table["w1_subgroups_normalized"].round(2)
    if "heaping_10_silicon" in table:
        out["at 10s silicon / human"] = pair("heaping_10_silicon")
        out["at 50s silicon / human"] = pair("heaping_50_silicon")
    if "sd_silicon" in table and "sd_ratio" not in table:
        out["SD silicon"] = table["sd_silicon"].round(2)
    return out


def _scale_table(silicon: pd.DataFrame, human: pd.DataFrame | None, scales: list[str]) -> pd.DataFrame:
    """Per scale: the weighted means with their 95 % t intervals and SDs of each source, and d (silicon − human)
    with its interval — :func:`~silicon_sample.comparison.item_fidelity.comparison_row`, as the comparison's
    scales table computes them; the silicon side alone without a baseline."""
    ws = silicon["weight"].to_numpy(dtype=float) if "weight" in silicon else np.ones(len(silicon))
    rows = []
    for scale in scales:
        mine = weighted_moments(silicon[scale].to_numpy(dtype=float), ws)
        if human is not None and scale in human.columns:
            wh = human["weight"].to_numpy(dtype=float) if "weight" in human else np.ones(len(human))
            rows.append({"scale": scale, **comparison_row(weighted_moments(human[scale].to_numpy(dtype=float), wh),
                                                          mine)})
        else:
            low, high = mean_interval(*mine)
            rows.append({"scale": scale, "n_silicon": mine[2], "mean_silicon": mine[0], "mean_silicon_low": low,
                         "mean_silicon_high": high, "sd_silicon": mine[1]})
    return pd.DataFrame(rows).set_index("scale")


def _scale_distributions(inputs: ReportInputs, run: RunView) -> str:
    """Scale scores of the run's respondents (persona × style × cue type × model × replicate), silicon beside
    the baseline's humans scored the same way (:func:`~silicon_sample.psychometrics.scoring.scale_scores`),
    as weighted densities, with the table of their weighted means beside them; the dashed lines are that
    table's means."""
    if not run.wide_scales:
        return ""
    wide, scales = run.wide_scales
    human, human_title = None, ""
    if inputs.baseline is not None:
        instrument = inputs.baseline.instrument
        keys = {s: k for s, k in instrument.keys().items() if s in scales}
        data = inputs.baseline.data
        if inputs.baseline.scale_level:        # the humans' own scale scores: their data hold no item answers
            human = data[[s for s in keys if s in data.columns]]
        else:
            scored = [it.id for it in instrument.items if it.type in SCORED_TYPES]
            items = scored_answers(data[scored].astype(float), instrument, {i: i for i in scored})
            human = scale_scores(items, keys, instrument.item_ranges(), instrument.scoring.method)[list(keys)]
        human = human.assign(weight=data["weight"].to_numpy(dtype=float) if "weight" in data else 1.0)
        if [s for s in scales if s in human.columns]:
            human_title = f" beside human (n = {len(human)}, {inputs.baseline.id}), scored alike"
        else:
            human = None
    pair = [c for c in PAIR_COLUMNS if c in wide.columns]
    out = []
    for key, group in (wide.groupby(pair, sort=False) if pair else [((), wide)]):   # never pooled across pairs
        key = key if isinstance(key, tuple) else (key,)
        label = " / ".join(map(str, key))
        table = _scale_table(group, human, scales)
        weight = group["weight"] if "weight" in group else 1.0
        frames = [group[scales].assign(weight=weight).melt(id_vars="weight", var_name="scale", value_name="score")
                  .assign(source="silicon")]
        if human is not None:
            shared = [s for s in scales if s in human.columns]
            frames.append(human[[*shared, "weight"]].melt(id_vars="weight", var_name="scale", value_name="score")
                          .assign(source="human"))
        means = pd.concat([table[[f"mean_{source}"]].rename(columns={f"mean_{source}": "mean"}).assign(source=source)
                           for source in ("silicon", "human") if f"mean_{source}" in table.columns]).reset_index()
        title = (f"{label}\n" if label else "") + f"Scale scores: silicon (n = {len(group)} respondents, weighted)" \
            + human_title
        frame = pd.concat(frames, ignore_index=True).dropna()
        out.append(_figure(figures.scale_distributions(frame, title, means.dropna()),
                           f"scale score distributions {label}"))
        out.append(_table(_with_intervals(table), f"Scale scores — {label}", [
            "n: Kish's effective n; means weighted (persona and survey weights) with their 95 % t interval, SD "
            "with N − 1; d: silicon − human, pooled SD, Hedges–Olkin 95 % interval. The densities above are "
            "weighted alike; their dashed lines are this table's means."]))
    return "".join(out)


def _per_run(inputs: ReportInputs, name: str, render) -> str:
    """A section drawn from one comparison table: ``render(table)`` for each run that has it (under the run's
    name when there are several), or why there is nothing to show."""
    if inputs.baseline is None:
        return _missing("no human baseline given (--baseline NAME): this section compares with humans")
    found = [(r, r.tables[name]) for r in inputs.runs if r.tables and name in r.tables and not r.tables[name].empty]
    if not found:
        return _missing(f"no {name} table: the comparison produced none for these runs")
    return "".join(_heading(inputs, run) + render(table) for run, table in found)


def _reliability_table(table: pd.DataFrame) -> str:
    columns = [c for c in ("n_human", "n_silicon", "alpha_human", "alpha_silicon", "omega_human", "omega_silicon",
                           "ordinal_alpha_human", "ordinal_alpha_silicon", "estimator") if c in table.columns]
    shown = table[columns].copy()
    flags = []
    for key, row in shown.iterrows():
        for side in ("human", "silicon"):
            alpha = row.get(f"alpha_{side}")
            if pd.notna(alpha) and alpha < 0:
                flags.append(f"{key[-1]}, {side}: alpha {alpha:.2f} is negative — the items do not hang "
                             "together; check the keys or the model")
            if f"omega_{side}" in row and pd.isna(row[f"omega_{side}"]):
                flags.append(f"{key[-1]}, {side}: ω not computed (—) — the one-factor model could not be fitted to "
                             "these answers (too few respondents, or items without variance), or its value was "
                             "impossible (above 1)")
    shown = shown.rename(columns={"alpha_human": "α human", "alpha_silicon": "α silicon", "omega_human": "ω human",
                                  "omega_silicon": "ω silicon", "ordinal_alpha_human": "ordinal α human",
                                  "ordinal_alpha_silicon": "ordinal α silicon"})
    return _table(shown, "Reliability", [
        "α: Cronbach's alpha (pingouin; n − 1 covariances); ω: omega total of a one-factor model; "
        "ordinal: on polychoric correlations", *flags])


def _invariance_table(table: pd.DataFrame) -> str:
    columns = [c for c in ("n", "chisq", "df", "pvalue", "cfi", "rmsea", "srmr", "decision", "highest_level",
                           "estimator", "note") if c in table.columns]
    return _table(table[columns], "Measurement invariance, human against silicon (the ladder)",
                  ["configural → metric → scalar → strict; a level fails against the last accepted one "
                   "when ΔCFI ≤ −.010 and ΔRMSEA ≥ .015 or ΔSRMR ≥ .030 (metric) / .010 (scalar, strict) "
                   "(Chen 2007); MLR and WLSMV use the scaled CFI and RMSEA"])


def _fidelity_section(table: pd.DataFrame) -> str:
    frame = table.reset_index()
    frame["label"] = frame["figure"] + " — " + frame["model"] + " / " + frame["persona_style"] + " / " + \
        frame["cue_type"]
    plotted = frame.dropna(subset=["normalized", "normalized_low", "normalized_high"])
    figure = _figure(figures.fidelity(plotted), "fidelity between floors and ceiling") if not plotted.empty else ""
    columns = [c for c in ("n_silicon", "n_human", "value", "ci_low", "ci_high", "best_floor", "best_floor_is",
                           "ceiling", "normalized", "note") if c in table.columns]
    return figure + _table(table[columns], "Fidelity figures with their floors and the human ceiling",
                           ["value with its bootstrap 95 % interval; best_floor: the best of the uniform, marginal "
                            "and shuffled floors (the zero of the figure); ceiling: n humans drawn from the "
                            "baseline against the other N − n (sampling noise at this n); normalized = (value − "
                            "floor) / (ceiling − floor)"])


def _patterns_section(table: pd.DataFrame) -> str:
    frame = table.reset_index().dropna(subset=["d_human", "d_silicon"])
    if frame.empty:
        return _missing("no contrast could be computed: a silicon d needs at least 5 personas on each side of a "
                        "contrast, and no subgroup of this sample has that many (draw more personas)"
                        if len(table) else "no contrast could be computed: no attribute has two categories with "
                                           "respondents in both sources")
    counted = frame[frame["human_difference"].astype(bool)] if "human_difference" in frame else frame
    agree = counted["sign_reproduced"].dropna().astype(float)
    said = (f"of the {len(agree)} contrasts where the humans differ, the silicon sample reproduces the sign in "
            f"{agree.mean():.0%}" if len(agree) else
            "no contrast where the humans differ had a silicon d, so sign agreement could not be computed")
    return (_figure(figures.patterns(frame), "human d against silicon d")
            + f"<p>{len(frame)} contrasts with a d in both sources; {html.escape(said)}.</p>")


def _response_styles_table(table: pd.DataFrame) -> str:
    return _table(table, "Response styles", ["mean index per respondent; d: silicon − human with the "
                                             "Hedges–Olkin 95 % interval; flag: |d| ≥ 0.5 (Cohen's medium)"])


def _reliability(inputs: ReportInputs) -> str:
    return _per_run(inputs, "scales", _reliability_table)


def _invariance(inputs: ReportInputs) -> str:
    if inputs.baseline is not None and inputs.settings.get("invariance") is False:
        return _missing("not computed: the report was made with --no-invariance")
    return _per_run(inputs, "invariance", _invariance_table)


def _fidelity(inputs: ReportInputs) -> str:
    return _per_run(inputs, "anchors", _fidelity_section)


def _patterns(inputs: ReportInputs) -> str:
    return _per_run(inputs, "patterns", _patterns_section)


def _response_styles(inputs: ReportInputs) -> str:
    return _per_run(inputs, "response_styles", _response_styles_table)


def _bayes(inputs: ReportInputs) -> str:
    if inputs.bayes is None:
        return _missing("no bayes output given (--bayes DIR, a folder written by `silicon-sample bayes -o DIR`)")
    effects = inputs.bayes
    hdi = float(effects["hdi_prob"].iloc[0]) if "hdi_prob" in effects else 0.94
    rows = []
    for row in effects.itertuples():
        rows.append({"label": f"{row.source}: {row.category}", "mean": row.effect_mean, "low": row.effect_hdi_low,
                     "high": row.effect_hdi_high, "what": "effect"})
        if pd.notna(getattr(row, "difference_mean", float("nan"))):
            rows.append({"label": f"{row.source}: {row.category}", "mean": row.difference_mean,
                         "low": row.difference_hdi_low, "high": row.difference_hdi_high,
                         "what": "silicon − human"})
    settings = inputs.bayes_settings
    counts = ", ".join(f"{k}: {v}" for k, v in settings.get("respondents", {}).items())
    return (_figure(figures.forest(pd.DataFrame(rows), hdi), "posterior effects")
            + f"<p>Outcome {html.escape(str(settings.get('outcome')))}, attribute "
              f"{html.escape(str(settings.get('attribute')))}; respondents — {html.escape(counts)}.</p>")


def _calibration(inputs: ReportInputs) -> str:
    """How many humans the silicon answers are worth (twin runs, with ``--human-n``): per pair the reading and the
    validation, the PPI++ intervals beside the humans' own as a figure and a table, and the coverage per target."""
    if inputs.baseline is None:
        return _missing("no human baseline given (--baseline NAME): calibration needs one")
    if not any(run.calibration for run in inputs.runs):
        return _missing("no calibration asked for: give --human-n N (the runs' personas must be twins of the "
                        "baseline's respondents, drawn with population method microdata)")
    parts = []
    for run in inputs.runs:
        if not run.calibration:
            continue
        parts.append(_heading(inputs, run))
        pairs, table = run.calibration["calibration_pairs"], run.calibration["calibration"]
        validation = run.calibration.get("calibration_validation")
        levels = list(pairs.index.names)
        for key, row in pairs.iterrows():
            key = key if isinstance(key, tuple) else (key,)
            label = " / ".join(map(str, key))
            n, big_n = int(row["n_humans"]), int(row["n_silicon"])
            reading = str(row["reading"])
            text = (f"<p><b>{html.escape(label)}</b>: {html.escape(labelled_sample_line(row))}. "
                    f"{html.escape(reading[:1].upper() + reading[1:])}.")
            if "coverage_ppi" in row and np.isfinite(row["coverage_ppi"]):
                text += html.escape(
                    f" Over {int(row['validation_draws'])} labelled samples the PPI++ intervals covered the "
                    f"full-population value {row['coverage_ppi']:.1%} of the time and the humans' own "
                    f"{row['coverage_classical']:.1%} (nominal {row['coverage_nominal']:.0%}, Monte Carlo error "
                    f"±{row['coverage_mc_error']:.1%}); the humans' intervals were {row['mean_width_ratio']:.2f} "
                    "times as wide." + (" Flagged: not ranked." if row["flagged"] else ""))
            parts.append(text + "</p>")
            mine = table.xs(key, level=levels, drop_level=True)
            parts.append(_calibration_figure(mine, n, big_n, validation.xs(key, level=levels, drop_level=True)
                                             if validation is not None else None))
            shown = mine[mine.index.get_level_values("estimand").isin(["mean", "median", "difference"])]
            parts.append(_table(_calibration_view(shown), f"PPI++ beside the humans alone — {label}",
                                [CALIBRATION_NOTE], summary=f"Every mean and subgroup difference ({len(shown)} rows)"))
            if validation is not None:
                checked = validation.xs(key, level=levels, drop_level=True)
                checked = checked[checked.index.get_level_values("estimand").isin(["mean", "median", "difference"])]
                view = pd.DataFrame({
                    "full-population value": checked["population_value"], "draws": checked["draws"],
                    "coverage PPI++": checked["coverage_ppi"], "coverage humans alone": checked["coverage_classical"],
                    "Monte Carlo error": checked["mc_error_ppi"], "width ratio": checked["width_ratio"]})
                view.index = [_target_label(k, checked.index.names, r) for k, r in zip(checked.index,
                                                                                         checked["reference"])]
                parts.append(_table(view, f"Validation: coverage of the full-population value — {label}",
                                    [f"over {int(checked['draws'].max())} labelled samples of {n} humans drawn from "
                                     "the twins (the silicon personas fixed, so the coverage is conditional on them); "
                                     "nominal 95%; Monte Carlo error 1.96·√(p(1 − p)/K); width ratio: humans' "
                                     "interval / PPI++'s"],
                                    summary=f"Coverage of each mean and difference over the validation draws "
                                            f"({len(view)} rows)"))
        gains = pd.DataFrame({"n humans": pairs["n_humans"], "N silicon": pairs["n_silicon"],
                              "gain [95% CI]": [estimate_with_interval(*v) for v in zip(
                                  pairs["gain"], pairs["gain_low"], pairs["gain_high"])],
                              "median ρ": pairs["median_rho"]}, index=pairs.index)
        if "coverage_ppi" in pairs.columns:
            gains = gains.assign(**{"coverage PPI++": pairs["coverage_ppi"],
                                    "coverage humans alone": pairs["coverage_classical"],
                                    "flagged": pairs["flagged"].map({True: "yes", False: "no"})})
        gains.index = pd.Index([" / ".join(map(str, k if isinstance(k, tuple) else (k,))) for k in gains.index],
                               name=" / ".join(n.replace("_", " ") for n in pairs.index.names))
        parts.append(_table(gains, "Humans the silicon answers are worth, per pair",
                            ["gain: the median over item and scale means of effective n − n (effective n: how many "
                             "humans alone give an interval as narrow as PPI++'s), with its 95% bootstrap interval "
                             "over the labelled humans; coverage: share of validation draws whose interval held the "
                             "full-population value"]))
    return "".join(parts)


def _target_label(key: tuple, names: list[str], reference=None) -> str:
    """A calibration target as a reader names it: ``mean neuroticism``, ``share A1 = 3``, ``difference
    neuroticism: female − male``."""
    target = dict(zip(names, key))
    if target["estimand"] == "difference":
        return f"difference {target['outcome']}: {target['category']} − {reference}"
    if target["estimand"] == "proportion":
        return f"share {target['outcome']} = {target['option']}"
    return f"{target['estimand']} {target['outcome']}"


def _calibration_view(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for key, row in table.iterrows():
        names = dict(zip(table.index.names, key))
        what = (f"{names['outcome']}: {names['category']} − {row['reference']}" if names["estimand"] == "difference"
                else names["outcome"])
        rows.append({"estimate of": names["estimand"], "figure": what, "n": row["n_humans"], "N": row["n_silicon"],
                     "PPI++": estimate_with_interval(row.get("estimate"), row.get("low"), row.get("high")),
                     "humans alone": estimate_with_interval(row.get("classical_estimate"), row.get("classical_low"),
                                                            row.get("classical_high")),
                     "rho": row.get("rho"), "effective n": row.get("effective_n"), "gain": row.get("gain"),
                     "note": row.get("note", "")})
    return pd.DataFrame(rows).set_index(["estimate of", "figure"])


def _calibration_figure(table: pd.DataFrame, n: int, big_n: int, validation: pd.DataFrame | None) -> str:
    """The means of the scales (of the items when the instrument scores none): PPI++ beside the humans alone,
    with the full-population value when a validation computed it."""
    means = table[(table.index.get_level_values("estimand") == "mean") & table["estimate"].notna()]
    if means.empty:
        return _missing("no figure: too few humans with answers for any mean")
    if means["outcome_kind"].eq("scale").any():
        means = means[means["outcome_kind"] == "scale"]
    ppi, humans, everyone = (f"PPI++ ({n} humans + {big_n} silicon)", f"humans alone (n = {n})",
                             "full population (every respondent: no interval)")
    frame = []
    for key, row in means.iterrows():
        label = dict(zip(table.index.names, key))["outcome"]
        frame.append({"label": label, "estimate": row["estimate"], "low": row["low"], "high": row["high"],
                      "what": ppi})
        frame.append({"label": label, "estimate": row["classical_estimate"], "low": row["classical_low"],
                      "high": row["classical_high"], "what": humans})
        if validation is not None and key in validation.index:
            value = validation.loc[key, "population_value"]
            frame.append({"label": label, "estimate": value, "low": value, "high": value, "what": everyone})
    colours = {ppi: figures.SOURCE_COLOURS["silicon"], humans: figures.SOURCE_COLOURS["human"], everyone: "#444444"}
    kind = "scale" if means["outcome_kind"].eq("scale").all() else "item"
    return _figure(figures.calibration_intervals(pd.DataFrame(frame), colours,
                                                 f"{kind.capitalize()} means: PPI++ beside {n} humans alone "
                                                 "(95% intervals)"),
                   f"PPI++ intervals beside the humans' own, per {kind} mean")


PERSONA_PANELS = 6
"""The most outcomes one figure of category means holds (a run with many gets several)."""


def _persona_effects(inputs: ReportInputs) -> str:
    """Persona effects beyond paraphrase noise (catalogue runs with control personas): per pair the category means
    beside the controls and the empty persona, the spread across personas over the spread across the controls,
    the within-subject tests, refusal disparities, and the agreement across models."""
    if not any(run.persona_effects for run in inputs.runs):
        return _missing("not a run of a catalogue population with control personas (e.g. "
                        "studies/persona_behavior.yaml): the personas are demographic profiles, so there is no "
                        "paraphrase noise to measure persona effects against")
    parts = []
    for run in inputs.runs:
        tables = run.persona_effects
        if not tables:
            continue
        parts.append(_heading(inputs, run))
        personas, categories = tables["personas"], tables["categories"]
        pair_columns = list(personas.columns[: personas.columns.get_loc("persona_id")])
        rates = ("refused", "invalid")
        for key, block in categories[~categories["outcome"].isin(rates)].groupby(pair_columns, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            label = " / ".join(map(str, key))
            counts = personas.drop_duplicates([*pair_columns, "persona_id"])
            counts = counts[(counts[pair_columns] == pd.Series(dict(zip(pair_columns, key)))).all(axis=1)]
            groups = counts["persona_group"].value_counts()
            frame = block.assign(label=[f"{c} (n = {n})" for c, n in zip(block["category"], block["n_personas"])],
                                 low=block["ci_low"].fillna(block["mean"]), high=block["ci_high"].fillna(block["mean"]),
                                 group=block["persona_group"])
            title = (f"{label}: {int(groups.get('persona', 0))} personas, {int(groups.get('control', 0))} control "
                     f"paraphrases{', the empty persona' if groups.get('empty', 0) else ''}\n(category means with t "
                     "intervals over personas; one persona: no interval)")
            outcomes = list(dict.fromkeys(frame["outcome"]))
            for start in range(0, len(outcomes), PERSONA_PANELS):       # a figure of at most two rows of panels
                shown = outcomes[start:start + PERSONA_PANELS]
                part = frame[frame["outcome"].isin(shown)]
                parts.append(_figure(figures.persona_categories(part, title),
                                     f"category means beside the controls, {label}: {', '.join(shown)}"))
        variation = tables["variation"]
        overall = variation[variation["category"] == "all personas"].dropna(subset=["ratio"])
        if len(overall):
            frame = overall.assign(pair=overall[pair_columns].astype(str).agg(" / ".join, axis=1),
                                   low=overall["ci_low"].fillna(overall["ratio"]),
                                   high=overall["ci_high"].fillna(overall["ratio"]))
            n = f"{int(overall['n_personas'].max())} personas, {int(overall['n_controls'].max())} controls"
            parts.append(_figure(figures.spread_ratios(frame, f"Persona variation against paraphrase noise\n({n}; "
                                                              "above 1 with its interval: beyond the noise)"),
                                 "spread across personas over spread across control paraphrases"))
        view = variation.set_index([*pair_columns, "outcome", "category"])
        view = pd.DataFrame({"personas": view["n_personas"], "controls": view["n_controls"],
                             "SD personas": view["sd_personas"], "SD controls": view["sd_controls"],
                             "ratio [95% CI]": [estimate_with_interval(*v) for v in zip(
                                 view["ratio"], view["ci_low"], view["ci_high"])],
                             "beyond noise": view["beyond_noise"].map({True: "yes", False: "no"})})
        parts.append(_table(view, "Persona variation against paraphrase noise", [PERSONA_EFFECTS_NOTE],
                            summary=f"The spread ratio per outcome and category ({len(view)} rows)"))
        tests = tables["within_tests"].set_index([*pair_columns, "outcome", "group"])
        parts.append(_table(tests[["test", "statistic", "df", "p_value", "n_blocks", "n_treatments", "blocks",
                                   "note"]], "Within-subject tests among personas and among controls",
                            ["Friedman chi2 (scipy, tie-corrected) or Cochran's Q (statsmodels); blocks with a missing "
                             "answer left out"], summary=f"Friedman and Cochran's Q tests ({len(tests)} rows)"))
        refusals = tables["refusals"]
        if len(refusals):
            shown = refusals.set_index([*pair_columns, "outcome", "category"])
            view = pd.DataFrame({"personas": shown["n_personas"], "cells": shown["cells"],
                                 "rate [95% CI]": [estimate_with_interval(*v) for v in zip(
                                     shown["rate"], shown["ci_low"], shown["ci_high"])],
                                 "controls": shown["control_rate"],
                                 "difference [95% CI]": [estimate_with_interval(*v) for v in zip(
                                     shown["difference"], shown["diff_ci_low"], shown["diff_ci_high"])],
                                 "p": shown["p_value"], "p (Holm)": shown["p_holm"]})
            parts.append(_table(view, "Refusal and invalid-answer rates against the control paraphrases",
                                [str(refusals["convention"].iloc[0])],
                                summary=f"Refusal disparities by category ({len(view)} rows)"))
        agreement = tables["agreement"]
        undefined = sorted(set(agreement.loc[agreement["value"].isna(), "outcome"])) if len(agreement) else []
        agreement = agreement.dropna(subset=["value"]) if len(agreement) else agreement
        if len(agreement):
            view = agreement.set_index(["outcome", "statistic", "pairs"])
            view = pd.DataFrame({"personas": view["n_personas"],
                                 "value [95% CI]": [estimate_with_interval(*v) for v in zip(
                                     view["value"], view["ci_low"], view["ci_high"])], "p": view["p_value"]})
            parts.append(_table(view, "Agreement across models on which personas matter",
                                [str(agreement["convention"].iloc[0])] + ([
                                    f"undefined, so not shown: {', '.join(undefined)} (a model gives every persona "
                                    "the same value, e.g. no refusal at all)"] if undefined else [])))
        extremes = tables["extremes"]
        if len(extremes):
            listed = extremes.groupby(["outcome", "position"], sort=False).apply(
                lambda rows: ", ".join(f"{p} ({c})" for p, c in zip(rows["persona_id"], rows["category"])),
                include_groups=False)
            parts.append(_table(listed.rename("personas").to_frame(),
                                "Personas at the top or bottom for every model", [
                                    f"the top (bottom) {int(extremes['k'].iloc[0])} of "
                                    f"{int(extremes['n_personas'].iloc[0])} personas in every pair"]))
    return "".join(parts)


def _ranking(inputs: ReportInputs) -> str:
    if inputs.ranking is None:
        if inputs.baseline is not None and inputs.baseline.scale_level:
            return _missing(f"no ranking: {NOT_AT_SCALE_LEVEL}")
        return _missing("no human baseline given: the ranking needs one")
    columns = [c for c in ("n_silicon", "score", "score_low", "score_high", "tie_group") if c in inputs.ranking.columns]
    table = _table(inputs.ranking[columns], "Ranking of model–persona pairs",
                   ["score: the mean normalized score over the purposes (0 = best floor, 1 = human ceiling) with its "
                    "interval; pairs in one tie group are not told apart by their intervals; each pair's reading "
                    "follows the table"])
    readings = "".join(f"<li><b>{html.escape(' / '.join(map(str, key if isinstance(key, tuple) else (key,))))}"
                       f"</b>: {html.escape(str(reading))}</li>"
                       for key, reading in inputs.ranking["reading"].items()) if "reading" in inputs.ranking else ""
    return table + (f"<p>What each pair is fit for:</p><ul>{readings}</ul>" if readings else "")


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2em; } section { margin: 2.5em 0; } h2 { border-bottom: 2px solid #1b6ca8; }
figure { margin: 1em 0; } figure img { max-width: 100%; }
pre { background: #f6f8fa; padding: 0.8em; white-space: pre-wrap; }
table.facts th { text-align: left; padding-right: 1em; } .missing { color: #777; font-style: italic; }
nav a { margin-right: 0.8em; }
"""

BUILDERS = {"design": _design, "composition": _composition, "status": _status, "distributions": _distributions,
            "reliability": _reliability, "invariance": _invariance, "fidelity": _fidelity, "patterns": _patterns,
            "response-styles": _response_styles, "calibration": _calibration, "bayes": _bayes, "ranking": _ranking,
            "personas": _persona_effects}
TITLES = {"design": "Study design", "composition": "Sample composition", "status": "Answers by status",
          "distributions": "Answer distributions", "reliability": "Reliability", "invariance": "Invariance",
          "fidelity": "Fidelity between floor and ceiling", "patterns": "Subgroup patterns",
          "response-styles": "Response styles", "calibration": "How many humans the silicon answers are worth",
          "personas": "Persona effects beyond paraphrase noise",
          "bayes": "Posterior effects", "ranking": "Ranking"}


def render(inputs: ReportInputs) -> str:
    """The report as one HTML document."""
    names = ", ".join(r.dir.name for r in inputs.runs)
    baseline = f" against {inputs.baseline.id}" if inputs.baseline is not None else ""
    nav = "".join(f'<a href="#{s}">{TITLES[s]}</a>' for s in SECTIONS)
    body = "".join(f'<section id="{s}"><h2>{TITLES[s]}</h2>{BUILDERS[s](inputs)}</section>' for s in SECTIONS)
    settings = html.escape(", ".join(f"{k} {v}" for k, v in inputs.settings.items()))
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>silicon-sample report: "
            f"{html.escape(names)}</title><style>{STYLE}</style></head><body>"
            f"<h1>silicon-sample report</h1><p>Runs {html.escape(names)}{html.escape(baseline)}; "
            f"silicon-sample {__version__}; comparison settings: {settings}.</p><nav>{nav}</nav>{body}</body></html>")


__all__ = ["ReportInputs", "RunView", "SECTIONS", "render", "run_view"]
