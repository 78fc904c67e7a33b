"""Command-line interface: a thin face over the Python API.

Every user-facing failure prints one message (what, where, how to fix) and
exits non-zero; a traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import warnings
from pathlib import Path

import click

from . import api
from .errors import SiliconSampleError, shorten
from .report.exports import formula_safe_frame
from .report.terminal import (
    ALSO_SHOWN,
    INTERVAL_NOTES,
    SHOWN_BY_DEFAULT,
    batch_view,
    bench_view,
    calibration_lines,
    compact_view,
    comparison_view,
    missing_lines,
    nonresponse_line,
    note_lines,
    persona_effects_lines,
    prompt_view,
    ranking_view,
    verdict_lines,
)
from .text_safety import visible


def echo(message="", err: bool = False) -> None:
    """Every line the CLI prints, with control characters made visible: model text, persona values and file
    names from other people's files never reach the terminal as escape sequences."""
    click.echo(visible(str(message)), err=err)


EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143    # 128 + SIGTERM, as shells report a process a scheduler stopped


class Terminated(KeyboardInterrupt):
    """SIGTERM (what a cluster scheduler sends at a time limit): handled as Ctrl-C — no new calls, the
    answers in flight stored, the session ended as interrupted — then exit 143."""


_signals: list[int] = []


def _terminate(signum, frame) -> None:
    _signals.append(signum)     # click turns the KeyboardInterrupt into Abort: remember which signal it was
    raise Terminated()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(package_name="silicon-sample")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """silicon-sample: administer questionnaires to model–persona pairs."""
    ctx.obj = {"debug": debug}


def _finished_message(store) -> None:
    counts = store.status_counts()
    echo(counts.to_string())
    echo(f"\nresults: {store.dir / 'results.csv'}")
    echo(f"summary: {store.dir / 'summary.md'}")
    echo(f"run:     {store.dir}")


def force_option(command):
    """``--force``: write an output inside a run folder (never over the run's own files) or over a file of
    another kind."""
    return click.option("--force", is_flag=True,
                        help="Write -o inside a run folder (never over the run's own files) or over an existing "
                             "file of another kind.")(command)


def incomplete_option(command):
    """``--allow-incomplete``: analyse a run that still has pending cells (tables then say how many)."""
    return click.option("--allow-incomplete", is_flag=True,
                        help="Analyse a run with pending cells (refused otherwise); every table then has a "
                             "cells_pending column.")(command)


def _pending_note(frame) -> None:
    if "cells_pending" in frame.columns:
        echo("note: the run is not finished; the cells_pending column gives each model–persona pair's "
                   "pending cells", err=True)


def _pending_note_of_run(run_dir: Path) -> None:
    pending = api.status(run_dir)["pending"]
    if pending:
        echo(f"note: the run is not finished: {pending} cells pending (the cells_pending column gives each "
                   "model–persona pair's)", err=True)


@cli.command()
@click.argument("study", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="New directory for the run.")
@click.option("--n", "n", type=int, default=None, help="Number of personas (overrides the study).")
@click.option("--fresh", is_flag=True, help="Bypass the shared response cache of server backends.")
@click.option("--dry-run", is_flag=True, help="Print calls, tokens and cost per model; make no call.")
@click.option("--prices", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="YAML price table (USD per million input/output tokens per model): the dry run's cost, and "
                   "the cost so far in the progress display.")
@click.option("--quiet", is_flag=True, help="No progress display (for scripts).")
@click.option("--executor", type=click.Choice(["local", "dask"]), default=None,
              help="Where cells are answered: this process (local) or a Dask cluster (default: the study's).")
@click.option("--scheduler", default=None, help="Address of a Dask scheduler (with --executor dask; default: "
                                                "a local cluster of one worker per core).")
def run(study: Path, out: Path | None, n: int | None, fresh: bool, dry_run: bool, prices: Path | None,
        quiet: bool, executor: str | None, scheduler: str | None) -> None:
    """Run STUDY (a study YAML file) into a new run directory."""
    if dry_run:
        table = api.dry_run(study, n=n, prices=prices)
        echo(table.to_string())
        echo("tokens: prompt characters / 4 + completion budget; cost NaN: no price for that model "
                   "(give --prices FILE); price_basis: the rate used (openai_batch: the batch rate)")
        examples = api.example_prompts(study, n=n)
        echo(f"\none example prompt per persona style × cue type ({len(examples)}), as the run would send it:")
        for example in examples:
            echo("\n" + prompt_view(example))
        return
    if out is None:
        raise click.UsageError("--out is required (unless --dry-run)")
    store = api.run(study, out, n=n, progress=not quiet, fresh=fresh, prices=prices, executor=executor,
                    scheduler=scheduler)
    for warning in store.manifest()["design"].get("sampling_warnings") or []:
        echo(f"warning: {warning}", err=True)
    _finished_message(store)


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--prices", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="YAML price table: the cost so far in the progress display.")
@click.option("--quiet", is_flag=True, help="No progress display (for scripts).")
@click.option("--executor", type=click.Choice(["local", "dask"]), default=None,
              help="Where cells are answered: this process (local) or a Dask cluster (default: the study's).")
