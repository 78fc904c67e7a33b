"""The Python API, for notebooks and scripts; the CLI is a thin face over these functions.

Running a study: :func:`run`, :func:`resume`, :func:`status`, :func:`results`, :func:`export`,
:func:`dry_run`, :func:`validate`. Comparing with humans: :func:`compare`, :func:`rank`, :func:`bayes`.
Loading and listing spec files: :func:`load_study`, :func:`load_instrument`, :func:`load_population`,
:func:`load_baseline`, :func:`instruments`, :func:`populations`.

A baseline argument accepts a shipped name (``"psych_bfi"``), a path to a baseline file, or a
loaded :class:`~silicon_sample.population.baselines.Baseline`. Every user-facing failure raises a
:class:`~silicon_sample.errors.SiliconSampleError` saying what, where and how to fix.

>>> import silicon_sample as ss
>>> run = ss.run("studies/pilot_bfi.yaml", "runs/pilot", n=10)      # doctest: +SKIP
>>> ss.results(run.dir, wide=True).head()                            # doctest: +SKIP
>>> tables = ss.compare(run.dir, "psych_bfi", output="tables/")      # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .answers import PENDING
from .design.study import Study
from .design.study import load_study as _load_study
from .errors import SiliconSampleError, SpecError
from .files import folder_swapped, write_atomic
from .population import baselines as _baselines
from .population import populations as _populations
from .population.baselines import Baseline
from .population.populations import Population
from .report import exports as _exports
from .report.progress import RunProgress
from .report.terminal import CALIBRATION_NOTE, PERSONA_EFFECTS_NOTE, verdict_lines
from .runner.batch_journal import batch_table
from .runner.dry_run import estimate, load_prices
from .runner.execute import BackendFactory, ProgressCallback, preflight, resume_run, start_run
from .runner.manifest import analysis_manifest
from .runner.prompts import cell_prompts
from .runner.prompts import example_prompts as _example_prompts
from .runner.repair import RepairReport, repair_run
from .specs import instruments as _instruments
from .specs.instruments import Instrument
from .specs.yaml_files import read_yaml
from .store.output_guard import guard_output
from .store.run_store import RunStore
from .tidy.completeness import mark_pending, pending_by_pair, require_complete
from .tidy.results import (
    PAIR_COLUMNS,
    iter_long_results,
    iter_wide_results,
    long_results,
    run_attributes,
    run_instruments,
    run_manifest,
    run_population,
    wide_results,
)

if TYPE_CHECKING:
    from .comparison.ordinal_model import OrdinalComparison

# The comparison modules are imported where they are used: scipy.stats alone takes most of a second, and
# `import silicon_sample` (every CLI command) should not pay for it.

BaselineLike = str | Path | Baseline
"""A shipped baseline name, a path to a baseline file, or a loaded :class:`Baseline`."""


# -- running a study ---------------------------------------------------------------------------------
ProgressOption = ProgressCallback | bool | str
"""``True``: bars on a terminal or in a notebook, plain lines otherwise; ``False`` or ``"quiet"``: nothing;
``"rich"`` or ``"plain"``: that display; a callable: called after each stored answer with a
:class:`~silicon_sample.runner.execute.Progress`."""


def _progress(option: ProgressOption, study: Study | None,
              prices: str | Path | None) -> contextlib.AbstractContextManager:
    """The callback (in a context that draws and closes its display) for a ``progress`` option."""
    if callable(option):
        return contextlib.nullcontext(option)
    display = "auto" if option is True else "quiet" if option is False else option
    names = {m.id: m.model for m in study.models} if study is not None else {}
    return RunProgress(display, prices=load_prices(prices), model_names=names)


def run(study: str | Path, out: str | Path, *, n: int | None = None, progress: ProgressOption = True,
        fresh: bool = False, backend_factory: BackendFactory | None = None,
        prices: str | Path | None = None, executor: str | None = None, scheduler: str | None = None) -> RunStore:
    """Run a study file into a new run directory ``out`` and return its store.

    ``n`` overrides the study's sample size; ``progress`` shows or reports progress (:data:`ProgressOption`;
    :mod:`silicon_sample.report.progress`), with the cost so far of the models a ``prices`` table names;
    ``fresh`` bypasses the shared response cache of server backends; ``backend_factory`` makes each
    model's backend (see :mod:`silicon_sample.backends.base`; default: from the study's model entries);
    ``executor="dask"`` answers the cells on a Dask cluster, the one at ``scheduler`` or a local one
    (:mod:`silicon_sample.runner.dask_executor`; default: the study's ``executor:``, else this process).
    """
    loaded = _load_study(study, n=n) if prices is not None and not callable(progress) else None
    with _progress(progress, loaded, prices) as callback:
        return start_run(study, out, n=n, progress=callback, fresh=fresh, backend_factory=backend_factory,
                         executor=executor, scheduler=scheduler)


def resume(run_dir: str | Path, *, progress: ProgressOption = True, fresh: bool = False,
           backend_factory: BackendFactory | None = None, prices: str | Path | None = None,
           executor: str | None = None, scheduler: str | None = None) -> RunStore:
    """Finish an interrupted run; answered cells are not sent again (arguments as in :func:`run`)."""
    loaded = None
    if not callable(progress) and prices is not None:
        from .runner.execute import load_run_study

        loaded = load_run_study(RunStore.open(run_dir))
    with _progress(progress, loaded, prices) as callback:
        return resume_run(run_dir, progress=callback, fresh=fresh, backend_factory=backend_factory,
                          executor=executor, scheduler=scheduler)


def status(run_dir: str | Path) -> dict[str, Any]:
    """How far a run has got: ``study``, ``n_personas``, ``n_cells``, ``counts`` (cells per model by
    status, a DataFrame), ``pending``, ``sessions``, ``in_use`` (another process holds the run) and
    ``batches`` (Batch API submissions: one row per batch with its state, cells answered, returned and
    waiting; empty without a batch backend)."""
    store = RunStore.open(run_dir)
    manifest = store.manifest()
    counts = store.status_counts()
    try:
        with store.lock():
            in_use = False
    except SiliconSampleError:
        in_use = True
    return {"study": manifest["study"]["id"], "n_personas": manifest["design"]["n_personas"],
            "n_cells": manifest["design"]["n_cells"], "counts": counts,
            "pending": int(counts[PENDING].sum()), "sessions": store.sessions().to_dict(orient="records"),
            "in_use": in_use, "batches": batch_table(store)}


def repair(run_dir: str | Path, *, dry_run: bool = False) -> RepairReport:
    """Check a run and repair what can be repaired safely: a damaged ``responses.sqlite`` (the answers it
    still holds kept, the design rebuilt from the run's inputs, lost answers pending again), a damaged
    ``manifest.json``, sessions ended by a kill, an interrupted creation, missing outputs. Damaged files are
    kept beside the new ones; ``dry_run`` changes nothing. See :mod:`silicon_sample.runner.repair`."""
    return repair_run(run_dir, dry_run=dry_run)


def results(run_dir: str | Path, *, wide: bool = False, allow_incomplete: bool = False,
            with_personas: bool = False) -> pd.DataFrame:
    """Tidy results: long (one row per cell) or wide (one row per persona × style × cue type × model ×
    replicate, with scale scores); columns in :mod:`silicon_sample.tidy.results`. A run with pending cells
    is refused unless ``allow_incomplete``; then ``cells_pending`` gives each model–persona pair's pending
    cells (:mod:`silicon_sample.tidy.completeness`). ``with_personas`` adds ``source_row`` and
    ``persona_text``."""
    pending = require_complete(run_dir, allow_incomplete)
    frame = (wide_results(run_dir, with_personas=with_personas) if wide
             else long_results(run_dir, with_personas=with_personas))
    return mark_pending(frame, pending)


def codebook(run_dir: str | Path, *, wide: bool = False, format: str = "csv", with_personas: bool = False,
             allow_incomplete: bool = False, output: str | Path | None = None, force: bool = False,
             formula_guard: bool = True) -> pd.DataFrame:
    """The codebook of an export of this run in ``format``: one row per column with its name in the file,
    full label, kind, value labels, scale and keying (see :mod:`silicon_sample.report.exports`); written
    as CSV to ``output`` when given (checked first: see :func:`export` for ``force`` and ``formula_guard``)."""
    if output is not None:
        guard_output(output, "csv", force=force)
    frame = results(run_dir, wide=wide, allow_incomplete=allow_incomplete, with_personas=with_personas)
    book = _exports.codebook_for_format(frame, _exports.codebook(frame, run_instruments(run_dir),
                                                                 run_attributes(run_dir)), format)
    book = _exports.note_formula_guard(book, frame, format, formula_guard)
    if output is not None:
        _write_table(book, output, formula_guard=formula_guard)
    return book


def export(run_dir: str | Path, output: str | Path, *, wide: bool = False, format: str | None = None,
           allow_incomplete: bool = False, with_personas: bool = False,
           codebook_path: str | Path | None = None, force: bool = False, formula_guard: bool = True) -> dict:
    """Write a run's tidy results to ``output`` whole (never half): CSV, Parquet, SPSS ``.sav`` or Stata
    ``.dta`` (``format``, or inferred from the extension), the SPSS and Stata files with variable and value
    labels (:mod:`silicon_sample.report.exports`); ``codebook_path`` also writes the codebook as CSV.
    Returns ``rows``, ``format`` and ``inferred`` (whether the format came from the extension).

    ``output`` is checked before anything is read (:func:`~silicon_sample.store.output_guard.guard_output`):
    never a run's own file or an input; inside a run folder, or over an existing file of another kind, only
    with ``force``. ``formula_guard`` (CSV and the codebook): a text cell beginning with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return is prefixed with ``'`` so that a spreadsheet shows it instead of running
    it (OWASP's CSV-injection guidance); the codebook notes it on every text column. Turn it off for analysis
    pipelines that read the CSV with code."""
    fmt, inferred = _exports.infer_format(output, format)
    guard_output(output, fmt, force=force)
    if codebook_path is not None:
        guard_output(codebook_path, "csv", inputs=[output], force=force)
    instruments, attributes = run_instruments(run_dir), run_attributes(run_dir)
    guard = formula_guard and fmt == "csv"
    if fmt in ("csv", "parquet"):        # a chunk of personas at a time: flat memory for a million answers
        pending = require_complete(run_dir, allow_incomplete)
        chunks = (iter_wide_results if wide else iter_long_results)(run_dir, with_personas=with_personas)
        rows, book = _exports.write_export_chunks((mark_pending(c, pending) for c in chunks), output, fmt,
                                                  run_manifest(run_dir),
                                                  lambda first: _exports.note_formula_guard(
                                                      _exports.codebook(first, instruments, attributes), first, fmt,
                                                      guard),
                                                  formula_guard=guard)
        if codebook_path is not None:
            _write_table(book, codebook_path, formula_guard=formula_guard)
        return {"rows": rows, "format": fmt, "inferred": inferred}
    frame = results(run_dir, wide=wide, allow_incomplete=allow_incomplete, with_personas=with_personas)
    book = _exports.codebook(frame, instruments, attributes)
    _exports.write_export(frame, output, fmt, book, run_manifest(run_dir))
    if codebook_path is not None:
        _write_table(_exports.codebook_for_format(frame, book, fmt), codebook_path, formula_guard=formula_guard)
    return {"rows": len(frame), "format": fmt, "inferred": inferred}


def show(run_dir: str | Path, *, cell: str | None = None, persona: str | None = None, item: str | None = None,
         model: str | None = None, style: str | None = None, cue: str | None = None,
         replicate: int | None = None) -> list[dict]:
    """The exact request of cells of a run (messages as sent, prefill, options, seed) and what came back;
    name a cell by id, or by persona and item (and model, style, cue type, replicate to narrow it). See
    :mod:`silicon_sample.runner.prompts`."""
    return cell_prompts(run_dir, cell_id=cell, persona=persona, item=item, model=model, style=style, cue=cue,
                        replicate=replicate)


def example_prompts(study: str | Path, *, n: int | None = None) -> list[dict]:
    """One example request per persona style × cue type of a study, as its run would send it (nothing is
    sent)."""
    return _example_prompts(study, n=n)


def dry_run(study: str | Path, *, n: int | None = None, prices: str | Path | None = None) -> pd.DataFrame:
    """Calls, estimated tokens and cost per model, before any call is made
    (see :mod:`silicon_sample.runner.dry_run`)."""
    return estimate(study, n=n, prices=prices)


def validate(path: str | Path) -> str:
    """Validate an instrument, population, study or baseline file; return a one-line description."""
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError("expected a mapping at the top level", where=str(path))
    if "instrument" in data and "data" in data:
        base = _baselines.load(path)
        return (f"ok: human baseline {base.id} ({len(base.data)} respondents, instrument {base.instrument.id}, "
                f"population {base.population.id}; values not an option: {base.report['not_an_option'] or 'none'}; "
                f"text where a number belongs (read as missing): {base.report.get('not_a_number') or 'none'})")
    if "items" in data:
        inst = _instruments.load(path)
        return f"ok: instrument {inst.id} ({len(inst.items)} items, {len(inst.scoring.scales)} scales)"
    if "attributes" in data or "personas" in data:
        pop = _populations.load(path)
        return f"ok: population {pop.id} ({pop.kind}; {', '.join(pop.attribute_names)}; {pop.report})"
    if "models" in data:
        study = _load_study(path)
        preflight(study)          # options in range, every scale readable in its model's mode
        renderings = len(study.persona_templates) * len(study.cue_types)
        return (f"ok: study {study.id} ({study.n} personas × {renderings} rendering(s) × "
                f"{sum(len(i.items) for i in study.instruments)} items × {len(study.models)} model(s))")
    raise SpecError("cannot tell what kind of file this is (no `items`, `attributes`, `personas` or `models`)",
                    where=str(path),
                    fix="give an instrument, population, study or baseline file")


# -- comparing with humans ---------------------------------------------------------------------------
def compare(run_dir: str | Path, baseline: BaselineLike, *, subgroups: list[str] | None = None,
            invariance: bool = True, tolerance: float = 0.2, anchors: bool = True, bootstrap: int = 200,
            repetitions: int = 10, seed: int = 0, estimator: str | None = None, collapse_empty: bool = False,
            output: str | Path | None = None, allow_incomplete: bool = False,
            items_only: bool = False, force: bool = False, missing: str = "auto") -> dict[str, pd.DataFrame]:
    """Every comparison table of a run against a human baseline (anchors, items, scales, structure,
    invariance, subgroups, patterns, nonresponse; see :mod:`silicon_sample.comparison.tables`).
    ``items_only``: the ``items`` table alone, computed from the run read in chunks (flat memory for a run of
    any size; :mod:`silicon_sample.comparison.item_counts`).

    ``anchors`` places every summary figure between its floors and the human ceiling, with ``bootstrap``
    resamples for its interval and ``repetitions`` of each floor and of the ceiling, seeded by ``seed``
    (see :mod:`silicon_sample.comparison.anchors`).

    With ``output`` (a folder, created if needed) every table is written there as ``<name>.csv`` (full
    precision), ``<name>.tex`` and ``<name>.html`` (great_tables, rounded, with the estimator, n and interval
    conventions as table notes; :mod:`silicon_sample.report.paper_tables`), with a ``manifest.json`` saying
    what the comparison was made from. The folder is written beside the target and swapped in whole, so it
    never mixes two comparisons; it may be new, empty or an earlier ``compare`` output, and lies inside a run
    folder only with ``force`` (:func:`~silicon_sample.store.output_guard.guard_output`).

    ``estimator`` (``"ML"``, ``"MLR"``, ``"WLSMV"``; None or ``"auto"`` chooses per pair, see
    :func:`silicon_sample.psychometrics.choose_estimator`) fits the scales' ordinal coefficients, the
    structure and the invariance models; ``collapse_empty`` merges an option one source or group never
    used into its neighbour for WLSMV (recorded in the invariance table) instead of stopping with its name.

    A run with pending cells is refused unless ``allow_incomplete``; then every table has ``cells_pending``.

    ``missing`` (``"auto"``: full-information ML for ML/MLR, pairwise for WLSMV, as lavaan; ``"listwise"``)
    says how the invariance models take missing answers — refused, invalid, "Don't know", the humans' blanks;
    the ``missing`` table gives each item's shares per pair.
    """
    from .comparison.runs import compare_items_in_chunks, compare_run

    estimator = _estimator_option(estimator)
    missing = _missing_option(missing)
    base = load_baseline(baseline)
    if output is not None:
        guard_output(output, "folder", analysis="compare", inputs=[base.path], force=force)
    if items_only:
        tables = compare_items_in_chunks(run_dir, base, allow_incomplete=allow_incomplete)
    else:
        tables = compare_run(run_dir, base, subgroups=subgroups, invariance=invariance, tolerance=tolerance,
                             anchors=anchors, bootstrap=bootstrap, repetitions=repetitions, seed=seed,
                             estimator=estimator, collapse_empty=collapse_empty, allow_incomplete=allow_incomplete,
                             missing=missing)
    if output is not None:
        from .report.paper_tables import write_paper_tables

        with folder_swapped(Path(output)) as folder:
            for name, table in tables.items():
                _write_table(table.reset_index(), folder / f"{name}.csv")
            write_paper_tables(tables, folder, [f"baseline: {base.id}; run: {Path(run_dir).name}"])
            _write_manifest(folder / "manifest.json", "compare", [run_dir], base,
                            {"subgroups": subgroups or "default", "invariance": invariance, "tolerance": tolerance,
                             "anchors": anchors, "bootstrap": bootstrap, "repetitions": repetitions, "seed": seed,
                             "missing": missing, **_estimator_settings(estimator, collapse_empty),
                             **_pending_settings([run_dir])})
    return tables


def calibrate(run_dir: str | Path, baseline: BaselineLike, *, human_n: int | None = None,
              labelled: str | Path | list | None = None, pilot: str | Path | None = None, seed: int = 0,
              validate: int = 0, bootstrap: int = 200,
              subgroups: list[str] | None = None, plan: bool = False, budget: float | None = None,
              target_width: float | None = None, cost_human: float | None = None, cost_silicon: float | None = None,
              prices: str | Path | None = None, max_silicon: int = 100_000, output: str | Path | None = None,
              allow_incomplete: bool = False, force: bool = False) -> dict[str, pd.DataFrame]:
    """How many humans a silicon sample is worth: calibrate a small human sample with the run's silicon answers
    (prediction-powered inference, PPI++; :mod:`silicon_sample.comparison.calibration`).

    The twin design: the run's personas were drawn from the baseline's own respondents (``method: microdata``),
    so each has a human twin. ``human_n`` of those humans (drawn with ``seed``, or the respondents named by
    ``labelled``: ids such as ``H00012``, data rows, or a file of them) are the labelled sample; every other
    persona is unlabelled. Or ``pilot``: a data file of your own respondents' answers with the population's
    attribute columns, each matched to the run's personas of the same profile (any run of the baseline's
    population; no validation then). Tables (each indexed by the model–persona pair):

    - ``calibration``: per item mean, option proportion, scale mean, subgroup difference and numeric median, the
      PPI++ estimate and 95 % interval beside the humans' own, ρ, the effective sample size and the gain;
    - ``calibration_pairs``: per pair, the median gain over item and scale means with a bootstrap interval
      (``bootstrap`` resamples of the labelled humans) and a reading; with ``validate`` = K, the coverage of the
      full-population values by the PPI++ and the classical intervals over K labelled samples, and ``flagged``;
    - ``calibration_validation`` (with ``validate``): that coverage per target;
    - ``calibration_plan`` (with ``plan``): the split of a ``budget`` (or of the cheapest study reaching
      ``target_width``) between humans at ``cost_human`` and silicon answers at ``cost_silicon`` (else from
      ``prices`` and the run's tokens; the embedded model costs nothing) that gives the narrowest interval
      (:mod:`silicon_sample.comparison.budget`).

    With ``output`` (a folder) every table is written as CSV with a ``manifest.json``.
    """
    from .comparison.budget import plan_table
    from .comparison.runs import calibrate_run

    base = load_baseline(baseline)
    if sum(x is not None for x in (human_n, labelled, pilot)) != 1:
        raise SpecError("say who the labelled humans are: one of human_n, labelled or pilot", where="calibrate",
                        fix="--human-n N (drawn from the twins), --labelled FILE (named) or --pilot FILE (your own)")
    if plan:
        if cost_human is None:
            raise SpecError("a plan needs the cost of one human respondent", where="calibrate --plan",
                            fix="add --cost-human DOLLARS (e.g. --cost-human 5)")
        if (budget is None) == (target_width is None):
            raise SpecError("a plan needs a budget or a target interval width (one of them)",
                            where="calibrate --plan", fix="add --budget DOLLARS or --target-width W")
    if validate < 0:
        raise SpecError(f"--validate must be 0 or more, got {validate}", where="--validate",
                        fix="give the number of labelled samples to draw, e.g. --validate 100")
    if output is not None:
        guard_output(output, "folder", analysis="calibrate", inputs=[base.path], force=force)
    tables = calibrate_run(run_dir, base, human_n=human_n, labelled=labelled, pilot=pilot, seed=seed,
                           validate=validate, bootstrap=bootstrap, subgroups=subgroups,
                           allow_incomplete=allow_incomplete)
    if plan:
        costs = _silicon_costs(run_dir, cost_silicon, prices)
        tables["calibration_plan"] = plan_table(tables["calibration"], costs, cost_human=cost_human, budget=budget,
                                                target_width=target_width, max_silicon=max_silicon)
    if output is not None:
        with folder_swapped(Path(output)) as folder:
            for name, table in tables.items():
                _write_table(table.reset_index(), folder / f"{name}.csv")
            _write_manifest(folder / "manifest.json", "calibrate", [run_dir], base,
                            {"human_n": human_n, "labelled": str(labelled) if labelled is not None else None,
                             "pilot": str(pilot) if pilot is not None else None,
                             "seed": seed, "validate": validate, "bootstrap": bootstrap,
                             "estimator": "PPI++ (ppi_py), 95% intervals", "conventions": CALIBRATION_NOTE,
                             "plan": plan, "budget": budget,
                             "target_width": target_width, "cost_human": cost_human, "cost_silicon": cost_silicon,
                             **_pending_settings([run_dir])})
    return tables


def _silicon_costs(run_dir: str | Path, cost_silicon: float | None, prices: str | Path | None) -> dict[str, float]:
    """The cost of one persona's answers per model: ``cost_silicon`` when given; else the run's tokens per
    persona at the ``prices`` table's rates; the embedded model costs nothing."""
    models = run_manifest(run_dir).get("models", {})
    if cost_silicon is not None:
        return {model: float(cost_silicon) for model in models}
    table = load_prices(prices)
    long = long_results(run_dir)
    costs = {}
    for model_id, entry in models.items():
        if entry.get("backend") == "embedded":
            costs[model_id] = 0.0
            continue
        price = table.get(entry.get("model")) or table.get(model_id)
        if price is None:
            raise SpecError(f"no price for model {model_id} ({entry.get('model')})", where="calibrate --plan",
                            fix="give --cost-silicon DOLLARS (one persona's answers) or --prices FILE naming it")
        rows = long[long["model"] == model_id]
        dollars = (rows["prompt_tokens"].fillna(0).sum() * price["input_per_million"]
                   + rows["completion_tokens"].fillna(0).sum() * price["output_per_million"]) / 1e6
        costs[model_id] = float(dollars / max(rows["persona_id"].nunique(), 1))
    return costs


def code(run_dir: str | Path, codebook: str | Path, *, model: dict | None = None,
         human_codes: str | Path | pd.DataFrame | None = None, keywords: bool = True, bootstrap: int = 1000,
         seed: int = 0, allow_incomplete: bool = False, output: str | Path | None = None,
         force: bool = False) -> dict[str, pd.DataFrame]:
    """Code a run's open-ended answers with a codebook, and say how far the coders agree.

    Coders: the codebook's keywords (:func:`~silicon_sample.comparison.open_ended.keyword_codes`, unless
    ``keywords`` is False), a model (``model``: a study's model entry, e.g. ``{"backend": "embedded",
    "answer_mode": "distribution"}``; :mod:`silicon_sample.runner.coding`), and human codes (a CSV or
    DataFrame with ``cell_id`` and ``code``). Returns ``codes`` (one row per text answer: its cell, persona,
    pair, item, text, each coder's code; the model's coding probabilities ``model_p_<code>``), ``agreement``
    (Krippendorff's alpha, nominal, with its bootstrap interval, every pair of coders and all of them) and
    ``shares`` (each code's weighted share per pair, item and coder). With ``output`` (a folder) the three
    are written there as CSV files with a manifest."""
    from .backends import create as create_backend
    from .comparison.open_ended import code_shares, coder_agreement, keyword_codes
    from .design.study import ModelSpec
    from .runner.coding import model_codes
    from .specs import codebooks

    require_complete(run_dir, allow_incomplete)
    book = codebooks.load(codebook)
    instruments = run_instruments(run_dir)
    long = long_results(run_dir)
    texts = long[long["item_id"].isin(book.items) & long["status"].eq("answered")]
    if "answer_text" not in long.columns or texts.empty:
        raise SpecError(f"the run has no answered open-ended item {', '.join(book.items)}", where=str(run_dir),
                        fix="code a run whose instrument has the codebook's text items (type: text)")
    frame = texts[["cell_id", "persona_id", *PAIR_COLUMNS, "weight", "item_id", "answer_text"]].rename(
        columns={"answer_text": "text"}).reset_index(drop=True)
    coders = []
    if keywords:
        coded = keyword_codes(frame["text"], book)
        frame["keywords"], frame["keywords_matched"] = coded["code"], coded["matched"]
        coders.append("keywords")
    if model is not None:
        spec = ModelSpec(**{"id": "coder", **model})
        questions = {it.id: i.render_item(it) for i in instruments.values() for it in i.items}
        with create_backend(spec.backend, spec.model, spec.options) as backend:
            coded = model_codes(frame, book, questions, backend, mode=spec.answer_mode,
                                temperature=spec.temperature, seed=seed)
        frame["model"] = coded["code"]
        frame = frame.join(coded.drop(columns=["code"]).add_prefix("model_"))
        coders.append("model")
    if human_codes is not None:
        human = human_codes if isinstance(human_codes, pd.DataFrame) else pd.read_csv(human_codes)
        missing = {"cell_id", "code"} - set(human.columns)
        if missing:
            raise SpecError(f"human codes need the columns cell_id and code (missing: {', '.join(sorted(missing))})",
                            where=str(human_codes) if not isinstance(human_codes, pd.DataFrame) else "human_codes",
                            fix="one row per coded answer: cell_id (as in the run's results), code")
        frame["human"] = frame["cell_id"].map(human.set_index("cell_id")["code"]).astype("Int64")
        coders.append("human")
    if len(coders) < 1:
        raise SpecError("no coder: keywords are off and neither a model nor human codes were given", where="code",
                        fix="give --model, --human, or leave the keyword coder on")
    agreement = coder_agreement(frame[coders], bootstrap=bootstrap, seed=seed) if len(coders) > 1 else \
        pd.DataFrame()
    shares = []
    for key, rows in frame.groupby([*PAIR_COLUMNS, "item_id"], sort=False):
        for coder in coders:
            share = code_shares(rows[coder], book.codes, rows["weight"])
            shares.append(pd.DataFrame({**dict(zip([*PAIR_COLUMNS, "item_id"], key)), "coder": coder,
                                        "code": share.index, "label": [book.label_of(c) for c in share.index],
                                        "share": share.to_numpy(), "n": int(rows[coder].notna().sum())}))
    result = {"codes": frame, "agreement": agreement, "shares": pd.concat(shares, ignore_index=True)}
    if output is not None:
        guard_output(output, "folder", analysis="code", inputs=[book.path], force=force)
        with folder_swapped(Path(output)) as folder:
            for name, table in result.items():
                _write_table(table.reset_index() if name == "agreement" else table, folder / f"{name}.csv")
            record = analysis_manifest("code", [run_dir], None, {
                "codebook": str(book.path), "coders": coders, "model": model, "bootstrap": bootstrap, "seed": seed,
                **_pending_settings([run_dir])})
            write_atomic(folder / "manifest.json", json.dumps(record, indent=2, default=str))
    return result


def drift(run_a: str | Path, run_b: str | Path, *, output: str | Path | None = None, allow_incomplete: bool = False,
          force: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two runs of the same study (another model version, another date) compared item by item and scale by
    scale, paired by respondent; a difference is flagged when it exceeds the test–retest noise (see
    :mod:`silicon_sample.comparison.drift`). Returns (the drift table, the model versions of each run).

    With ``output`` (a folder) ``drift.csv``, ``versions.csv`` and ``manifest.json`` are written there.
    """
    from .comparison.runs import drift_between_runs

    if output is not None:
        guard_output(output, "folder", analysis="drift", force=force)
    table, versions = drift_between_runs(run_a, run_b, allow_incomplete=allow_incomplete)
    if output is not None:
        with folder_swapped(Path(output)) as folder:
            _write_table(table.reset_index(), folder / "drift.csv")
            _write_table(versions.reset_index(), folder / "versions.csv")
            record = analysis_manifest("drift", [run_a, run_b], None, _pending_settings([run_a, run_b]))
            write_atomic(folder / "manifest.json", json.dumps(record, indent=2, default=str))
    return table, versions


def rank(run_dirs: list[str | Path], baseline: BaselineLike, *, subgroups: list[str] | None = None,
         invariance: bool = True, purpose: str = "all", bootstrap: int = 200, repetitions: int = 10,
         seed: int = 0, estimator: str | None = None, collapse_empty: bool = False,
         output: str | Path | None = None, allow_incomplete: bool = False, force: bool = False,
         human_n: int | None = None, labelled: str | Path | list | None = None, pilot: str | Path | None = None,
         validate: int = 0, missing: str = "auto") -> pd.DataFrame:
    """One row per (run, model, persona style, cue type): how well each pair stands in for the baseline's
    humans on normalized scores with intervals, ordered for ``purpose`` (levels, structure, subgroups or
    all), ties marked, with a one-line reading (see :mod:`silicon_sample.comparison.ranking`).

    ``purpose="calibration"`` ranks twin runs by how many humans each pair's silicon answers are worth beside
    ``human_n`` humans (or those ``labelled`` names): the gain of :func:`calibrate` with its bootstrap interval;
    with ``validate`` = K a pair whose PPI++ intervals cover less often than the humans' own is flagged, not
    ranked.

    With ``output`` (a CSV file) the ranking is written there, its manifest beside it as
    ``<stem>.manifest.json``. ``estimator``, ``collapse_empty`` and ``missing`` as in :func:`compare`.
    """
    from .comparison.runs import rank_calibration, rank_runs

    estimator = _estimator_option(estimator)
    missing = _missing_option(missing)
    base = load_baseline(baseline)
    if purpose not in ("levels", "structure", "subgroups", "all", "calibration"):
        raise SpecError(f"unknown purpose {purpose!r}", where="purpose",
                        fix="use levels, structure, subgroups, all or calibration")
    if purpose == "calibration" and sum(x is not None for x in (human_n, labelled, pilot)) != 1:
        raise SpecError("ranking for calibration needs the labelled sample, given one way",
                        where="rank --purpose calibration", fix="add --human-n N (or --labelled FILE, or --pilot FILE)")
    if output is not None:
        guard_output(output, "csv", inputs=[base.path], force=force)
        guard_output(ranking_manifest_path(output), "json", inputs=[base.path, output], force=force)
    if purpose == "calibration":
        table = rank_calibration(run_dirs, base, human_n=human_n, labelled=labelled, pilot=pilot, seed=seed,
                                 validate=validate, bootstrap=bootstrap, subgroups=subgroups,
                                 allow_incomplete=allow_incomplete)
        settings = {"purpose": purpose, "human_n": human_n, "labelled": str(labelled) if labelled else None,
                    "pilot": str(pilot) if pilot else None,
                    "validate": validate, "bootstrap": bootstrap, "seed": seed}
    else:
        table = rank_runs(run_dirs, base, subgroups=subgroups, invariance=invariance, purpose=purpose,
                          bootstrap=bootstrap, repetitions=repetitions, seed=seed, estimator=estimator,
                          collapse_empty=collapse_empty, allow_incomplete=allow_incomplete, missing=missing)
        settings = {"invariance": invariance, "purpose": purpose, "bootstrap": bootstrap,
                    "repetitions": repetitions, "seed": seed, "missing": missing,
                    **_estimator_settings(estimator, collapse_empty)}
    if output is not None:
        output = Path(output)
        _write_table(table.reset_index(), output)
        _write_manifest(ranking_manifest_path(output), "rank", list(run_dirs), base,
                        {**settings, **_pending_settings(run_dirs)})
    return table


def report(run_dirs: str | Path | list[str | Path], output: str | Path, *, baseline: BaselineLike | None = None,
           bayes: str | Path | None = None, invariance: bool = True, bootstrap: int = 200, repetitions: int = 10,
           seed: int = 0, estimator: str | None = None, allow_incomplete: bool = False, force: bool = False,
           human_n: int | None = None, validate: int = 0) -> ReportFile:
    """Write one self-contained HTML report of one or more runs to ``output`` (figures and styles embedded;
    it opens offline): design and an example prompt, sample composition, answers by status, distributions,
    persona effects beyond paraphrase noise (runs of a catalogue population with control personas:
    :func:`persona_effects`, ``bootstrap`` at least 200), and — with a ``baseline`` — reliability, invariance,
    fidelity between floors and ceiling, subgroup
    patterns, response styles and the ranking; ``bayes`` names a folder written by :func:`bayes` with
    ``output`` for the forest plot. The comparison settings are those of :func:`compare`. With ``human_n`` (twin
    runs: personas drawn from the baseline's respondents) the report adds how many humans the silicon answers are
    worth (:func:`calibrate`, ``validate`` labelled samples for the coverage). See
    :mod:`silicon_sample.report.html_report`."""
    from .comparison.ranking import rank_pairs
    from .comparison.runs import calibrate_run, compare_run, persona_effects_of_run
    from .report import html_report

    runs = [run_dirs] if isinstance(run_dirs, (str, Path)) else list(run_dirs)
    if not runs:
        raise SpecError("no run given", where="RUN_DIR", fix="name one or more run directories")
    base = load_baseline(baseline) if baseline is not None else None
    guard_output(output, "html", inputs=[base.path if base else None], force=force)
    estimator = _estimator_option(estimator)
    views, combined = [], {}
    for run_dir in runs:
        require_complete(run_dir, allow_incomplete)
        store = RunStore.open(run_dir)
        first = store.db.execute("SELECT cell_id FROM cells ORDER BY seq LIMIT 1").fetchone()[0]
        population = run_population(store)
        tables = None
        if base is not None:
            tables = compare_run(run_dir, base, invariance=invariance, bootstrap=bootstrap, repetitions=repetitions,
                                 seed=seed, estimator=estimator, allow_incomplete=allow_incomplete)
            for name, table in tables.items():
                combined.setdefault(name, []).append(pd.concat({Path(run_dir).name: table}, names=["run"]))
        views.append(html_report.run_view(run_dir, store.personas(), population.marginals() if population else {},
                                          tables, cell_prompts(run_dir, cell_id=first)[0]))
        store.close()
        if "persona_group" in views[-1].long.columns and (views[-1].long["persona_group"] == "control").any():
            views[-1].persona_effects = persona_effects_of_run(run_dir, seed=seed, bootstrap=max(bootstrap, 200),
                                                               allow_incomplete=allow_incomplete)
        if base is not None and human_n is not None:
            views[-1].calibration = calibrate_run(run_dir, base, human_n=human_n, seed=seed, validate=validate,
                                                  bootstrap=bootstrap, allow_incomplete=allow_incomplete)
    ranking = (rank_pairs({k: pd.concat(v) for k, v in combined.items()})
               if combined and not base.scale_level else None)
    effects, bayes_settings = None, {}
    if bayes is not None:
        folder = Path(bayes)
        if not (folder / "effects.csv").is_file():
            raise SpecError("not a bayes output folder (no effects.csv)", where=str(folder),
                            fix="give the folder of `silicon-sample bayes ... -o DIR`")
        effects = pd.read_csv(folder / "effects.csv")
        manifest = folder / "manifest.json"
        bayes_settings = json.loads(manifest.read_text(encoding="utf-8")).get("settings", {}) \
            if manifest.is_file() else {}
    settings = {"invariance": invariance, "bootstrap": bootstrap, "repetitions": repetitions, "seed": seed,
                "estimator": estimator or "auto"} if base is not None else {"baseline": "none"}
    if base is not None and human_n is not None:
        settings.update({"calibration humans": human_n, "validation draws": validate})
    page = html_report.render(html_report.ReportInputs(views, base, ranking, effects, bayes_settings, settings))
    written = ReportFile(output)
    write_atomic(written, page)
    if combined:
        written.verdict = verdict_lines({k: pd.concat(v) for k, v in combined.items()},
                                        f"{base.id} ({len(base.data):,} respondents)")
    return written


class ReportFile(Path):
    """The path of a written report, with ``verdict``: the lines ``compare`` prints first (each family's
    normalized score and floor, the reading), empty without a baseline."""

    verdict: list[str] = []


def _pending_settings(run_dirs) -> dict:
    """For an analysis manifest: the pending cells of each run analysed (0 for a finished run)."""
    return {"cells_pending": {str(r): int(pending_by_pair(r).sum()) for r in run_dirs}}


def ranking_manifest_path(output: str | Path) -> Path:
    """Where :func:`rank` writes the manifest of a ranking written to ``output``."""
    output = Path(output)
    return output.with_name(output.stem + ".manifest.json")


def bayes(run_dir: str | Path, baseline: BaselineLike, outcome: str, attribute: str, *, draws: int = 1000,
          tune: int = 1000, chains: int = 4, seed: int = 0, max_respondents: int | None = None,
          output: str | Path | None = None, allow_incomplete: bool = False,
          progress: bool = False, force: bool = False) -> OrdinalComparison:
    """Bayesian ordinal model: the effect of ``attribute`` on ``outcome`` (a scale or an item) in humans and
    in each silicon source, and their posterior differences (see
    :mod:`silicon_sample.comparison.ordinal_model`); ``progress`` shows PyMC's sampling progress.

    With ``output`` (a folder) ``effects.csv``, ``diagnostics.csv``, ``manifest.json``, the posterior
    (``posterior.nc``: the ArviZ InferenceData as netCDF, read back with ``arviz.from_netcdf``) and its trace
    plot (``trace.png``) are written there.
    """
    from .comparison.runs import ordinal_model_of_run

    base = load_baseline(baseline)
    if output is not None:
        guard_output(output, "folder", analysis="bayes", inputs=[base.path], force=force)
    result = ordinal_model_of_run(run_dir, base, outcome, attribute, draws=draws, tune=tune, chains=chains,
                                  seed=seed, max_respondents=max_respondents, allow_incomplete=allow_incomplete,
                                  progress=progress)
    if output is not None:
        with folder_swapped(Path(output)) as folder:
            _exports.write_posterior(result.posterior, folder)
            _write_table(result.effects.reset_index(), folder / "effects.csv")
            _write_table(result.diagnostics.reset_index(), folder / "diagnostics.csv")
            _write_manifest(folder / "manifest.json", "bayes", [run_dir], base,
                            {"outcome": outcome, "attribute": attribute, **result.settings,
                             "warnings": result.warnings, **_pending_settings([run_dir])})
    return result


def import_qsf(survey: str | Path, output: str | Path, *, instrument_id: str | None = None,
               overwrite: bool = False) -> dict:
    """Convert a Qualtrics survey (``.qsf``) into an instrument file at ``output`` (checked by loading it
    before it is written, and written whole): its Likert matrices and single-answer multiple-choice
    questions; returns ``items``, ``skipped`` (each question left out, with why), ``notes`` and ``path``.
    See :mod:`silicon_sample.specs.qsf_import`."""
    import tempfile

    import yaml

    from .specs.qsf_import import import_qsf as _import_qsf

    output = Path(output)
    if output.exists() and not overwrite:
        raise SpecError("the output file exists", where=str(output), fix="choose another -o, or give --force")
    guard_output(output, "yaml", inputs=[survey], force=overwrite)
    spec, skipped, notes = _import_qsf(survey, instrument_id)
    text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=110)
    with tempfile.TemporaryDirectory() as tmp:
        check = Path(tmp) / output.name
        check.write_text(text, encoding="utf-8")
        _instruments.load(check)                  # what would not load is refused before anything is written
    write_atomic(output, f"# Imported from {Path(survey).name} by silicon-sample import-qsf; review the "
                         "instructions, scales and keys.\n" + text)
    return {"items": len(spec["items"]), "skipped": skipped, "notes": notes, "path": output}


# -- loading and listing spec files ------------------------------------------------------------------
def baseline_init(data_file: str | Path, instrument: str | Path, output: str | Path, *, force: bool = False
                  ) -> dict:
    """Draft a human baseline from the user's own data file (CSV, SPSS ``.sav``, Stata ``.dta`` or Parquet):
    ``output`` (the baseline, e.g. ``mine.yaml``) and its population beside it (``mine.population.yaml``),
    from the file's variable and value labels (:mod:`silicon_sample.population.baseline_init`). Both are
    loaded before they are written, so ``compare`` and ``report`` accept them at once; returns ``baseline``,
    ``population`` (the paths), ``respondents``, ``items`` (item → column), ``attributes`` and ``notes`` (what
    the user should review)."""
    import os

    import yaml

    from .population.baseline_init import draft_baseline
    from .specs import resources

    data_file, output = Path(data_file), Path(output)
    if not data_file.exists():
        raise SpecError("data file not found", where=str(data_file), fix="check the path")
    data_file = resources.check_readable(data_file, what="data")
    population_path = output.with_name(f"{output.stem}.population.yaml")
    for target in (output, population_path):
        if target.exists() and not force:
            raise SpecError("the output file exists", where=str(target), fix="choose another -o, or give --force")
        guard_output(target, "yaml", inputs=[data_file], force=force)
    inst = load_instrument(instrument)
    name = re.sub(r"[^A-Za-z0-9_]", "_", output.stem)
    name = name if re.match(r"[A-Za-z]", name) else f"b_{name}"
    relative = os.path.relpath(data_file, output.parent.resolve())
    population, baseline, notes = draft_baseline(data_file, inst, name, population_path.name, relative)
    if resources.looks_like_path(str(instrument)):
        baseline["instrument"] = os.path.relpath(inst.path, output.parent.resolve())
    header = "# Drafted by silicon-sample baseline init from {}: review it (notes at the end).\n"
    before = {path: path.read_bytes() if path.exists() else None for path in (population_path, output)}
    for path, spec in ((population_path, population), (output, baseline)):
        write_atomic(path, header.format(data_file.name) + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True,
                                                                          width=110)
                     + "".join(f"# note: {n}\n" for n in (notes if path == output else [])))
    try:                   # loaded where they are, relative paths and all: what does not load is not left behind
        loaded = _baselines.load(output)
    except BaseException:
        for path, old in before.items():
            path.unlink(missing_ok=True) if old is None else path.write_bytes(old)
        raise
    return {"baseline": output, "population": population_path, "respondents": len(loaded.data),
            "items": {item.id: baseline.get("items", {}).get(item.id, item.id) for item in inst.items},
            "attributes": list(population["attributes"]), "notes": notes}


def load_study(path: str | Path, *, n: int | None = None) -> Study:
    """A study file with every file it names resolved and validated; ``n`` overrides its sample size."""
    return _load_study(path, n=n)


def load_instrument(name_or_path: str | Path) -> Instrument:
    """An instrument by shipped name (``"bfi25"``) or path."""
    return _instruments.load(name_or_path)


def load_population(name_or_path: str | Path) -> Population:
    """A population by shipped name (``"us_adults_gss2018"``) or path; ``.sample(n, seed=...)`` draws personas."""
    return _populations.load(name_or_path)


def load_baseline(baseline: BaselineLike) -> Baseline:
    """A human baseline by shipped name or path (a loaded :class:`Baseline` is returned as it is)."""
    return _baselines.load(baseline)


def instruments() -> list[Instrument]:
    """Every shipped instrument, loaded."""
    return [_instruments.load(name) for name in _instruments.available()]


def populations() -> list[Population]:
    """Every shipped population, loaded (``silicon-sample populations`` prints them)."""
    return [_populations.load(name) for name in _populations.available()]


# -- writing ------------------------------------------------------------------------------------------
def _write_table(frame: pd.DataFrame, path: str | Path, *, formula_guard: bool = True) -> None:
    """Write a CSV file atomically (never half-written), text cells a spreadsheet would run as formulas
    prefixed with ``'`` unless ``formula_guard`` is off (:func:`~silicon_sample.text_safety.formula_safe`)."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise SpecError("output folder does not exist", where=str(path.parent), fix="create it first")
    write_atomic(path, (_exports.formula_safe_frame(frame) if formula_guard else frame).to_csv(index=False))


def bench(*, quick: bool = False, memory_calls: int = 0, load_calls: int = 0, design: bool = False,
          dask: bool = False, million: bool = False, analysis: bool = False) -> dict:
    """Throughput on this machine beside the ceilings measured in the same process: hosted calls against a
    loopback OpenAI-compatible server (ours vs a bare AsyncOpenAI loop, at 64 and 256 in flight) and the
    embedded model (items per second vs the forward-pass limit); see :mod:`silicon_sample.throughput.measure`.
    ``quick`` shrinks every measurement to seconds; ``memory_calls`` adds a run of that many calls whose
    resident memory is reported at 10 % and at 100 %; ``load_calls`` a load test of that many calls against a
    server failing 5 % (HTTP 500), 2 % (429) and 1 % (time-out) of them: every cell's status, tracebacks
    printed (none expected) and resident memory; ``design`` the peak memory of writing the run store of a
    10,000- and a 100,000-persona study (cells streamed); ``dask`` the embedded model's answers per second on a
    LocalCluster of one single-threaded worker per core beside as many times its single-thread rate;
    ``million`` a run store of a million synthetic answers: its insert rate beside a bare SQLite insert, and the
    seconds and peak memory of exporting it (CSV, Parquet; long, wide) and of its per-item comparison;
    ``analysis`` the seconds of ``compare`` and ``rank`` on the pilot and the controls replica (human-like answers)
    beside R's lavaan and psych doing the same fits (:mod:`silicon_sample.throughput.analysis_speed`)."""
    from .throughput.measure import run_bench

    return run_bench(quick=quick, memory_calls=memory_calls, load_calls=load_calls, design=design, dask=dask,
                     million=million, analysis=analysis)


def _estimator_option(estimator: str | None) -> str | None:
    """``estimator`` checked: one of ML, MLR, WLSMV (any case), or None/"auto" for the per-pair choice."""
    from .psychometrics.estimator_choice import ESTIMATORS

    if estimator is None or str(estimator).lower() == "auto":
        return None
    if str(estimator).upper() not in ESTIMATORS:
        raise SpecError(f"unknown estimator {estimator!r}", where="estimator",
                        fix="use " + ", ".join(ESTIMATORS) + " or auto (chosen per pair from the answers)")
    return str(estimator).upper()


def _missing_option(missing: str) -> str:
    """``missing`` of the comparisons checked: ``auto`` (FIML for ML/MLR, pairwise for WLSMV) or ``listwise``."""
    value = str(missing).lower()
    if value not in ("auto", "listwise"):
        raise SpecError(f"unknown missing={missing!r}", where="missing",
                        fix="use auto (full-information ML for ML/MLR, pairwise for WLSMV, as lavaan) or listwise")
    return value


def _estimator_settings(estimator: str | None, collapse_empty: bool) -> dict:
    from .psychometrics.estimator_choice import MAX_ORDINAL_CATEGORIES

    rule = (f"auto: WLSMV where an item has at most {MAX_ORDINAL_CATEGORIES} options or answers, else MLR "
            "(Rhemtulla, Brosseau-Liard & Savalei 2012); each table names the estimator it used")
    return {"estimator": estimator or rule, "collapse_empty": collapse_empty}


def persona_effects(run_dir: str | Path, *, outcomes: list[str] | None = None, seed: int = 0, bootstrap: int = 2000,
                    top_share: float = 0.1, output: str | Path | None = None, allow_incomplete: bool = False,
                    force: bool = False) -> dict[str, pd.DataFrame]:
    """Do named personas move answers beyond paraphrase noise? The tests of Araujo & Roth (2025) on a run of a
    catalogue population with control personas (e.g. ``studies/persona_behavior.yaml``;
    :mod:`silicon_sample.comparison.persona_effects`).

    ``outcomes``: scale ids, item ids, ``refused``, ``invalid`` (default: every scale, each item of an instrument
    without scales, and both rates). Tables:
    ``personas`` (each persona's outcome with its interval), ``categories`` (each category beside the controls
    and the empty persona), ``variation`` (SD across personas over SD across control paraphrases, with a
    bootstrap interval, per category), ``within_tests`` (Friedman or Cochran's Q among personas and among
    controls), ``refusals`` (each category's refusal and invalid rates against the controls', Holm-adjusted),
    ``agreement`` (Kendall's τ between every two models, W across three or more) and ``extremes`` (the personas
    at the top or bottom for every model). ``seed`` and ``bootstrap`` fix the resamples. With ``output`` (a
    folder) every table is written as CSV with a ``manifest.json``.
    """
    from .comparison.runs import persona_effects_of_run

    if output is not None:
        guard_output(output, "folder", analysis="personas", inputs=[], force=force)
    tables = persona_effects_of_run(run_dir, outcomes=outcomes, seed=seed, bootstrap=bootstrap, top_share=top_share,
                                    allow_incomplete=allow_incomplete)
    if output is not None:
        with folder_swapped(Path(output)) as folder:
            for name, table in tables.items():
                _write_table(table, folder / f"{name}.csv")
            _write_manifest(folder / "manifest.json", "personas", [run_dir], None,
                            {"outcomes": outcomes, "seed": seed, "bootstrap": bootstrap, "top_share": top_share,
                             "conventions": PERSONA_EFFECTS_NOTE, **_pending_settings([run_dir])})
    return tables


def _write_manifest(path: Path, analysis: str, runs: list, baseline: Baseline | None, settings: dict) -> None:
    record = analysis_manifest(analysis, runs, baseline, settings)
    write_atomic(path, json.dumps(record, indent=2, default=str))


__all__ = ["BaselineLike", "baseline_init", "bayes", "bench", "calibrate", "code", "compare", "dry_run", "export",
           "instruments", "load_baseline", "load_instrument", "load_population", "load_study", "persona_effects",
           "populations", "rank",
           "ranking_manifest_path", "results", "resume", "run", "status", "validate"]
