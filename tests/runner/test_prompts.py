"""The exact prompt of a cell: `show` prints the messages the server received for that cell, its answer and
status; a dry run prints one example per persona style × cue type."""

from __future__ import annotations

import json

import pytest

import silicon_sample as ss
from silicon_sample.throughput.loopback import LoopbackServer

from support.studies import MINI5, cli, write_study


@pytest.fixture(scope="module")
def recorded_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prompts")
    with LoopbackServer(delay=0.0, record=True) as server:
        study = write_study(folder, n=3, instruments=(MINI5,), persona_styles=["profile_list", "third_person_bio"],
                            models=[{"id": "lb", "backend": "openai", "model": "loopback",
                                     "options": {"base_url": server.url, "concurrency": 1}}])
        ss.run(study, folder / "run", fresh=True)
        return folder / "run", study, server.recorded


def test_show_gives_the_messages_the_server_received_for_that_cell_and_its_answer(recorded_run):
    run, _, recorded = recorded_run
    results = ss.results(run)
    sent = {json.dumps(body["messages"], sort_keys=True) for body in recorded}
    assert len(sent) == len(results)                        # every cell's messages differ (persona × item × style)
    for row in results.sample(8, random_state=1).itertuples():
        [entry] = ss.show(run, cell=row.cell_id)
        assert json.dumps(entry["messages"], sort_keys=True) in sent
        assert entry["response"]["value"] == row.answer and entry["response"]["status"] == row.status
        assert entry["seed"] == row.seed and entry["item_id"] == row.item_id


def test_show_by_persona_and_item_lists_each_style_and_the_command_prints_it(recorded_run):
    run, _, _ = recorded_run
    entries = ss.show(run, persona="P001", item="A2")
    assert sorted(e["persona_style"] for e in entries) == ["profile_list", "third_person_bio"]
    result = cli("show", run, "--persona", "P001", "--item", "A2", "--style", "third_person_bio")
    assert result.returncode == 0, result.stderr
    assert "--- system ---" in result.stdout and "Inquire about others' well-being." in result.stdout
    assert "--- response ---" in result.stdout and "P(option):" in result.stdout
    missing = cli("show", run, "--persona", "P001", "--item", "Z9")
    assert missing.returncode == 2 and "no cell of this run has persona P001, item Z9" in missing.stderr


def test_a_dry_run_prints_one_example_prompt_per_style_and_cue_type_equal_to_what_the_run_sends(recorded_run):
    run, study, recorded = recorded_run
    examples = ss.example_prompts(study)
    assert [(e["persona_style"], e["cue_type"]) for e in examples] == [("profile_list", "explicit"),
                                                                       ("third_person_bio", "explicit")]
    sent = {json.dumps(body["messages"], sort_keys=True) for body in recorded}
    assert all(json.dumps(e["messages"], sort_keys=True) in sent for e in examples)
    result = cli("run", study, "--dry-run")
    assert result.returncode == 0 and result.stdout.count("example prompt") == 3     # the heading and two