@click.option("--scheduler", default=None, help="Address of a Dask scheduler (with --executor dask).")
def resume(run_dir: Path, prices: Path | None, quiet: bool, executor: str | None, scheduler: str | None) -> None:
    """Finish an interrupted run without repeating answered cells."""
    store = api.resume(run_dir, progress=not quiet, prices=prices, executor=executor, scheduler=scheduler)
    _finished_message(store)


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--cell", default=None, help="A cell id (column cell_id of the results).")
@click.option("--persona", default=None, help="A persona id (with --item).")
@click.option("--item", default=None, help="An item id (with --persona).")
@click.option("--model", default=None, help="Narrow to one model id.")
@click.option("--style", default=None, help="Narrow to one persona style.")
@click.option("--cue", default=None, help="Narrow to one cue type.")
@click.option("--replicate", default=None, type=int, help="Narrow to one replicate.")
@click.option("--json", "as_json", is_flag=True, help="Print the cells as JSON.")
def show(run_dir: Path, cell: str | None, persona: str | None, item: str | None, model: str | None,
         style: str | None, cue: str | None, replicate: int | None, as_json: bool) -> None:
    """Print the exact prompt of a cell as sent, and its answer, probabilities or raw text and status."""
    entries = api.show(run_dir, cell=cell, persona=persona, item=item, model=model, style=style, cue=cue,
                       replicate=replicate)
    if as_json:
        echo(json.dumps(entries, indent=2))
        return
    echo("\n\n".join(prompt_view(e) for e in entries))
    if entries[-1]["more"]:
        echo(f"(the first {len(entries)} matching cells; narrow with --model, --style, --cue, --replicate)")


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Say what is wrong and what would be done; change nothing.")
def repair(run_dir: Path, dry_run: bool) -> None:
    """Repair a damaged run: keep what its files still hold, rebuild the rest from the run's inputs."""
    report = api.repair(run_dir, dry_run=dry_run)
    if not report.findings:
        echo(f"run {run_dir}: nothing to repair")
        return
    for finding in report.findings:
        echo(f"found: {finding}")
    for action in report.actions:
        echo(f"{'would do' if dry_run else 'done'}: {action}")
    for name in report.kept_as:
        echo(f"kept: the damaged file as {name}")
    if report.cells_pending and not dry_run:
        echo(f"next: `silicon-sample resume {run_dir}` answers the {report.cells_pending} pending cells")


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for scripts and schedulers.")
def status(run_dir: Path, as_json: bool) -> None:
    """Show how far a run has got."""
    info = api.status(run_dir)
    state = "in progress" if info["in_use"] else "incomplete" if info["pending"] else "complete"
    if as_json:
        echo(json.dumps({
            "run": str(run_dir), "study": info["study"], "n_personas": info["n_personas"],
            "n_cells": info["n_cells"], "state": state, "pending": info["pending"],
            "counts": {model: {k: int(v) for k, v in row.items()} for model, row in
                       info["counts"].to_dict(orient="index").items()},
            "sessions": info["sessions"], "batches": info["batches"].to_dict(orient="records")},
            indent=2, default=str))
        return
    echo(f"run {run_dir}: study {info['study']}, {info['n_personas']} personas, {info['n_cells']} cells")
    echo(info["counts"].to_string())
    for session in info["sessions"]:
        echo(f"session {session['session']}: {session['command']} started {session['started_at']}, "
                   f"{session['outcome'] or 'running or killed'}"
                   + (f" at {session['finished_at']}" if session["finished_at"] else ""))
    if not info["batches"].empty:
        echo(batch_view(info["batches"]))
    if info["in_use"]:
        echo("state: in progress (another process is working on it)")
    elif info["pending"]:
        echo(f"state: incomplete, {info['pending']} cells pending — finish with "
                   f"`silicon-sample resume {run_dir}`")
    else:
        echo("state: complete")


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "sav", "dta"]), default=None,
              help="csv, parquet, sav (SPSS) or dta (Stata); default: from the file's extension.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default=None,
              help="File to write ('-' for CSV on standard output).")
