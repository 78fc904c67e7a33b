"""The files a completed run leaves for a reader: results.csv and summary.md."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from ..answers import NOT_ANSWERED
from ..files import write_atomic
from ..psychometrics import estimator_name, reliability
from ..specs.instruments import SCORED_TYPES
from ..store.run_store import RunStore
from ..tidy.results import PAIR_COLUMNS, long_results, run_instruments, scored_answers, wide_results
from .readable import describe_means, mean_with_interval, plausibility_notes, readable_table

RESULTS_FILE = "results.csv"
SUMMARY_FILE = "summary.md"


def _block(frame: pd.DataFrame) -> str:
    return "```\n" + readable_table(frame).to_string() + "\n```\n"


def scale_score_table(wide: pd.DataFrame, instruments: dict) -> pd.DataFrame:
    """Per model–persona pair and scale: n, mean with its 95 % t interval, SD (N − 1) of the scale scores."""
    scale_columns = [s for i in instruments.values() for s in i.scoring.scales if s in wide.columns]
    rows = []
    for key, group in wide.groupby(list(PAIR_COLUMNS), sort=False):
        for scale in scale_columns:
            n, mean, low, high, sd = mean_with_interval(group[scale])
            rows.append({**dict(zip(PAIR_COLUMNS, key)), "scale": scale, "n": n, "mean": mean,
                         "mean_ci_low": low, "mean_ci_high": high, "sd": sd})
    return pd.DataFrame(rows).set_index([*PAIR_COLUMNS, "scale"])


def reliability_table(wide: pd.DataFrame, instruments: dict) -> pd.DataFrame | None:
    """:func:`~silicon_sample.psychometrics.reliability` per model–persona pair and instrument, each item
    reverse-keyed on its own scale (``Instrument.item_ranges()``); None when no scale has two items."""
    tables = []
    for pair, rows in wide.groupby(list(PAIR_COLUMNS)):
        for instrument in instruments.values():
            # Internal consistency needs two or more items per scale.
            keys = {s: k for s, k in instrument.keys().items() if s in rows.columns and len(k) >= 2}
            if not keys:
                continue
            scored = [it.id for it in instrument.items if it.type in SCORED_TYPES and it.id in rows.columns]
            items = scored_answers(rows[scored].astype("Float64").astype(float), instrument,
                                   {i: i for i in scored})     # knowledge items right (1) or wrong (0)
            scales, _ = reliability(items, keys, scale_range=instrument.item_ranges(),
                                    n_options=instrument.n_options())
            tables.append(scales.assign(**dict(zip(PAIR_COLUMNS, pair)), instrument=instrument.id)
                          .set_index([*PAIR_COLUMNS, "instrument"], append=True))
    return pd.concat(tables) if tables else None


LOW_OPTION_MASS = 0.5
"""Below this mean option mass a model's distribution-mode answers are flagged in the summary."""


def item_table(long: pd.DataFrame, instruments: dict) -> pd.DataFrame:
    """Per pair, instrument and item: the answered cells' mean with its 95 % t interval, SD (N − 1), and
    the mean expected answer Σ value·p (distribution mode)."""
    answered = long[long["status"] == "answered"]
    averaged = {(i.id, it.id) for i in instruments.values() for it in i.items if it.type in ("single", "numeric")}
    answered = answered[np.array([key in averaged for key in zip(answered["instrument"], answered["item_id"])],
                                 dtype=bool)]
    answered = answered.assign(answer=_without_special(answered, instruments))
    p_columns = [c for c in long.columns if c.startswith("p_")]
    values = np.array([int(c[2:]) for c in p_columns], dtype=float)
    frame = answered.assign(expected=(answered[p_columns].to_numpy() * values).sum(axis=1)
                            if p_columns else np.nan)
    frame.loc[frame[p_columns].isna().all(axis=1) if p_columns else frame.index, "expected"] = np.nan
    order = {(i.id, it.id): k for i in instruments.values() for k, it in enumerate(i.items)}
    frame = frame.assign(_order=[order.get(key, 0) for key in zip(frame["instrument"], frame["item_id"])])
    frame = frame.sort_values([*PAIR_COLUMNS, "instrument", "_order"])
    by = [*PAIR_COLUMNS, "instrument", "item_id"]
    items = describe_means(frame, by, "answer")[["n", "mean", "mean_ci_low", "mean_ci_high", "sd"]]
    items["expected"] = frame.groupby(by, sort=False)["expected"].mean()
    return items


