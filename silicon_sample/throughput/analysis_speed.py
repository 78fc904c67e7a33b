"""``silicon-sample bench --analysis``: how long ``compare`` and ``rank`` take, beside R's lavaan and psych doing
the same fits on the same machine.

Two runs are built with human-like answers (no model is run: the analysis is what is timed):

- **pilot** — ``studies/pilot_bfi.yaml``: 100 quota personas × bfi25 (2,500 cells);
- **controls** — ``studies/replica_bfi_controls.yaml`` with 60 personas × 3 persona styles (4,500 cells).

Each persona answers as one psych::bfi respondent would: its own ``source_row`` when the population has one,
else a respondent of its stratum (gender × age band × education) drawn with the seed; a blank is answered
by a uniform draw; under the second and later persona styles each answer moves one option up or down with
probability 0.3 (the styles differ as a model's do). Option probabilities put 0.7 on the answer.

Each command runs in a process of its own (:func:`.million.timed_command`): ``compare RUN --baseline psych_bfi``
and ``rank RUN --baseline psych_bfi`` with their defaults (anchors with 200 bootstrap resamples, 10 repetitions,
invariance with the estimator chosen per pair, missing answers by full-information ML).

**The ceiling**: ``analysis/reference/analysis_speed.R`` (``Rscript``, when installed) times lavaan and psych
fitting what the anchored comparison fits for every pair — the invariance sequence silicon vs humans (configural,
metric, scalar, strict; MLR, missing = "ml") and again for n humans against the others (the invariance ceiling),
and psych's one-factor ML loadings (``fa(fm = "ml")``) of each scale for the pair, its 20 structure resamples,
3 uniform floors, 3 marginal floors and 3 human splits (both halves) — and prints the seconds. The bench
reports ``ours / R``: below 1 is faster than the reference tools doing only their fits. Without R the figure
is missing and ``analysis_r`` says why.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..specs import resources
from .million import synthetic_run, timed_command

R_SCRIPT = Path(__file__).resolve().parents[2] / "analysis" / "reference" / "analysis_speed.R"
STRATUM = ("gender", "age_band", "education")


def human_like_answer(study_path: Path, n: int | None, seed: int):
    """``answer(cell, rng)`` for :func:`.million.synthetic_run`: each persona answers as a psych::bfi respondent
    (module docstring)."""
    from ..design.cells import draw_personas
    from ..design.study import load_study
    from ..population import baselines

    human = baselines.load("psych_bfi").data.reset_index(drop=True)
    study = load_study(study_path, n=n)
    personas, _ = draw_personas(study)
    rng = np.random.default_rng(seed)
    respondent = {}
    for persona in personas.to_dict(orient="records"):
        if "source_row" in persona and pd.notna(persona.get("source_row")):
            respondent[persona["persona_id"]] = int(persona["source_row"]) % len(human)
            continue
        pool = human
        for depth in range(len(STRATUM), -1, -1):
            keys = [k for k in STRATUM[:depth] if k in persona and k in human]
            pool = human[np.logical_and.reduce([human[k] == persona[k] for k in keys])] if keys else human
            if len(pool):
                break
        respondent[persona["persona_id"]] = int(rng.choice(pool.index.to_numpy()))
    styles = {template.name: i for i, template in enumerate(study.persona_templates)}

    def answer(cell: dict, draw: np.random.Generator) -> tuple[int, dict[int, float]]:
        value = human.at[respondent[cell["persona_id"]], cell["item_id"]]
        value = int(draw.integers(1, 7)) if pd.isna(value) else int(value)
        if styles.get(cell["persona_style"], 0) and draw.random() < 0.3:
            value = int(np.clip(value + draw.choice([-1, 1]), 1, 6))
        probabilities = {k: (0.7 if k == value else 0.06) for k in range(1, 7)}
        return value, probabilities

    return answer


DESIGNS = {"pilot": ("pilot_bfi.yaml", None), "controls": ("replica_bfi_controls.yaml", 60)}


def r_seconds(run: Path, folder: Path) -> tuple[float | None, str]:
    """Seconds lavaan and psych take for the fits of the anchored comparison of ``run`` (module docstring), or
    (None, why not)."""
    if not shutil.which("Rscript"):
        return None, "R is not installed (apt-get install r-base-core r-cran-lavaan r-cran-semtools r-cran-psych)"
    if not R_SCRIPT.exists():
        return None, f"{R_SCRIPT} is not here (run the bench from a checkout of the repository)"
    from ..population import baselines
    from ..tidy.results import wide_results

    silicon = folder / "silicon.csv"
    wide_results(run).to_csv(silicon, index=False)
    human = folder / "human.csv"
    baselines.load("psych_bfi").data.to_csv(human, index=False)
    done = subprocess.run(["Rscript", str(R_SCRIPT), str(silicon), str(human)], capture_output=True, text=True,
                          timeout=3600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("seconds\t")]
    if done.returncode or not lines:
        return None, f"the R script failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else '?'}"
    return float(lines[-1].split("\t")[1]), "lavaan " + next(
        (line.split("\t")[1] for line in done.stdout.splitlines() if line.startswith("lavaan\t")), "?")


def analysis_speed(folder: Path, seed: int = 0, designs: dict | None = None) -> dict:
    """Seconds of ``compare`` and ``rank`` on each design (default :data:`DESIGNS`: name → (study file, personas
    or None for the study's own)), R's seconds for the same fits and their ratio."""
    out: dict = {}
    for name, (file, n) in (designs or DESIGNS).items():
        study = resources.data_dir("studies") / file
        run = folder / f"analysis-{name}" / "run"
        synthetic_run(study, run, seed=seed, answer=human_like_answer(study, n, seed), n=n)
        compare_s, compare_mb, code = timed_command("compare", str(run), "--baseline", "psych_bfi", "-o",
                                                    str(folder / f"analysis-{name}-tables"))
        rank_s, rank_mb, rank_code = timed_command("rank", str(run), "--baseline", "psych_bfi")
        started = time.perf_counter()
        r_s, r_note = r_seconds(run, folder)
        out[name] = {"compare_s": compare_s, "compare_exit_code": code, "compare_peak_mb": compare_mb,
                     "rank_s": rank_s, "rank_exit_code": rank_code, "r_fits_s": r_s, "r": r_note,
                     "compare_ratio_to_r": compare_s / r_s if r_s else None,
                     "rank_ratio_to_r": rank_s / r_s if r_s else None,
                     "r_wall_s": time.perf_counter() - started}
    first = next(iter(out.values()))
    return {"analysis": out, "analysis_r": first["r"], "analysis_compare_ratio_to_r": first["compare_ratio_to_r"],
            "analysis_controls_rank_s": out["controls"]["rank_s"] if "controls" in out else None}


if __name__ == "__main__":      # python -m silicon_sample.throughput.analysis_speed FOLDER
    import sys

    print(json.dumps(analysis_speed(Path(sys.argv[1])), indent=2))