@click.option("--wide", is_flag=True, help="One row per persona with item answers and scale scores.")
@click.option("--with-personas", is_flag=True, help="Add persona_text (what the model was given) and source_row.")
@click.option("--codebook", "codebook_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also (or, without -o, only) write the codebook as CSV: names, labels, value labels.")
@click.option("--no-formula-guard", is_flag=True,
              help="CSV: write text cells beginning with = + - @ as they are (for pipelines that read the file with "
                   "code; by default they are prefixed with ' so a spreadsheet does not run them).")
@force_option
@incomplete_option
def export(run_dir: Path, fmt: str | None, output: Path | None, wide: bool, with_personas: bool,
           codebook_path: Path | None, no_formula_guard: bool, force: bool, allow_incomplete: bool) -> None:
    """Export a run's results: CSV, Parquet, or labelled SPSS / Stata files, and a codebook."""
    if output is None and codebook_path is None:
        raise click.UsageError("give -o FILE (the results) or --codebook FILE.csv (the codebook alone)")
    if output is None:
        book = api.codebook(run_dir, wide=wide, format=fmt or "csv", with_personas=with_personas,
                            allow_incomplete=allow_incomplete, output=codebook_path, force=force,
                            formula_guard=not no_formula_guard)
        echo(f"wrote the codebook ({len(book)} columns) to {codebook_path}", err=True)
        return
    if str(output) == "-":
        if fmt not in (None, "csv"):
            raise click.UsageError(f"-o - writes CSV; give a file name for {fmt}")
        frame = api.results(run_dir, wide=wide, allow_incomplete=allow_incomplete, with_personas=with_personas)
        _pending_note(frame)
        (frame if no_formula_guard else formula_safe_frame(frame)).to_csv(sys.stdout, index=False)
        return
    written = api.export(run_dir, output, wide=wide, format=fmt, allow_incomplete=allow_incomplete,
                         with_personas=with_personas, codebook_path=codebook_path, force=force,
                         formula_guard=not no_formula_guard)
    _pending_note_of_run(run_dir)
    how = " (format from the file's extension)" if written["inferred"] else ""
    echo(f"wrote {written['rows']} rows to {output} as {written['format']}{how}", err=True)
    if codebook_path is not None:
        echo(f"wrote the codebook to {codebook_path}", err=True)


def estimator_options(command):
    """``--estimator``, ``--collapse-empty`` and ``--missing``, shared by compare and rank."""
    command = click.option("--missing", default="auto", show_default=True,
                           type=click.Choice(["auto", "listwise"], case_sensitive=False),
                           help="Missing answers (refused, invalid, Don't know, the humans' blanks) in the invariance "
                                "models: auto fits every respondent with an answer (FIML for ML/MLR, pairwise for "
                                "WLSMV, as lavaan); listwise keeps complete respondents only.")(command)
    command = click.option("--collapse-empty", is_flag=True,
                           help="WLSMV: merge an option a source or group never used into its neighbour (recorded "
                                "in the table) instead of stopping with its name.")(command)
    return click.option("--estimator", default="auto", show_default=True,
                        type=click.Choice(["auto", "ML", "MLR", "WLSMV"], case_sensitive=False),
                        help="Estimator of the structure and invariance models; auto: WLSMV where an item has at "
                             "most 4 options or distinct answers, MLR otherwise (Rhemtulla et al. 2012).")(command)


