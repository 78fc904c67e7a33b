"""Persona effects end to end: a slice of Araujo & Roth's catalogue, its controls and the empty persona on both
embedded models (SmolLM2-135M instruct, Gemma 3 270M base), then `silicon-sample personas`."""

import json

import pandas as pd
import pytest
import yaml

import silicon_sample as ss

from support.studies import FIXTURES, cli, write_study

NEURO5 = str(FIXTURES / "neuro5.yaml")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("personas")
    spec = {"id": "persona_slice", "seed": 5,
            "population": {"name": "persona_behavior", "categories": ["gender", "ideology", "political_figure"],
                           "per_category": 3, "controls": 6},
            "persona_styles": ["role"], "instruments": [NEURO5],
            "models": [{"id": "smollm2-135m", "backend": "embedded", "answer_mode": "distribution"},
                       {"id": "gemma3-270m", "backend": "embedded", "model": "gemma3-270m",
                        "answer_mode": "distribution"}]}
    (folder / "study.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    done = cli("run", folder / "study.yaml", "--out", folder / "run", "--quiet")
    assert done.returncode == 0, done.stderr
    return folder / "run"


def test_both_embedded_models_answer_the_catalogue_slice(run):
    long = ss.results(run)
    assert set(long["model"]) == {"smollm2-135m", "gemma3-270m"}
    assert long["persona_id"].nunique() == 9 + 6 + 1 and len(long) == 16 * 5 * 2
    assert (long["status"] == "answered").all()
    manifest = json.loads((run / "manifest.json").read_text())
    formats = {name: model["prompt_format"] for name, model in manifest["models"].items()}
    assert formats["gemma3-270m"].startswith("transcript") and formats["smollm2-135m"].startswith("the GGUF file's")
    texts = ss.results(run, with_personas=True).drop_duplicates("persona_id").set_index("persona_id")["persona_text"]
    assert pd.isna(texts.loc["empty"]) or texts.loc["empty"] == ""          # the empty persona: no text at all
    assert texts.loc["Golda_Meir"] == "You are Golda Meir." if "Golda_Meir" in texts.index else True


def test_a_catalogue_run_is_shown_resumed_and_reported_like_any_run(run, tmp_path):
    shown = cli("show", run, "--persona", "empty", "--item", "N1", "--model", "gemma3-270m")
    assert shown.returncode == 0, shown.stderr
    assert "persona empty, style role" in shown.stdout and "Question" not in shown.stdout.split("--- user ---")[0]
    resumed = cli("resume", run, "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert len(ss.results(run)) == 16 * 5 * 2                         # nothing was pending, nothing added
    report = cli("report", run, "-o", tmp_path / "personas.html", "--bootstrap", "200")
    assert report.returncode == 0, report.stderr
    page = (tmp_path / "personas.html").read_text()
    assert "Persona effects beyond paraphrase noise" in page and "Kendall tau-b" in page
    assert "Within-subject tests among personas and among controls" in page and page.count("<img") >= 3


def test_personas_prints_the_tests_and_writes_every_table(run, tmp_path):
    done = cli("personas", run, "--bootstrap", "300", "-o", tmp_path / "tables")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "smollm2-135m: 9 personas in 3 categories, 6 control paraphrases, the empty persona" in out
    assert "gemma3-270m: 9 personas in 3 categories" in out
    assert "neuroticism: the personas vary" in out and "as much as the control paraphrases" in out
    assert "personas Friedman chi2" in out and "controls Friedman chi2" in out
    assert "Kendall tau-b" in out and "gemma3-270m vs smollm2-135m" in out
    written = {p.name for p in (tmp_path / "tables").iterdir()}
    assert written == {f"{t}.csv" for t in ("personas", "categories", "variation", "within_tests", "refusals",
                                            "agreement", "extremes")} | {"manifest.json"}
    manifest = json.loads((tmp_path / "tables" / "manifest.json").read_text())
    assert manifest["analysis"] == "personas" and manifest["settings"]["bootstrap"] == 300
    variation = pd.read_csv(tmp_path / "tables" / "variation.csv")
    same = ss.persona_effects(run, bootstrap=300)["variation"]
    pd.testing.assert_frame_equal(variation, same.reset_index(drop=True), check_dtype=False)
    overall = same.query("outcome == 'neuroticism' and category == 'all personas'")
    assert len(overall) == 2 and (overall["n_personas"] == 9).all() and (overall["n_controls"] == 6).all()
    tests = ss.persona_effects(run, bootstrap=300)["within_tests"].query("outcome == 'neuroticism'")
    assert set(tests["group"]) == {"personas", "controls"} and tests["n_blocks"].eq(5).all()


def test_personas_of_a_demographic_run_is_one_clear_line(tmp_path):
    study = write_study(tmp_path, n=2, instruments=(NEURO5,))
    assert cli("run", study, "--out", tmp_path / "run", "--quiet").returncode == 0
    done = cli("personas", tmp_path / "run")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "persona effects need a catalogue population with control personas" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