def _without_special(answered: pd.DataFrame, instruments: dict) -> pd.Series:
    """The answers as floats with a numeric item's special codes (998 "Don't know") missing."""
    special = {(i.id, it.id): {o.value for o in it.special} for i in instruments.values() for it in i.items
               if it.special}
    values = pd.to_numeric(answered["answer"], errors="coerce").astype(float)
    if not special:
        return values
    keep = [v not in special.get((i, it), ()) for v, i, it in zip(values, answered["instrument"],
                                                                   answered["item_id"])]
    return values.where(keep)


def _of_type(rows: pd.DataFrame, kind: str) -> np.ndarray:
    return np.array([it is not None and it.type == kind for it in rows["_item"]], dtype=bool)


def question_tables(long: pd.DataFrame, instruments: dict) -> list[tuple[str, str, pd.DataFrame]]:
    """``(title, note, table)`` for each item type not averaged in :func:`item_table`, per pair and item:
    knowledge items' proportion correct, check-all items' selection rate per option and number chosen, rank
    items' share ranking each option and its mean place, open-ended answers' lengths. Means with their 95 %
    t intervals (a proportion's is the t interval of a 0/1 mean), SD with N − 1."""
    answered = long[long["status"] == "answered"]
    by = [*PAIR_COLUMNS, "instrument", "item_id"]
    tables = []
    types = {(i.id, it.id): it for i in instruments.values() for it in i.items}
    rows = answered.assign(_item=[types.get(k) for k in zip(answered["instrument"], answered["item_id"])])
    knowledge = rows[_of_type(rows, "knowledge")]
    if not knowledge.empty:
        correct = knowledge.assign(correct=[float(v == it.correct) for v, it in zip(knowledge["answer"],
                                                                                    knowledge["_item"])])
        tables.append(("Knowledge items", "Proportion correct (the item's `correct:` code).",
                       describe_means(correct, by, "correct")[["n", "mean", "mean_ci_low", "mean_ci_high"]]
                       .rename(columns={"mean": "correct"})))
    for kind, title, note in (
            ("multiple", "Check-all-that-apply items",
             "Selection rate of each option (chosen = 1), and the number of options chosen."),
            ("rank", "Rank items", "Share of answers ranking each option, and its mean place where ranked "
                                   "(1 = first).")):
        chosen = rows[_of_type(rows, kind)]
        if chosen.empty:
            continue
        long_options = []
        for _, row in chosen.iterrows():
            value = tuple(row["answer_value"])
            for code in instruments[row["instrument"]].scale_of(row["_item"]).values:
                long_options.append({**{c: row[c] for c in by}, "option": code, "chosen": float(code in value),
                                     "place": float(value.index(code) + 1) if code in value else np.nan,
                                     "n_chosen": float(len(value))})
        frame = pd.DataFrame(long_options)
        per_option = describe_means(frame, [*by, "option"], "chosen")[["n", "mean", "mean_ci_low", "mean_ci_high"]]
        per_option = per_option.rename(columns={"mean": "selected" if kind == "multiple" else "ranked"})
        if kind == "rank":
            per_option["mean_place"] = frame.groupby([*by, "option"], sort=False)["place"].mean()
        else:
            counts = chosen.assign(n_chosen=[float(len(v)) for v in chosen["answer_value"]])
            per_option = per_option.join(counts.groupby(by, sort=False)["n_chosen"].mean().rename("mean_n_chosen"),
                                         on=by)
        tables.append((title, note, per_option))
    text = rows[_of_type(rows, "text")]
    if not text.empty:
        lengths = text.assign(length=text["answer_text"].str.len().astype(float),
                              cut=text["reason"].fillna("").str.startswith("cut to").astype(float))
        table = describe_means(lengths, by, "length")[["n", "mean", "sd", "median", "max"]]
        table["share_cut"] = lengths.groupby(by, sort=False)["cut"].mean()
        tables.append(("Open-ended items", "Length of the answers in characters (kept to the item's "
                       "max_length; share_cut: answers cut there).", table))
    return tables


