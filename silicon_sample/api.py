"""The Python API, for notebooks and scripts; the CLI calls these functions.

>>> import silicon_sample as ss
>>> run = ss.run("studies/pilot_bfi.yaml", "runs/pilot", n=10)      # doctest: +SKIP
>>> ss.results(run.dir, wide=True).head()                            # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import instruments, populations
from .errors import SiliconSampleError, SpecError
from .results import long_results, wide_results
from .run_store import RunStore, write_atomic
from .runner import ProgressCallback, resume_run, start_run
from .spec_files import read_yaml
from .study import load_study


def run(study: str | Path, out: str | Path, *, n: int | None = None,
        progress: ProgressCallback | None = None, fresh: bool = False) -> RunStore:
    """Run a study file into a new run directory ``out``; ``n`` overrides its sample size.

    ``fresh`` bypasses the shared response cache of server backends.
    """
    return start_run(study, out, n=n, progress=progress, fresh=fresh)


def dry_run(study: str | Path, *, n: int | None = None, prices: str | Path | None = None) -> pd.DataFrame:
    """Calls, estimated tokens and cost per model, before any call is made (see :mod:`dry_run`)."""
    from .dry_run import estimate

    return estimate(study, n=n, prices=prices)


def resume(run_dir: str | Path, *, progress: ProgressCallback | None = None) -> RunStore:
    """Finish an interrupted run; answered cells are not sent again."""
    return resume_run(run_dir, progress=progress)


def status(run_dir: str | Path) -> dict:
    """Counts by model and status, sessions, and whether a process holds the run."""
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
            "pending": int(counts["pending"].sum()), "sessions": store.sessions().to_dict(orient="records"),
            "in_use": in_use}


def results(run_dir: str | Path, *, wide: bool = False) -> pd.DataFrame:
    """Tidy results: long (one row per cell) or wide (one row per persona × model × replicate)."""
    store = RunStore.open(run_dir)
    return wide_results(store) if wide else long_results(store)


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a CSV file atomically (never half-written)."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise SpecError("output folder does not exist", where=str(path.parent), fix="create it first")
    write_atomic(path, frame.to_csv(index=False))


def compare(run_dir: str | Path, baseline: str | Path, *, subgroups: list[str] | None = None,
            invariance: bool = True, tolerance: float = 0.2) -> dict[str, pd.DataFrame]:
    """Every comparison table of a run against a human baseline (see :mod:`silicon_sample.compare`)."""
    from .compare import compare as compare_run

    return compare_run(run_dir, baseline, subgroups=subgroups, invariance=invariance, tolerance=tolerance)


def shipped_populations() -> list[populations.Population]:
    """Every shipped population, loaded (for listing)."""
    return [populations.load(name) for name in populations.available()]


def validate(path: str | Path) -> str:
    """Validate an instrument, population or study file; return a one-line description."""
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError("expected a mapping at the top level", where=str(path))
    if "instrument" in data and "data" in data:
        from . import baselines

        base = baselines.load(path)
        return (f"ok: human baseline {base.id} ({len(base.data)} respondents, instrument {base.instrument.id}, "
                f"population {base.population.id}; values not an option: {base.report['not_an_option'] or 'none'})")
    if "items" in data:
        inst = instruments.load(path)
        return f"ok: instrument {inst.id} ({len(inst.items)} items, {len(inst.scoring.scales)} scales)"
    if "attributes" in data:
        pop = populations.load(path)
        return f"ok: population {pop.id} ({pop.kind}; {', '.join(pop.attribute_names)}; {pop.report})"
    if "models" in data:
        study = load_study(path)
        renderings = len(study.persona_templates) * len(study.cue_types)
        return (f"ok: study {study.id} ({study.n} personas × {renderings} rendering(s) × "
                f"{sum(len(i.items) for i in study.instruments)} items × {len(study.models)} model(s))")
    raise SpecError("cannot tell what kind of file this is (no `items`, `attributes` or `models`)", where=str(path),
                    fix="give an instrument, population or study file")


def ordinal_model(run_dir: str | Path, baseline: str | Path, outcome: str, attribute: str, *, draws: int = 1000,
                  tune: int = 1000, chains: int = 4, seed: int = 0, max_respondents: int | None = None):
    """Bayesian ordinal model: the effect of ``attribute`` on ``outcome`` in humans and in each silicon
    source, and their posterior differences (see :mod:`silicon_sample.comparison.ordinal_model`)."""
    from .compare import ordinal_model_comparison

    return ordinal_model_comparison(run_dir, baseline, outcome, attribute, draws=draws, tune=tune, chains=chains,
                                    seed=seed, max_respondents=max_respondents)


def rank(run_dirs: list[str | Path], baseline: str | Path, *, subgroups: list[str] | None = None,
         invariance: bool = True, sort_by: str = "representativeness") -> pd.DataFrame:
    """One row per (run, model, persona style, cue type): how well each pair stands in for the baseline's
    humans, sorted, with a one-line reading (see :mod:`silicon_sample.comparison.ranking`)."""
    from .compare import rank as rank_runs

    return rank_runs(run_dirs, baseline, subgroups=subgroups, invariance=invariance, sort_by=sort_by)


def load_baseline(name_or_path: str | Path):
    """A human baseline by shipped name or path (see :mod:`silicon_sample.baselines`)."""
    from . import baselines

    return baselines.load(name_or_path)


def write_analysis_manifest(path: str | Path, analysis: str, runs: list, baseline, settings: dict) -> None:
    """Write the manifest of a comparison beside its tables (see :func:`manifest.analysis_manifest`)."""
    import json

    from . import baselines
    from .manifest import analysis_manifest

    record = analysis_manifest(analysis, runs, baselines.load(baseline), settings)
    write_atomic(Path(path), json.dumps(record, indent=2, default=str))
