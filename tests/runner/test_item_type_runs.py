"""Every item type run end to end: on the embedded model (one prompt per item, a battery holding every type,
a conversation), on a llama.cpp server (tools mode) and on the Ollama-protocol server (``format``), with the
tidy results, the summary and SPSS/Stata exports read back with pyreadstat."""

from __future__ import annotations

import sqlite3

import pyreadstat
import pytest
import yaml

import silicon_sample as ss
from silicon_sample.errors import SiliconSampleError
from silicon_sample.specs import instruments

from support.studies import FIXTURES, cli, write_study

pytestmark = pytest.mark.usefixtures("private_cache")
MIXED = FIXTURES / "mixed_types.yaml"
KINDS = {"therm_dem": "number", "race": "selection", "mip": "text", "childqual": "ranking", "housemaj": "code"}


def mixed_with_special(tmp_path):
    """The fixture with a "Don't know" special code on the thermometer (to see it carried as user-missing)."""
    spec = yaml.safe_load(MIXED.read_text())
    spec["items"][0]["special"] = [{"value": 998, "label": "Don't know"}]
    path = tmp_path / "mixed.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def assert_every_cell_valid_or_explained(long, instrument):
    """Every cell has a status; an answer satisfies its item's contract; anything else has its reason."""
    assert long["status"].isin(["answered", "refused", "invalid", "failed"]).all()
    assert long.loc[long["status"] != "answered", "reason"].notna().all()
    for _, cell in long[long["status"] == "answered"].iterrows():
        item = instrument.item(cell["item_id"])
        question = instrument.question_of(item)
        value = cell["answer_value"]
        if question is None:
            assert value in instrument.scale_of(item).values
        else:
            assert question.check(list(value) if isinstance(value, tuple) else value) is not None


@pytest.mark.slow
def test_every_type_runs_on_the_embedded_model_into_tidy_results_summary_and_labelled_exports(tmp_path):
    path = mixed_with_special(tmp_path)
    study = write_study(tmp_path, n=3, mode="sample", instruments=(str(path),), temperature=0.7)
    store = ss.run(study, tmp_path / "run", progress=False)
    long = ss.results(store.dir)
    instrument = instruments.load(path)
    assert len(long) == 15
    assert_every_cell_valid_or_explained(long, instrument)
    assert (long["status"] == "answered").sum() >= 10      # the grammar holds the model to each contract
    answered = long[long["status"] == "answered"]
    assert {k for k, _ in answered.groupby("item_id")} <= set(KINDS)
    therm = answered[answered["item_id"] == "therm_dem"]
    assert therm["answer"].dtype == "Float64" and therm["answer"].between(0, 998).all()
    text = answered[answered["item_id"] == "mip"]
    assert (text["answer_text"].str.len() <= 200).all() and text["answer"].isna().all()
    chosen = answered[answered["item_id"].isin(["race", "childqual"])]
    assert chosen["selected"].str.fullmatch(r"\d(;\d)*").all()

    wide = ss.results(store.dir, wide=True)
    for code in range(1, 7):
        got = wide[f"race_{code}"]
        race = long[long["item_id"] == "race"].set_index("persona_id")
        for persona, value in got.items():
            cell = race.loc[wide.loc[persona, "persona_id"]]
            expected = float(code in cell["answer_value"]) if cell["status"] == "answered" else None
            assert (value == expected) if expected is not None else value != value
    ranked = [c for c in wide.columns if c.startswith("childqual_rank_")]
    assert len(ranked) == 5 and (wide[ranked].notna().sum(axis=1).isin([0, 3])).all()     # top 3 of 5
    housemaj = long[long["item_id"] == "housemaj"].set_index("persona_id")
    for _, row in wide.iterrows():
        cell = housemaj.loc[row["persona_id"]]
        if cell["status"] == "answered":          # the knowledge scale: proportion correct
            assert row["knowledge"] == float(cell["answer_value"] == 2)

    summary = (store.dir / "summary.md").read_text()
    for section in ("## Items", "## Knowledge items", "## Check-all-that-apply items", "## Rank items",
                    "## Open-ended items"):
        assert section in summary

    ss.export(store.dir, tmp_path / "wide.sav", wide=True)
    data, meta = pyreadstat.read_sav(tmp_path / "wide.sav", user_missing=True)
    assert meta.variable_value_labels["therm_dem"] == {50.0: "the 50 degree mark", 998.0: "Don't know"}
    assert meta.missing_ranges["therm_dem"] == [{"lo": 998.0, "hi": 998.0}]
    assert meta.variable_measure["therm_dem"] == "scale" and meta.variable_measure["race_1"] == "nominal"
    assert meta.column_names_to_labels["race_2"].endswith("— Black or African-American")
    assert meta.variable_value_labels["race_2"] == {0.0: "not selected", 1.0: "selected"}
    assert meta.readstat_variable_types["mip"] == "string"
    ss.export(store.dir, tmp_path / "wide.dta", wide=True)
    stata, _ = pyreadstat.read_dta(tmp_path / "wide.dta")
    assert list(stata["therm_dem"].dropna()) == list(data["therm_dem"].dropna())
    book = ss.codebook(store.dir, wide=True)
    assert "multiple-response set race" in book.set_index("column").loc["race_1", "note"]


