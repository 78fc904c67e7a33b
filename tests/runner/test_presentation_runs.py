"""Batteries and conversations run end to end: on the embedded model, a llama.cpp server and the Ollama-protocol
server, with resume continuing a conversation exactly where it stopped."""

import json
import shutil
import sqlite3

import numpy as np
import pytest
import yaml

import silicon_sample as ss

from support.studies import MINI5, openai_study, write_study

pytestmark = pytest.mark.usefixtures("private_cache")
BLOCKS = [{"id": "first", "items": ["A2", "C4"]}, {"id": "second", "items": ["E4", "N1", "O1"]}]


def presented(study, presentation):
    """``study`` (a file) with the mini5 instrument presented as ``presentation``."""
    spec = yaml.safe_load(study.read_text())
    study.write_text(yaml.safe_dump({**spec, "presentation": {"mini5": presentation}}))
    return study


def mini_study(tmp_path, mode, presentation, n=2, **extra):
    return write_study(tmp_path, n=n, mode=mode, instruments=(MINI5,), temperature=0.7,
                       presentation={"mini5": presentation}, **extra)


def test_a_conversation_carries_every_earlier_question_and_answer_and_resumes_where_it_stopped(tmp_path):
    store = ss.run(mini_study(tmp_path, "distribution", "conversation"), tmp_path / "run", progress=False)
    long = ss.results(store.dir)
    assert len(long) == 10 and (long["status"] == "answered").all() and set(long["presentation"]) == {"conversation"}
    persona = long[long["persona_id"] == long["persona_id"].iloc[0]].sort_values("position")
    for _, cell in persona.iterrows():
        shown = ss.show(store.dir, cell=cell["cell_id"])[0]
        messages = shown["messages"]
        k = int(cell["position"])
        assert len(messages) == 2 * k                                   # system, k - 1 exchanges, the question
        earlier = persona[persona["position"] < k]
        assert [m["content"] for m in messages if m["role"] == "assistant"] == \
            [f"Answer: {int(a)}" for a in earlier["answer"]]              # the answers the run stored
    # a crash after the second answer of one persona: resume continues the chat and gives the same answers
    copy = tmp_path / "copy"
    shutil.copytree(store.dir, copy)
    cut = persona[persona["position"] > 2]["cell_id"].tolist()
    with sqlite3.connect(copy / "responses.sqlite") as db:
        db.executemany("DELETE FROM responses WHERE cell_id = ?", [(c,) for c in cut])
    resumed = ss.results(ss.resume(copy, progress=False).dir)
    assert resumed[["cell_id", "answer"]].equals(long[["cell_id", "answer"]])
    assert np.allclose(resumed["p_3"], long["p_3"])


def test_a_sample_mode_conversation_keeps_the_json_the_model_wrote_as_its_turns(tmp_path):
    blocks = {"mode": "conversation", "blocks": BLOCKS, "block_order": "fixed"}
    store = ss.run(mini_study(tmp_path, "sample", blocks, n=1), tmp_path / "run", progress=False)
    long = ss.results(store.dir).sort_values("position")
    assert (long["status"] == "answered").all()
    assert long["block"].tolist() == ["first"] * 2 + ["second"] * 3          # declared order kept
    last = ss.show(store.dir, cell=long["cell_id"].iloc[-1])[0]["messages"]
    assert [m["content"] for m in last if m["role"] == "assistant"] == long["raw_output"].iloc[:-1].tolist()
    assert all(json.loads(t)["answer"] == a for t, a in zip(long["raw_output"], long["answer"]))


@pytest.mark.parametrize("mode", ["distribution", "sample"])
def test_a_battery_is_one_call_per_block_answered_field_by_field(tmp_path, mode):
    store = ss.run(mini_study(tmp_path, mode, {"mode": "battery", "blocks": BLOCKS}), tmp_path / "run",
                   progress=False)
    long = ss.results(store.dir)
    assert len(long) == 10 and (long["status"] == "answered").all()
    assert (long["prompt_tokens"] > 0).sum() == 2 * 2                   # one call per block and persona
    for _, rows in long.groupby(["persona_id", "block"]):
        rows = rows.sort_values("block_position")
        objects = rows["raw_output"].str.split(" (next-token", regex=False).str[0]
        assert objects.nunique() == 1                                    # the one object of the block
        fields = json.loads(objects.iloc[0])
        assert list(fields) == [f"q{k}" for k in range(1, len(rows) + 1)]
        assert [fields[f"q{k}"] for k in rows["block_position"]] == rows["answer"].tolist()
    if mode == "distribution":      # each item keeps its own distribution, read inside the object
        p = long[[f"p_{k}" for k in range(1, 7)]].to_numpy()
        assert np.allclose(p.sum(axis=1), 1) and (long["option_mass"] > 0.2).all()