@cli.command(name="compare")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--baseline", default=None, help="Human baseline name or path.")
@click.option("--against", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Another run of the same study: compare the two runs answer by answer (drift) instead.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for every table as a CSV file (items, scales, structure, invariance, subgroups, "
                   "patterns, nonresponse).")
@click.option("--subgroup", "subgroups", multiple=True,
              help="Attribute for subgroup metrics and patterns (repeatable; default: gender, sex, age_band, "
                   "education, party_id where present).")
@click.option("--no-invariance", is_flag=True, help="Skip the measurement-invariance models (the slow part).")
@click.option("--tolerance", default=0.2, show_default=True, type=click.FloatRange(min=0),
              help="Largest |d_silicon - d_human| counted as a subgroup difference reproduced in size.")
@click.option("--no-anchors", is_flag=True, help="Skip the floors, the human ceiling and the normalized scores.")
@click.option("--bootstrap", default=200, show_default=True, type=click.IntRange(min=10),
              help="Bootstrap resamples for the intervals of the anchored figures.")
@click.option("--repetitions", default=10, show_default=True, type=click.IntRange(min=2),
              help="Repetitions of each floor and of the human ceiling.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the resamples and floors.")
@click.option("--items-only", is_flag=True,
              help="Only the items table, read from the run in chunks (flat memory: runs of a million answers).")
@click.option("--all", "show_all", is_flag=True,
              help="Print every table (by default: the verdict and the scales, or the items; -o writes them all).")
@estimator_options
@force_option
@incomplete_option
def compare_command(run_dir: Path, baseline: str | None, against: Path | None, output: Path | None,
                    subgroups: tuple[str, ...], no_invariance: bool, tolerance: float, no_anchors: bool,
                    bootstrap: int, repetitions: int, seed: int, items_only: bool, show_all: bool, estimator: str,
                    collapse_empty: bool, missing: str, force: bool, allow_incomplete: bool) -> None:
    """Compare a run's answers with a human baseline (anchors, items, scales, structure, invariance,
    subgroups, response styles), or with another run of the same study (--against: drift)."""
    if (baseline is None) == (against is None):
        raise click.UsageError("give --baseline NAME (silicon vs human) or --against RUN (drift), one of them")
    if against is not None:
        table, versions = api.drift(run_dir, against, output=output, allow_incomplete=allow_incomplete, force=force)
        echo("model versions:")
        echo(versions.to_string())
        echo("\ndrift (b − a, paired by respondent; drifted: the 95% interval excludes 0):")
        echo(comparison_view("drift", table).to_string())
        drifted = int(table["drifted"].sum()) if len(table) else 0
        echo(f"\n{drifted} of {len(table)} items and scales drifted beyond test–retest noise")
        if output is not None:
            echo(f"drift.csv, versions.csv and manifest.json written to {output}", err=True)
        return
    tables = api.compare(run_dir, baseline, subgroups=list(subgroups) or None, invariance=not no_invariance,
                         tolerance=tolerance, anchors=not no_anchors, bootstrap=bootstrap, repetitions=repetitions,
                         seed=seed, estimator=estimator, collapse_empty=collapse_empty, output=output,
                         allow_incomplete=allow_incomplete, items_only=items_only, force=force, missing=missing)
    _pending_note_of_run(run_dir)
    base = api.load_baseline(baseline)
    verdict = verdict_lines(tables, f"{base.id} ({len(base.data):,} respondents)")
    for line in verdict:
        echo(line)
    for line in missing_lines(tables.get("missing")) if verdict else []:
        echo(line)
    shown = list(tables) if show_all or not verdict else [
        next((n for n in SHOWN_BY_DEFAULT if n in tables), "items"), *(n for n in ALSO_SHOWN if n in tables)]
    for name in shown:
        if name not in tables:
            continue
        if name == "nonresponse" and (line := nonresponse_line(tables[name])):
            echo(f"\n{line}")
            continue
        echo(f"\n{name}:")
        compact = not show_all and name in ("scales", "items") and "mean_silicon_low" in tables[name].columns
        echo((compact_view if compact else comparison_view)(name, tables[name]).to_string())
        for line in note_lines(tables[name]) if compact else []:
            echo(line)
        if name in INTERVAL_NOTES:
            echo(INTERVAL_NOTES[name])
    rest = [n for n in tables if n not in shown]
    if rest:
        echo(f"\nnot shown here: {', '.join(rest)} — `--all` prints them"
             + ("" if output is not None else "; `-o DIR` writes every table (CSV, LaTeX, HTML) with a manifest"))
    if output is not None:
        echo(f"\ntables and manifest.json written to {output}", err=True)


@cli.command(name="calibrate")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--baseline", required=True, help="Human baseline whose respondents the run's personas were drawn from.")
@click.option("--human-n", type=click.IntRange(min=1), default=None,
              help="Humans in the labelled sample, drawn at random from the personas' twins.")
@click.option("--labelled", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Instead: a file naming the labelled respondents (ids such as H00012, one per line, or a CSV "
                   "with a respondent_id column).")
@click.option("--pilot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Instead: your own respondents (CSV, .sav, .dta: a column per item id and the population's "
                   "attribute columns), each matched to the personas of the same profile.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the labelled draw and resamples.")
@click.option("--validate", default=0, show_default=True, type=click.IntRange(min=0),
              help="Draw this many labelled samples and report how often the intervals cover the full-population "
                   "values (PPI++ beside the humans' own).")
@click.option("--bootstrap", default=200, show_default=True, type=click.IntRange(min=10),
              help="Bootstrap resamples of the labelled humans for the gain's interval.")
@click.option("--subgroup", "subgroups", multiple=True,
              help="Attribute for subgroup differences (repeatable; default: gender, sex, age_band, education, "
                   "party_id where present).")
@click.option("--plan", is_flag=True, help="Plan a study: the split of --budget (or of the cheapest study reaching "
                                           "--target-width) between humans and silicon answers.")
@click.option("--budget", type=float, default=None, help="Dollars to spend (with --plan).")
@click.option("--target-width", type=float, default=None,
              help="Width of the 95% interval of a mean to reach, in the answer's units (with --plan).")
@click.option("--cost-human", type=float, default=None, help="Dollars per human respondent (with --plan).")
@click.option("--cost-silicon", type=float, default=None,
              help="Dollars per persona's answers (default: from --prices and the run's tokens; embedded: 0).")
@click.option("--prices", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Price table (as for `run --dry-run`) for the cost of silicon answers.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for every table as CSV, with a manifest.")
@click.option("--all", "show_all", is_flag=True, help="Print every estimate (by default: means and differences).")
@force_option
@incomplete_option
def calibrate_command(run_dir: Path, baseline: str, human_n: int | None, labelled: Path | None,
                      pilot: Path | None, seed: int,
                      validate: int, bootstrap: int, subgroups: tuple[str, ...], plan: bool, budget: float | None,
                      target_width: float | None, cost_human: float | None, cost_silicon: float | None,
                      prices: Path | None, output: Path | None, show_all: bool, force: bool,
                      allow_incomplete: bool) -> None:
    """How many humans the run's silicon answers are worth: PPI++ estimates from a small human sample and the
    personas' answers, beside the humans' own intervals (with --human-n or --labelled the run's personas must be
    twins of the baseline's respondents, population method microdata; with --pilot any run of its population)."""
    if sum(x is not None for x in (human_n, labelled, pilot)) != 1:
        raise click.UsageError("give one of --human-n N (a random labelled sample of the twins), --labelled FILE "
                               "(named respondents) or --pilot FILE (your own respondents)")
    tables = api.calibrate(run_dir, baseline, human_n=human_n, labelled=labelled, pilot=pilot, seed=seed,
                           validate=validate,
                           bootstrap=bootstrap, subgroups=list(subgroups) or None, plan=plan, budget=budget,
                           target_width=target_width, cost_human=cost_human, cost_silicon=cost_silicon,
                           prices=prices, output=output, allow_incomplete=allow_incomplete, force=force)
    _pending_note_of_run(run_dir)
    for line in calibration_lines(tables, show_all=show_all):
        echo(line)
    if output is not None:
        echo(f"\ntables and manifest.json written to {output}", err=True)


@cli.command(name="personas")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--outcome", "outcomes", multiple=True,
              help="Scale id, item id, refused or invalid (repeatable; default: every scale, each item of an "
                   "instrument without scales, and both rates).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the bootstrap and permutations.")
@click.option("--bootstrap", default=2000, show_default=True, type=click.IntRange(min=100),
              help="Bootstrap resamples (and permutations) of personas.")
@click.option("--top-share", default=0.1, show_default=True, type=click.FloatRange(0.01, 0.5),
              help="Share of personas counted as the top (bottom) of an outcome for the extremes.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for every table as CSV, with a manifest.")
@force_option
@incomplete_option
def personas_command(run_dir: Path, outcomes: tuple[str, ...], seed: int, bootstrap: int, top_share: float,
                     output: Path | None, force: bool, allow_incomplete: bool) -> None:
    """Do named personas move answers beyond paraphrase noise? Araujo & Roth's tests on a run of a catalogue
    population with control personas (e.g. studies/persona_behavior.yaml): each persona and category beside the
    control paraphrases and the empty persona, the spread across personas over the spread across controls, the
    Friedman and Cochran's Q tests, refusal disparities, and agreement across models."""
    tables = api.persona_effects(run_dir, outcomes=list(outcomes) or None, seed=seed, bootstrap=bootstrap,
                                 top_share=top_share, output=output, allow_incomplete=allow_incomplete, force=force)
    _pending_note_of_run(run_dir)
    for line in persona_effects_lines(tables):
        echo(line)
    if output is not None:
        echo(f"\ntables and manifest.json written to {output}", err=True)


@cli.command(name="code")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--codebook", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Codebook YAML: the categories of the open-ended items (README: coding open-ended answers).")
@click.option("--backend", default=None, help="Also code with a model through this backend (e.g. embedded).")
@click.option("--model", "model_name", default=None, help="The coder model's name (default: the backend's).")
@click.option("--answer-mode", default="distribution", show_default=True,
              type=click.Choice(["distribution", "sample"]),
              help="distribution: the coder's probability of every category is kept; sample: one code drawn.")
@click.option("--human", "human_codes", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV of human codes (columns cell_id, code) to measure agreement with.")
@click.option("--no-keywords", is_flag=True, help="Leave the codebook's keyword coder out.")
@click.option("--bootstrap", default=1000, show_default=True, type=click.IntRange(min=0),
              help="Bootstrap resamples of the answers for alpha's interval.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for codes.csv, agreement.csv, shares.csv and manifest.json.")
@click.option("--force", is_flag=True, help="Write the output folder inside a run folder.")
@incomplete_option
def code_command(run_dir: Path, codebook: Path, backend: str | None, model_name: str | None, answer_mode: str,
                 human_codes: Path | None, no_keywords: bool, bootstrap: int, seed: int, output: Path | None,
                 force: bool, allow_incomplete: bool) -> None:
    """Code a run's open-ended answers (keywords, a model, human codes) and report the coders' agreement."""
    model = ({"backend": backend, "model": model_name, "answer_mode": answer_mode} if backend else None)
    result = api.code(run_dir, codebook, model=model, human_codes=human_codes, keywords=not no_keywords,
                      bootstrap=bootstrap, seed=seed, allow_incomplete=allow_incomplete, output=output, force=force)
    codes = result["codes"]
    coders = [c for c in ("keywords", "model", "human") if c in codes.columns]
    echo(f"{len(codes)} open-ended answers coded by {', '.join(coders)}")
    shares = result["shares"].pivot_table(index=["item_id", "code", "label"], columns="coder", values="share",
                                          aggfunc="mean")
    echo("\nshare of the answers in each category (weighted; per coder):")
    echo(shares.round(3).to_string())
    if len(result["agreement"]):
        echo("\nagreement (Krippendorff's alpha, nominal, with its 95% bootstrap interval over the answers):")
        echo(result["agreement"].round(3).to_string())
    if output is not None:
        echo(f"\ncodes, agreement, shares and manifest.json written to {output}", err=True)


@cli.command(name="bayes")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--baseline", required=True, help="Human baseline name or path.")
@click.option("--outcome", required=True, help="A scale (e.g. neuroticism) or an item of the baseline's instrument.")
@click.option("--attribute", required=True, help="Persona attribute whose effect is compared (e.g. gender).")
@click.option("--draws", default=1000, show_default=True, type=click.IntRange(min=10))
@click.option("--tune", default=1000, show_default=True, type=click.IntRange(min=10))
@click.option("--chains", default=4, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--max-respondents", default=None, type=click.IntRange(min=10),
              help="Largest number of respondents per source (drawn with the seed), to bound run time.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for effects.csv, diagnostics.csv, the posterior (posterior.nc) and its trace plot.")
@click.option("--quiet", is_flag=True, help="No sampling progress.")
@force_option
@incomplete_option
def bayes_command(run_dir: Path, baseline: str, outcome: str, attribute: str, draws: int, tune: int, chains: int,
                  seed: int, max_respondents: int | None, output: Path | None, quiet: bool, force: bool,
                  allow_incomplete: bool) -> None:
    """Bayesian ordinal model: the attribute's effect in humans and in each silicon source, and the difference."""
    result = api.bayes(run_dir, baseline, outcome, attribute, draws=draws, tune=tune, chains=chains, seed=seed,
                       max_respondents=max_respondents, output=output, allow_incomplete=allow_incomplete,
                       progress=not quiet, force=force)
    counts = ", ".join(f"{source}: {n}" for source, n in result.settings["respondents"].items())
    echo(f"effect of {attribute} on {outcome} (log-odds, against {result.settings['reference_category']}; "
               f"respondents — {counts}):")
    echo(result.effects.round(3).to_string())
    for warning in result.warnings:
        echo(f"warning: {warning}", err=True)
    if output is not None:
        echo(f"tables, manifest.json, posterior.nc and trace.png written to {output}", err=True)


@cli.command(name="report")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML file to write (one file; it opens offline).")
@click.option("--baseline", default=None, help="Human baseline name or path: adds every comparison with humans.")
@click.option("--bayes", "bayes_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="A folder written by `bayes -o DIR`: adds the forest plot of its posterior effects.")
@click.option("--no-invariance", is_flag=True, help="Skip the measurement-invariance models (the slow part).")
@click.option("--bootstrap", default=200, show_default=True, type=click.IntRange(min=10))
@click.option("--repetitions", default=10, show_default=True, type=click.IntRange(min=2))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--human-n", type=click.IntRange(min=1), default=None,
              help="Twin runs: add how many humans the silicon answers are worth beside N labelled humans "
                   "(see `calibrate`).")
@click.option("--validate", default=0, show_default=True, type=click.IntRange(min=0),
              help="With --human-n: labelled samples for the coverage check.")
@force_option
@incomplete_option
def report_command(run_dirs: tuple[Path, ...], output: Path, baseline: str | None, bayes_dir: Path | None,
                   no_invariance: bool, bootstrap: int, repetitions: int, seed: int, human_n: int | None,
                   validate: int, force: bool, allow_incomplete: bool) -> None:
    """Write one self-contained HTML report of one or more runs: figures, tables, the ranking."""
    if human_n is not None and baseline is None:
        raise click.UsageError("--human-n needs --baseline (the humans whose twins the personas are)")
    written = api.report(list(run_dirs), output, baseline=baseline, bayes=bayes_dir, invariance=not no_invariance,
                         bootstrap=bootstrap, repetitions=repetitions, seed=seed, allow_incomplete=allow_incomplete,
                         force=force, human_n=human_n, validate=validate)
    for line in written.verdict:
        echo(line)
    echo(f"\nreport: {written} (one HTML file: open it in a browser; it needs no network)")


@cli.command(name="import-qsf")
@click.argument("survey", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The instrument YAML file to write, e.g. instruments/mine.yaml.")
@click.option("--id", "instrument_id", default=None, help="The instrument's id (default: from the file name).")
@click.option("--force", is_flag=True, help="Overwrite the output file.")
def import_qsf_command(survey: Path, output: Path, instrument_id: str | None, force: bool) -> None:
    """Convert a Qualtrics survey (.qsf) into an instrument: Likert matrices and single-choice questions."""
    result = api.import_qsf(survey, output, instrument_id=instrument_id, overwrite=force)
    echo(f"wrote {result['items']} items to {result['path']}")
    for line in result["skipped"]:
        echo(f"skipped: {line}")
    for line in result["notes"]:
        echo(f"note: {line}")


@cli.group(name="baseline")
def baseline_group() -> None:
    """Human baselines of your own."""


@baseline_group.command(name="init")
@click.argument("data_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--instrument", required=True, help="The instrument the data answer (a shipped name or a path).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The baseline file to write, e.g. mine.yaml (its population is written beside it).")
@click.option("--force", is_flag=True, help="Overwrite the output files.")
def baseline_init_command(data_file: Path, instrument: str, output: Path, force: bool) -> None:
    """Draft a baseline (and its population) from a CSV, SPSS, Stata or Parquet file's variable and value
    labels, for you to review; compare and report accept it at once."""
    result = api.baseline_init(data_file, instrument, output, force=force)
    echo(f"wrote {result['baseline']} (baseline: {result['respondents']} respondents, "
         f"{len(result['items'])} items) and "
         f"{result['population']} (population: {', '.join(result['attributes'])})")
    for note in result["notes"]:
        echo(f"review: {note}")
    echo(f"next: silicon-sample compare RUN --baseline {result['baseline']}")


@cli.command(name="bench")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the figures and the ceilings).")
@click.option("--quick", is_flag=True, help="Seconds instead of minutes: smaller runs, noisier figures.")
@click.option("--memory-calls", default=0, show_default=True, type=click.IntRange(min=0),
              help="Also run this many calls and report resident memory at 10 % and 100 % (e.g. 100000).")
@click.option("--load-calls", default=0, show_default=True, type=click.IntRange(min=0),
              help="Also run a load test of this many calls against a server failing 8 % of them (e.g. 20000).")
@click.option("--design", is_flag=True,
              help="Also write the run store of a 10,000- and a 100,000-persona study and report peak memory.")
@click.option("--dask", is_flag=True,
              help="Also answer a study on a local Dask cluster (one worker per core): answers per second per worker.")
@click.option("--million", is_flag=True,
              help="Also build a run store of a million synthetic answers: insert rate, export and compare memory.")
@click.option("--analysis", is_flag=True,
              help="Also time compare and rank on the pilot and the controls replica beside lavaan + psych (R).")
def bench_command(as_json: bool, quick: bool, memory_calls: int, load_calls: int, design: bool, dask: bool,
                  million: bool, analysis: bool) -> None:
    """Measure throughput beside the ceilings taken in the same process (hosted calls against a loopback
    server, the embedded model against its forward-pass rate)."""
    figures = api.bench(quick=quick, memory_calls=memory_calls, load_calls=load_calls, design=design, dask=dask,
                        million=million, analysis=analysis)
    if as_json:
        echo(json.dumps(figures, indent=2))
        return
    echo(bench_view(figures))


@cli.command(name="rank")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--baseline", required=True, help="Human baseline name or path.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV file for the ranking.")
@click.option("--purpose", default="all", show_default=True,
              type=click.Choice(["levels", "structure", "subgroups", "all", "calibration"]),
              help="Order by the normalized score for estimating levels, reproducing structure, comparing "
                   "subgroups, or their mean; calibration: by how many humans the silicon answers are worth "
                   "(twin runs, with --human-n).")
@click.option("--human-n", type=click.IntRange(min=1), default=None,
              help="With --purpose calibration: humans in the labelled sample.")
@click.option("--labelled", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --purpose calibration: a file naming the labelled respondents instead.")
@click.option("--pilot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --purpose calibration: your own respondents instead (see `calibrate --pilot`).")
@click.option("--validate", default=0, show_default=True, type=click.IntRange(min=0),
              help="With --purpose calibration: labelled samples for the coverage check (flags pairs).")
@click.option("--no-invariance", is_flag=True, help="Skip the measurement-invariance models (the slow part).")
@click.option("--bootstrap", default=200, show_default=True, type=click.IntRange(min=10))
@click.option("--repetitions", default=10, show_default=True, type=click.IntRange(min=2))
@click.option("--seed", default=0, show_default=True, type=int)
@estimator_options
@force_option
@incomplete_option
def rank_command(run_dirs: tuple[Path, ...], baseline: str, output: Path | None, purpose: str,
                 human_n: int | None, labelled: Path | None, pilot: Path | None, validate: int,
                 no_invariance: bool, bootstrap: int, repetitions: int, seed: int, estimator: str,
                 collapse_empty: bool, missing: str, force: bool, allow_incomplete: bool) -> None:
    """Rank model–persona pairs of one or more runs by how well they stand in for the baseline's humans."""
    table = api.rank(list(run_dirs), baseline, invariance=not no_invariance, purpose=purpose, bootstrap=bootstrap,
                     repetitions=repetitions, seed=seed, estimator=estimator, collapse_empty=collapse_empty,
                     output=output, allow_incomplete=allow_incomplete, force=force, human_n=human_n,
                     labelled=labelled, pilot=pilot, validate=validate, missing=missing)
    _pending_note(table)
    echo(ranking_view(table).to_string())
    if purpose == "calibration":
        echo("score: how many more humans the silicon answers are worth beside the labelled ones (median over item "
             "and scale means of effective n − n, PPI++), with its 95% bootstrap interval over the labelled humans; "
             "rows sharing a tie_group cannot be told apart; flagged pairs are not ranked")
    else:
        echo("score: normalized (0 = the best floor, 1 = another human sample of this size) with its 95% interval; "
             "rows sharing a tie_group cannot be told apart; every raw figure's interval is in `compare`'s anchors")
    echo("")
    for key, line in table["reading"].items():
        echo(f"{' / '.join(map(str, key))}: {line}")
    if output is not None:
        echo(f"ranking written to {output} (manifest: {api.ranking_manifest_path(output)})", err=True)


@cli.command(name="populations")
def populations_command() -> None:
    """List the shipped populations with their attributes and source."""
    for population in api.populations():
        echo(population.describe())
        echo("")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def validate(file: Path) -> None:
    """Validate an instrument, population or study file."""
    echo(api.validate(file))


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    if not debug:       # pandas' PerformanceWarnings, numpy's "invalid value": the tables say what matters
        warnings.simplefilter("ignore")
    try:
        cli.main(args=args, prog_name="silicon-sample", standalone_mode=False)
    except SiliconSampleError as exc:
        if debug:
            raise
        echo(f"error: {visible(exc.message, keep_lines=False)}", err=True)
        sys.exit(EXIT_USER_ERROR)
    except (click.exceptions.Abort, KeyboardInterrupt):
        terminated = signal.SIGTERM in _signals
        echo(f"{'terminated (SIGTERM)' if terminated else 'interrupted'}: every answer stored so far is kept "
                   "(and every batch submitted); finish with `silicon-sample resume RUN_DIR`", err=True)
        sys.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
    except click.UsageError as exc:     # one line, like every other error: what, and where to read more
        command = exc.ctx.command_path if exc.ctx is not None else "silicon-sample"
        echo(f"error: {exc.format_message().rstrip('.')} — see `{command} --help`", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        if debug:
            raise
        detail = visible(shorten(str(exc)), keep_lines=False)
        echo(f"error: unexpected {type(exc).__name__}: {detail} — please report it; rerun with --debug "
             "for the traceback", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