@pytest.mark.slow
def test_a_battery_and_a_conversation_carry_every_type_on_the_embedded_model(tmp_path):
    for presentation in ("battery", "conversation"):
        study = write_study(tmp_path / presentation, n=1, mode="sample", instruments=(str(MIXED),),
                            temperature=0.7, presentation={"mixed_types": presentation})
        store = ss.run(study, tmp_path / presentation / "run", progress=False)
        long = ss.results(store.dir)
        assert len(long) == 5 and set(long["presentation"]) == {presentation}
        assert_every_cell_valid_or_explained(long, instruments.load(MIXED))
        assert (long["status"] == "answered").sum() >= 3


def test_distribution_mode_is_refused_for_these_types_before_anything_is_written(tmp_path):
    study = write_study(tmp_path, n=2, mode="distribution", instruments=(str(MIXED),))
    with pytest.raises(SiliconSampleError) as caught:
        ss.run(study, tmp_path / "run", progress=False)
    assert "cannot read a distribution over the answers of a" in str(caught.value)
    assert "answer_mode: sample" in str(caught.value)
    assert not (tmp_path / "run").exists()
    done = cli("run", study, "--out", tmp_path / "run2")
    assert done.returncode != 0 and "Traceback" not in done.stderr and "answer_mode: sample" in done.stderr


@pytest.mark.slow
def test_every_type_through_a_llama_cpp_server_the_batch_api_and_the_ollama_protocol_server(
        tmp_path, llama_server, ollama_server):
    from support.servers import BatchServer

    instrument = instruments.load(MIXED)
    batch = BatchServer(tmp_path / "batch_server.log", upstream=llama_server.base_url)
    try:
        _every_type_through(tmp_path, instrument, (
            ("openai", {"backend": "openai", "model": llama_server.alias,
                        "options": {"base_url": llama_server.base_url}}),
            ("batch", {"backend": "openai_batch", "model": llama_server.alias,
                       "options": {"base_url": batch.base_url, "poll_interval": 0.05}}),
            ("ollama", {"backend": "ollama", "model": ollama_server.alias, "options": {"host": ollama_server.host}})))
    finally:
        batch.stop()


def _every_type_through(tmp_path, instrument, models):
    for name, model in models:
        study = write_study(tmp_path / name, n=1, instruments=(str(MIXED),), models=[
            {"id": name, "answer_mode": "sample", "temperature": 0.7, **model}])
        store = ss.run(study, tmp_path / name / "run", progress=False)
        long = ss.results(store.dir)
        assert len(long) == 5
        assert_every_cell_valid_or_explained(long, instrument)
        assert (long["status"] == "answered").sum() >= 3, long[["item_id", "status", "reason"]]


@pytest.mark.slow
def test_distribution_mode_reads_numeric_and_check_all_items_in_every_presentation(tmp_path):
    """The embedded model reads a thermometer over its values and a check-all item over its selections alone,
    inside a battery's object and in a conversation, whose later turns keep each answer as written."""
    import json

    spec = yaml.safe_load(MIXED.read_text())
    spec["items"] = [i for i in spec["items"] if i["type"] in ("numeric", "multiple", "knowledge")]
    path = tmp_path / "readable.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    for presentation in ("independent", "battery", "conversation"):
        study = write_study(tmp_path / presentation, n=1, mode="distribution", instruments=(str(path),),
                            item_order="fixed", presentation={"mixed_types": presentation})
        store = ss.run(study, tmp_path / presentation / "run", progress=False)
        long = ss.results(store.dir).set_index("item_id")
        assert (long["status"] == "answered").all(), presentation
        therm, race = long.loc["therm_dem"], long.loc["race"]
        assert 0 <= therm["answer"] <= 100 and len(race["answer_value"]) >= 1
        stored = json.loads(sqlite3.connect(store.dir / "responses.sqlite").execute(
            "SELECT probabilities FROM responses WHERE cell_id = ?", (race["cell_id"],)).fetchone()[0])
        assert sorted(map(int, stored)) == [1, 2, 3, 4, 5, 6] and sum(stored.values()) >= 1 - 1e-9
        if presentation == "conversation":
            last = ss.show(store.dir, cell=long.loc["housemaj", "cell_id"])[0]["messages"]
            turns = [m["content"] for m in last if m["role"] == "assistant"]
            assert turns == [f"Answer: {int(therm['answer'])}", f"Answer: {json.dumps(list(race['answer_value']))}"]