def _design_lines(manifest: dict) -> str:
    """The summary's title and its list of what the run was: population, instruments, styles, models, cells."""
    out = io.StringIO()
    study = manifest["study"]
    out.write(f"# Run summary: {study['id']}\n\n")
    if study.get("title"):
        out.write(f"{study['title']}\n\n")
    design = manifest["design"]
    out.write(f"- population: {manifest['population']['id']}, {design['n_personas']} personas "
              f"({design['sampling_method']} sampling), seed {manifest['seeds']['study_seed']}\n")
    out.write(f"- instruments: {', '.join(i['id'] for i in manifest['instruments'])}; item order: "
              f"{design['item_order']}\n")
    out.write(f"- persona styles: {', '.join(design['persona_styles'])}; cue types: {', '.join(design['cue_types'])}\n")
    if design.get("perturbations") and list(design["perturbations"]) != ["original"]:
        out.write(f"- perturbations: {', '.join(design['perturbations'])}\n")
    shown = {i: p for i, p in (design.get("presentation") or {}).items() if p["mode"] != "independent" or p["blocks"]}
    for instrument_id, presentation in shown.items():
        blocks = presentation.get("blocks")
        out.write(f"- presentation of {instrument_id}: {presentation['mode']}"
                  + (f", blocks {', '.join(blocks)} in {presentation['block_order']} order" if blocks else "") + "\n")
    weights = manifest.get("weights", {})
    if "kish_ess" in weights:
        out.write(f"- weights: {weights['method']} to {weights['target']} on {', '.join(weights['variables'])}; "
                  f"Kish effective n {weights['kish_ess']:.1f} of {weights['n']}, design effect "
                  f"{weights['design_effect']:.2f}\n")
    for model_id, model in manifest["models"].items():
        out.write(f"- model `{model_id}`: {model.get('backend')} {model.get('model_version') or model.get('model')}, "
                  f"{model['answer_mode']} mode, temperature {model['temperature']}, "
                  f"{model['replicates']} replicate(s)\n")
    out.write(f"- cells: {design['n_cells']}\n")
    for warning in design.get("sampling_warnings") or []:
        out.write(f"- **warning**: {warning}\n")
    out.write("\n")

    return out.getvalue()


