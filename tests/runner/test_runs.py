"""Whole runs through the CLI on the real embedded model: run, status, export, resume after a kill."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from silicon_sample.backends.embedded import model_path
from silicon_sample.files import file_sha256, text_sha256
from silicon_sample.specs import instruments

from support.studies import FIXTURES, ROOT, cli, write_study

VOLATILE = ["latency_s"]  # wall-clock time differs between runs; everything else must not


@pytest.fixture(scope="module")
def pilot_run(tmp_path_factory):
    """A small run of the shipped pilot study (--n 3), made through the CLI."""
    out = tmp_path_factory.mktemp("pilot") / "run"
    result = cli("run", ROOT / "studies" / "pilot_bfi.yaml", "--out", out, "--n", "3")
    assert result.returncode == 0, result.stderr
    return out, result


@pytest.mark.slow
def test_run_writes_study_copy_manifest_and_every_response(pilot_run):
    out, result = pilot_run
    assert (out / "study.yaml").read_text() == (ROOT / "studies" / "pilot_bfi.yaml").read_text()
    assert f"results: {out / 'results.csv'}" in result.stdout and "summary:" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    model = manifest["models"]["smollm2-135m"]
    assert model["model_sha256"] == file_sha256(model_path())
    assert manifest["seeds"]["study_seed"] == 20261123
    warnings = manifest["design"].pop("sampling_warnings")
    assert manifest["design"] == {"n_personas": 3, "n_cells": 75, "sampling_method": "quota", "strata": None,
                                  "item_order": "random", "persona_styles": ["profile_list"],
                                  "cue_types": ["explicit"], "perturbations": {"original": "the instrument as written"},
                                  "presentation": {"bfi25": {"mode": "independent", "block_order": "random",
                                                             "blocks": None}}}
    assert len(warnings) == 1 and warnings[0].startswith("no persona drawn for age_band = ")      # one line
    assert "; education = " in warnings[0]
    assert "3 personas cannot cover the 7 categories of one attribute" in warnings[0]
    assert all(f"warning: {w}" in result.stderr for w in warnings)      # 3 personas cannot cover 7 age bands
    assert manifest["population"]["report"]["left_out_missing_by_attribute"] == {"education": 223}
    layout_text = (ROOT / "templates" / "prompts" / "questionnaire.yaml").read_text()
    assert manifest["prompt_layout"]["sha256"] == file_sha256(ROOT / "templates" / "prompts" / "questionnaire.yaml")
    assert manifest["prompt_layout"]["distribution_prefill"] in layout_text
    template = (ROOT / "templates" / "personas" / "profile_list.j2").read_text()
    assert manifest["persona_templates"] == [{"name": "profile_list", "sha256": text_sha256(template),
                                              "text": template}]
    assert manifest["created_with"]["packages"]["llama-cpp-python"] == "0.3.36"
    assert manifest["sessions"][0]["outcome"] == "completed"
    summary = (out / "summary.md").read_text()
    assert "## Reliability" in summary and "omega not computed" in summary  # 3 personas: too few for omega
    assert "ordinal_alpha" in summary and "estimator" in summary and "WLSMV" in summary  # 3 personas: ≤ 4 values
    with sqlite3.connect(out / "responses.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 75
        assert db.execute("SELECT COUNT(DISTINCT cell_id) FROM responses").fetchone()[0] == 75


@pytest.mark.slow
def test_long_export_has_one_valid_row_per_cell(pilot_run, tmp_path):
    out, _ = pilot_run
    target = tmp_path / "long.csv"
    result = cli("export", out, "--format", "csv", "-o", target)
    assert result.returncode == 0, result.stderr
    long = pd.read_csv(target)
    assert len(long) == 75
    assert not long.duplicated(["persona_id", "model", "instrument", "item_id", "replicate"]).any()
    for column in ["persona_id", "age_band", "gender", "education", "model", "instrument", "item_id", "position",
                   "answer", "status", "p_1", "p_6", "option_mass", "raw_output", "latency_s"]:
        assert column in long.columns
    assert (long["status"] == "answered").all()
    assert long["answer"].between(1, 6).all()
    p = long[[f"p_{k}" for k in range(1, 7)]].to_numpy()
    assert np.allclose(p.sum(axis=1), 1.0)
    # Each persona saw the 25 items once each, at positions 1..25, in its own seeded order.
    orders = long.sort_values("position").groupby("persona_id")["item_id"].apply(tuple)
    assert all(sorted(long[long.persona_id == pid]["position"]) == list(range(1, 26)) for pid in orders.index)
    assert orders.nunique() == 3


@pytest.mark.slow
def test_wide_export_scores_scales_by_psych_keys(pilot_run, tmp_path):
    out, _ = pilot_run
    target = tmp_path / "wide.csv"
    assert cli("export", out, "--format", "csv", "--wide", "-o", target).returncode == 0
    wide = pd.read_csv(target)
    assert len(wide) == 3
    bfi = instruments.load("bfi25")
    for scale, keys in bfi.keys().items():
        expected = np.mean([7 - wide[k[1:]] if k.startswith("-") else wide[k] for k in keys], axis=0)
        assert np.allclose(wide[scale], expected)


@pytest.mark.slow
def test_status_reports_a_complete_run(pilot_run):
    out, _ = pilot_run
    result = cli("status", out)
    assert result.returncode == 0
    assert "state: complete" in result.stdout and "75" in result.stdout


def _comparable(run_dir):
    frame = pd.read_csv(run_dir / "results.csv").drop(columns=VOLATILE)
    return frame.sort_values("cell_id").reset_index(drop=True)


@pytest.mark.slow
def test_same_seed_gives_identical_results(pilot_run, tmp_path):
    out, _ = pilot_run
    again = tmp_path / "again"
    assert cli("run", ROOT / "studies" / "pilot_bfi.yaml", "--out", again, "--n", "3").returncode == 0
    pd.testing.assert_frame_equal(_comparable(out), _comparable(again))


@pytest.mark.slow
def test_killed_run_resumes_to_every_cell_answered_once_and_matches_an_uninterrupted_run(tmp_path):
    study = write_study(tmp_path, n=6, seed=99)
    killed = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-m", "silicon_sample", "run", str(study), "--out", str(killed)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    answered = 0
    while time.monotonic() < deadline and answered < 40:
        time.sleep(0.2)
        if (killed / "responses.sqlite").exists():
            with sqlite3.connect(killed / "responses.sqlite", timeout=5) as db:
                answered = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert answered >= 40
    status = cli("status", killed)
    assert "state: incomplete" in status.stdout and "resume" in status.stdout
    with sqlite3.connect(killed / "responses.sqlite") as db:
        before = dict(db.execute("SELECT cell_id, value FROM responses").fetchall())
    assert 40 <= len(before) < 150

    result = cli("resume", killed)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(killed / "responses.sqlite") as db:
        rows = db.execute("SELECT cell_id, value, session FROM responses").fetchall()
        n_cells = db.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
    assert n_cells == 150 and len(rows) == 150 and len({r[0] for r in rows}) == 150
    assert {r[0]: r[1] for r in rows if r[0] in before} == before       # answered cells were not redone
    assert {r[2] for r in rows} == {1, 2}
    assert "state: complete" in cli("status", killed).stdout

    straight = tmp_path / "straight"
    assert cli("run", study, "--out", straight).returncode == 0
    pd.testing.assert_frame_equal(_comparable(killed), _comparable(straight))


@pytest.mark.slow
def test_sample_mode_run_through_the_api(tmp_path):
    import silicon_sample as ss

    store = ss.run(write_study(tmp_path, n=2, mode="sample", temperature=0.7), tmp_path / "run")
    long = ss.results(store.dir)
    assert len(long) == 50 and (long["status"] == "answered").all()
    assert long["answer"].between(1, 6).all()
    assert long["raw_output"].map(lambda r: json.loads(r)["answer"]).equals(long["answer"].astype(int))
    assert long["p_1"].isna().all()


@pytest.mark.parametrize("args, needle", [
    (["run", "no_such_study.yaml", "--out", "x"], "study file not found"),
    (["resume", "no_such_run"], "run directory not found"),
    (["status", "."], "not a silicon-sample run"),
    (["run", "STUDY", "--out", "x", "--n", "0"], "--n must be a positive whole number"),
])
def test_user_errors_are_one_line_without_traceback(tmp_path, args, needle):
    study = write_study(tmp_path, n=1)
    args = [str(study) if a == "STUDY" else a for a in args]
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and needle in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_existing_output_is_refused_and_kept(pilot_run):
    out, _ = pilot_run
    before = (out / "responses.sqlite").stat().st_mtime
    result = cli("run", ROOT / "studies" / "pilot_bfi.yaml", "--out", out, "--n", "3")
    assert result.returncode == 2 and "already exists" in result.stderr and "resume" in result.stderr
    assert (out / "responses.sqlite").stat().st_mtime == before


def test_debug_shows_the_traceback(tmp_path):
    result = cli("--debug", "resume", "no_such_run", cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" in result.stderr


MINI5 = str(FIXTURES / "mini5.yaml")


@pytest.mark.slow
def test_persona_styles_and_cue_types_are_crossed_within_personas(tmp_path):
    import silicon_sample as ss

    styles = ["profile_list", "third_person_bio", "first_person_backstory", "interview_qa"]
    study = write_study(tmp_path, n=2, instruments=(MINI5,), persona_styles=styles, cue_types=["explicit", "name"],
                        population={"name": "us_adults_gss2018", "n": 2, "method": "microdata"})
    store = ss.run(study, tmp_path / "run")
    long = ss.results(store.dir)
    assert len(long) == 2 * 4 * 2 * 5 and (long["status"] == "answered").all()
    combos = long.groupby("persona_id")[["persona_style", "cue_type"]].apply(
        lambda f: set(map(tuple, f.drop_duplicates().to_numpy())))
    assert all(c == {(s, q) for s in styles for q in ("explicit", "name")} for c in combos)
    named = long[long["cue_type"] == "name"]
    assert named["name"].notna().all() and long.loc[long["cue_type"] == "explicit", "name"].isna().all()
    assert (named.groupby("persona_id")["name"].nunique() == 1).all()       # one name per persona, every style
    # Item order is a persona-level factor: the same positions in every style and cue type.
    positions = long.groupby(["persona_id", "item_id"])["position"].nunique()
    assert (positions == 1).all()
    variants = store.variants()
    for row in variants.itertuples():
        template = (ROOT / "templates" / "personas" / f"{row.persona_style}.j2").read_text()
        assert ("First name" in row.persona_text or "named" in row.persona_text or "My name is" in row.persona_text
                ) == (row.cue_type == "name") or "first name" in row.persona_text
        assert template  # the style's template exists and was used (its text is in the manifest)
    manifest = store.manifest()
    assert [t["name"] for t in manifest["persona_templates"]] == styles
    assert manifest["name_cues"]["file"] == "first_names.yaml"
    wide = ss.results(store.dir, wide=True)
    assert len(wide) == 2 * 4 * 2 and {"persona_style", "cue_type", "name"} <= set(wide.columns)
