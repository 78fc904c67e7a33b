"""The analysis bench: human-like runs, compare and rank timed in processes of their own, R's ceiling or why not."""

from __future__ import annotations

import numpy as np
import pytest

from silicon_sample.design.cells import draw_personas
from silicon_sample.design.study import load_study
from silicon_sample.population import baselines
from silicon_sample.specs import resources
from silicon_sample.throughput.analysis_speed import analysis_speed, human_like_answer, r_seconds
from silicon_sample.throughput.million import synthetic_run
from silicon_sample.tidy.results import wide_results


def test_human_like_runs_answer_as_their_respondents(tmp_path):
    """Under the first style each persona gives its source respondent's answers (a blank drawn anew); under the
    others about 30 % of the answers move one option."""
    study = resources.data_dir("studies") / "replica_bfi_controls.yaml"
    run = tmp_path / "run"
    synthetic_run(study, run, answer=human_like_answer(study, 12, 0), n=12)
    wide = wide_results(run)
    human = baselines.load("psych_bfi").data.reset_index(drop=True)
    items = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]
    personas, _ = draw_personas(load_study(study, n=12))        # the run's personas: the same seed
    first = wide[wide["persona_style"] == "profile_list"].sort_values("persona_id")
    assert len(first) == 12
    rows = first.merge(personas[["persona_id", "source_row"]], on="persona_id")
    answers = human.loc[rows["source_row"].to_numpy(), items].to_numpy(dtype=float)
    given = rows[items].to_numpy(dtype=float)
    known = ~np.isnan(answers)
    assert (given[known] == answers[known]).all()
    other = wide[wide["persona_style"] == "none"].sort_values("persona_id")
    moved = (other[items].to_numpy(dtype=float) != first[items].to_numpy(dtype=float))[known]
    assert 0.15 < moved.mean() < 0.35


def test_without_rscript_the_bench_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    seconds, why = r_seconds(tmp_path, tmp_path)
    assert seconds is None and "R is not installed" in why


@pytest.mark.slow
def test_compare_and_rank_are_timed_on_a_small_pilot(tmp_path, monkeypatch):
    import shutil
    import sys

    from silicon_sample.report.terminal import bench_view

    bin_dir = tmp_path / "bin"          # a PATH with this interpreter but no Rscript
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:{'/'.join(sys.executable.split('/')[:-1])}")
    assert shutil.which("Rscript") is None
    figures = analysis_speed(tmp_path, designs={"pilot": ("pilot_bfi.yaml", 20)})
    row = figures["analysis"]["pilot"]
    assert row["compare_exit_code"] == 0 and row["rank_exit_code"] == 0
    assert row["compare_s"] > 0 and row["rank_s"] > 0 and row["r_fits_s"] is None
    assert (tmp_path / "analysis-pilot-tables" / "anchors.csv").exists()
    line = next(t for t in bench_view({**_empty_bench(), **figures}).splitlines() if t.startswith("analysis"))
    assert "compare" in line and "no R ceiling: R is not installed" in line


def _empty_bench() -> dict:
    return {"hosted": [], "distribution_items_per_s": 1.0, "sample_items_per_s": 1.0, "limit_items_per_s": 1.0,
            "forward_tokens_per_s": 1.0, "prompt_tokens_per_response": 1.0, "distribution_ratio_to_limit": 1.0,
            "shared_items_per_s": 1.0, "shared_threads": 1, "shared_ratio": 1.0, "peak_rss_mb": 1.0}
