"""Qualtrics import: Likert matrices and single-choice questions become an instrument that loads and runs;
everything else is reported as skipped with its reason; survey-flow order; reverse-keying from recodes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import silicon_sample as ss

from support.studies import cli, write_study

QSF = Path(__file__).resolve().parents[1] / "fixtures" / "qsf"


def test_a_survey_with_matrices_is_imported_in_flow_order_with_reasons_for_every_question_left_out(tmp_path):
    result = cli("import-qsf", QSF / "social_trust.qsf", "-o", tmp_path / "trust.yaml")
    assert result.returncode == 0, result.stderr
    spec = yaml.safe_load((tmp_path / "trust.yaml").read_text())
    # the flow puts block 2 (interest …) before block 1 (the matrices); the trashed question is left out
    assert [i["id"] for i in spec["items"]] == ["interest", "media", "comment", "trust_1", "trust_2", "trust_3",
                                                "cynic_1", "cynic_2"]
    assert spec["instructions"] == "How much do you agree with each statement?"          # HTML removed
    assert [o["label"] for o in spec["response_scale"]["options"]][0] == "Strongly disagree"
    assert spec["items"][0]["text"] == "How interested are you in politics?"                 # &nbsp; removed
    assert [o["value"] for o in spec["items"][0]["response_scale"]["options"]] == [1, 2, 3, 4]
    assert [i.get("reverse", False) for i in spec["items"]] == [False, False, False, False, False, False, True, True]
    assert [spec["items"][1]["type"], spec["items"][2]["type"]] == ["multiple", "text"]
    assert set(spec["scoring"]["scales"]) == {"trust", "cynic"}
    for reason in ("QID7 (party): a choice with a text entry field", "QID6 (intro): descriptive text",
                   "QID1 (trust), statement 4: a statement with a text entry field"):
        assert f"skipped: {reason}" in result.stdout
    assert "old" not in result.stdout and "reverse-keyed: cynic_1, cynic_2" in result.stdout
    instrument = ss.load_instrument(tmp_path / "trust.yaml")
    assert instrument.keys()["cynic"] == ["-cynic_1", "-cynic_2"]


def test_display_logic_is_reported_as_skipped_and_recodes_become_the_codes(tmp_path):
    result = cli("import-qsf", QSF / "election_display_logic.qsf", "-o", tmp_path / "election.yaml")
    assert result.returncode == 0, result.stderr
    assert "skipped: QID2 (vote_choice): display logic (shown only to some respondents)" in result.stdout
    spec = yaml.safe_load((tmp_path / "election.yaml").read_text())
    assert [i["id"] for i in spec["items"]] == ["voted", "satisfaction"]
    voted = spec["response_scale"]["options"]        # the recodes Yes = 1, No = 0, in the order shown
    assert [(o["value"], o["label"]) for o in voted] == [(1, "Yes"), (0, "No")]


def test_an_imported_instrument_runs_in_a_study(tmp_path):
    from silicon_sample.throughput.loopback import LoopbackServer

    assert cli("import-qsf", QSF / "social_trust.qsf", "-o", tmp_path / "trust.yaml").returncode == 0
    with LoopbackServer(delay=0.0) as server:
        study = write_study(tmp_path, n=3, instruments=(str(tmp_path / "trust.yaml"),), models=[{
            "id": "lb", "backend": "openai", "model": "loopback", "answer_mode": "sample",
            "options": {"base_url": server.url}}])
        store = ss.run(study, tmp_path / "run", fresh=True, progress=False)
    results = ss.results(store.dir)
    assert len(results) == 24 and (results["status"] == "answered").all()
    chosen = results.loc[results["item_id"] == "media", "answer_value"]          # a tuple of codes, maybe empty
    assert all(set(codes) <= {1, 2, 3} for codes in chosen)
    interest = results[results["item_id"] == "interest"]["answer"]
    assert interest.between(1, 4).all()


@pytest.mark.parametrize("content, message", [
    ("not json", "not a QSF file: it is not JSON"),
    ('{"SurveyEntry": {}}', "not a Qualtrics survey: no SurveyElements"),
    ('{"SurveyElements": []}', "no question could be imported"),
])
def test_a_file_that_is_not_an_importable_survey_is_one_line_and_nothing_is_written(tmp_path, content, message):
    (tmp_path / "bad.qsf").write_text(content)
    result = cli("import-qsf", tmp_path / "bad.qsf", "-o", tmp_path / "out.yaml")
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.yaml").exists()


def test_an_existing_instrument_file_is_not_overwritten_without_force(tmp_path):
    (tmp_path / "out.yaml").write_text("mine\n")
    result = cli("import-qsf", QSF / "social_trust.qsf", "-o", tmp_path / "out.yaml")
    assert result.returncode == 2 and "the output file exists" in result.stderr
    assert (tmp_path / "out.yaml").read_text() == "mine\n"


def test_sliders_multiple_answers_text_entry_and_rank_order_are_imported_as_their_types(tmp_path):
    """A survey written for this test from the QSF format: each question type Qualtrics exports, and the ones
    still left out with why."""
    result = cli("import-qsf", QSF / "question_types.qsf", "-o", tmp_path / "types.yaml")
    assert result.returncode == 0, result.stderr
    spec = yaml.safe_load((tmp_path / "types.yaml").read_text())
    items = {i["id"]: i for i in spec["items"]}
    assert list(items) == ["therm_dem", "therm_gop", "lifesat", "media", "mip", "childqual", "housemaj"]
    therm = items["therm_dem"]
    assert (therm["type"], therm["min"], therm["max"], "step" in therm) == ("numeric", 0, 100, False)
    assert therm["anchors"] == [{"value": 0, "label": "Very cold"}, {"value": 100, "label": "Very warm"}]
    assert therm["text"].endswith("— The Democratic Party") and "&id" not in (tmp_path / "types.yaml").read_text()
    assert items["lifesat"]["step"] == 1 and items["lifesat"]["max"] == 10            # snapped to its grid
    media = items["media"]
    assert media["type"] == "multiple" and media["min_selected"] == 1
    assert [o.get("exclusive", False) for o in media["response_scale"]["options"]] == [False, False, False, True]
    assert items["mip"]["type"] == "text" and items["childqual"]["type"] == "rank"
    assert [o["value"] for o in spec["response_scale"]["options"]] == [1, 2]        # the single-choice item's
    for reason in ("QID6 (budget): constant sum", "QID7 (sbs): side by side", "QID8 (form): a text entry form"):
        assert f"skipped: {reason}" in result.stdout
    instrument = ss.load_instrument(tmp_path / "types.yaml")
    assert instrument.question_of("media").exclusive == (4,) and instrument.question_of("childqual").n_ranked == 3