@pytest.mark.slow
def test_in_sample_mode_the_model_may_write_dont_know_and_the_cell_is_stored_without_an_answer(tmp_path):
    """Sample mode writes the answer under a grammar that admits the Don't-know code (8): a cell that chose it is
    stored as ``dont_know`` with no answer, which the comparisons read as missing
    (tests/comparison/test_missing_answers.py compares such a run in distribution mode)."""
    store = ss.run(mini_study(tmp_path, "sample", "independent", n=4, perturbations=["dont_know"]), tmp_path / "run",
                   progress=False)
    long = ss.results(store.dir)
    assert len(long) == 20 and set(long["status"]) == {"answered", "dont_know"}      # seed 7: 10 of each
    chosen = long[long["status"] == "dont_know"]
    assert chosen["answer"].isna().all() and chosen["reason"].str.contains("Don't know").all()
    assert long.loc[long["status"] == "answered", "answer"].between(1, 6).all()
    assert "8 = Don't know" in ss.show(store.dir, cell=chosen["cell_id"].iloc[0])[0]["messages"][0]["content"]


@pytest.mark.slow
def test_perturbations_record_dont_know_and_reversed_scales_on_the_embedded_model(tmp_path):
    store = ss.run(mini_study(tmp_path, "distribution", "independent", n=3,
                              perturbations=["original", "options_reversed", "dont_know"]), tmp_path / "run",
                   progress=False)
    long = ss.results(store.dir)
    assert long.groupby("perturbation").size().to_dict() == {"dont_know": 15, "options_reversed": 15, "original": 15}
    dont_know = long[long["perturbation"] == "dont_know"]
    assert dont_know["p_8"].notna().all() and long.loc[long["perturbation"] != "dont_know", "p_8"].isna().all()
    chosen = dont_know[dont_know["status"] == "dont_know"]
    assert chosen["answer"].isna().all() and chosen["reason"].str.contains("Don't know").all()
    shown = ss.show(store.dir, cell=long[long["perturbation"] == "options_reversed"]["cell_id"].iloc[0])[0]
    assert "6 = Very Accurate\n5 = Moderately Accurate" in shown["messages"][0]["content"]


@pytest.mark.slow
def test_openai_server_answers_batteries_and_conversations_and_refuses_battery_distributions(tmp_path, llama_server):
    study = presented(openai_study(tmp_path / "battery", llama_server, "sample"), {"mode": "battery",
                                                                                   "blocks": BLOCKS})
    long = ss.results(ss.run(study, tmp_path / "battery" / "run", progress=False).dir)
    assert len(long) == 10 and set(long["status"]) <= {"answered", "invalid", "refused"}
    assert (long["status"] == "answered").sum() >= 6
    assert long.groupby(["persona_id", "block"])["raw_output"].nunique().eq(1).all()     # one reply per block
    study = presented(openai_study(tmp_path / "conversation", llama_server, "distribution"), "conversation")
    store = ss.run(study, tmp_path / "conversation" / "run", progress=False)
    long = ss.results(store.dir)
    assert len(long) == 10 and (long["status"] == "answered").sum() >= 8
    last = long[long["position"] == 5].iloc[0]
    messages = ss.show(store.dir, cell=last["cell_id"])[0]["messages"]
    assert [m["role"] for m in messages] == ["system"] + ["user", "assistant"] * 4 + ["user"]
    refused = presented(openai_study(tmp_path / "refused", llama_server, "distribution"), "battery")
    with pytest.raises(ss.BackendError, match="cannot read a battery in distribution mode"):
        ss.run(refused, tmp_path / "refused" / "run", progress=False)
    assert not (tmp_path / "refused" / "run").exists()


def test_ollama_server_answers_a_battery_with_the_object_schema_as_format(tmp_path, ollama_server):
    model = {"id": "ollama", "backend": "ollama", "model": ollama_server.alias, "answer_mode": "sample",
             "temperature": 0.7, "options": {"host": ollama_server.host}}
    study = mini_study(tmp_path, "sample", {"mode": "battery", "blocks": BLOCKS}, models=[model])
    long = ss.results(ss.run(study, tmp_path / "run", progress=False).dir)
    assert len(long) == 10 and (long["status"] == "answered").all()     # the grammar admits only valid objects
    assert long.groupby(["persona_id", "block"])["raw_output"].nunique().eq(1).all()


@pytest.mark.slow
def test_ollama_server_holds_a_conversation_read_as_distributions(tmp_path, ollama_server):
    model = {"id": "ollama", "backend": "ollama", "model": ollama_server.alias, "answer_mode": "distribution",
             "temperature": 0.7, "options": {"host": ollama_server.host}}
    store = ss.run(mini_study(tmp_path, "distribution", "conversation", models=[model]), tmp_path / "run",
                   progress=False)
    long = ss.results(store.dir)
    assert len(long) == 10 and (long["status"] == "answered").sum() >= 8
    last = long[long["position"] == 5].iloc[0]
    messages = ss.show(store.dir, cell=last["cell_id"])[0]["messages"]
    earlier = long[(long["persona_id"] == last["persona_id"]) & (long["position"] < 5)].sort_values("position")
    assert [m["content"] for m in messages if m["role"] == "assistant"] == \
        [f"Answer: {int(a)}" for a in earlier["answer"].dropna()]