def build_summary(store: RunStore, long: pd.DataFrame | None = None, wide: pd.DataFrame | None = None) -> str:
    """A short Markdown report of a run: coverage, answer quality, scale and item descriptives."""
    long = long_results(store) if long is None else long
    wide = wide_results(store, long) if wide is None else wide
    manifest = store.manifest()
    instruments = run_instruments(store)
    out = io.StringIO()
    out.write(_design_lines(manifest))
    out.write("## Cells by status\n\n")
    out.write(_block(store.status_counts()))
    not_answered = long[long["status"].isin(NOT_ANSWERED)]
    if not not_answered.empty:
        out.write("\nReasons for cells not answered:\n\n")
        out.write(_block(not_answered.groupby(["model", "status", "reason"]).size().rename("n").to_frame()))

    answered = long[long["status"] == "answered"]
    if answered["option_mass"].notna().any():
        out.write("\n## Option mass (distribution mode)\n\n"
                  "Share of the model's next-token probability that fell on the option labels; "
                  "option probabilities are renormalised over the options.\n\n")
        out.write("Mean with its 95 % t interval over the answered cells; SD with N − 1.\n\n")
        masses = describe_means(answered, ["model"], "option_mass")
        out.write(_block(masses))
        for model, mass in masses["mean"].items():
            model = model[0] if isinstance(model, tuple) else model
            if mass < LOW_OPTION_MASS:
                out.write(f"\n- **warning**: `{model}` put on average {mass:.1%} of its next-token probability on "
                          "the option labels: its distributions rest on small probabilities (it wanted to write "
                          "something else first). On a server, read through its completions endpoint with the "
                          "prefill (option `chat_template: gguf:PATH`); else use sample mode.\n")
    out.write("\n## Latency per cell (seconds)\n\nMean with its 95 % t interval; SD with N − 1.\n\n")
    out.write(_block(describe_means(answered, ["model"], "latency_s")))

    scale_columns = [s for i in instruments.values() for s in i.scoring.scales if s in wide.columns]
    if scale_columns:
        methods = "; ".join(f"{i.id}: the {i.scoring.method} of the answered items of each scale"
                            for i in instruments.values() if i.scoring.scales)
        out.write(f"\n## Scale scores\n\nScores — {methods}; reverse-keyed items as (min + max) − answer. "
                  "Mean with its 95 % t interval; SD with N − 1; n: respondents with a score.\n\n")
        out.write(_block(scale_score_table(wide, instruments)))
    if scale_columns:
        out.write("\n## Reliability\n\nCronbach's alpha (pairwise covariances, N − 1) with Feldt 95% CI, "
                  "McDonald's omega total from a one-factor ML model (items as continuous), mean inter-item "
                  "correlation, and ordinal alpha and omega from polychoric correlations (psych's conventions); "
                  "`estimator` says which pair to read: WLSMV (ordinal) where an item has at most 4 options or "
                  "its answers fall on at most 4 values, MLR otherwise (Rhemtulla et al. 2012). Per model and "
                  "instrument.\n\n")
        table = reliability_table(wide, instruments)
        if table is not None:
            columns = ["n", "alpha", "alpha_ci_lower", "alpha_ci_upper", "omega_total", "average_r",
                       "ordinal_alpha", "ordinal_omega"]
            estimator = table["estimator"].map(estimator_name)
            shown = table[columns].assign(estimator=estimator)
            out.write(_block(shown))
            for note in plausibility_notes(table, lambda key: " / ".join(map(str, (*key[1:], key[0])))):
                out.write(f"\n- **check**: {note}\n")
            for (scale, *source), note in table["note"].items():
                if note:
                    out.write(f"\n- {' / '.join(map(str, source))} / {scale}: {note}\n")
    out.write("\n## Items\n\nAnswered cells: mean answer with its 95 % t interval, SD with N − 1; `expected` is "
              "the mean of Σ value·p over cells (distribution mode).\n\n")
    out.write(_block(item_table(long, instruments)))
    for title, note, table in question_tables(long, instruments):
        out.write(f"\n## {title}\n\n{note}\n\n")
        out.write(_block(table))
    out.write("\nFiles: results.csv (long format, one row per cell), responses.sqlite, manifest.json. "
              "Wide format: `silicon-sample export RUN --format csv --wide -o FILE`.\n")
    return out.getvalue()


def write_outputs(store: RunStore) -> None:
    """Write results.csv and summary.md into the run directory (atomically)."""
    long = long_results(store)
    wide = wide_results(store, long)
    write_atomic(store.dir / RESULTS_FILE, long.to_csv(index=False))
    # answers every persona gave alike make correlations 0/0; the summary's notes say so, numpy need not
    with np.errstate(divide="ignore", invalid="ignore"):
        summary = build_summary(store, long, wide)
    write_atomic(store.dir / SUMMARY_FILE, summary)
